import type { FrameHeard, VoiceActivityDetector } from '../media/voice-activity.js';
import { BargeInPolicy, type BargeInOptions, type BargeInVerdict } from './barge-in.js';

export type Cut = Extract<BargeInVerdict, { action: 'cut' }>;

export interface BargeInListenerOptions extends BargeInOptions {
  vad: VoiceActivityDetector;
  /** Each time the agent was spoken over and carried on (noise, a backchannel), for the timeline. */
  carriedOn(verdict: Extract<BargeInVerdict, { action: 'carry-on' }>): void;
  /** The agent must stop now: a verdict on a caller frame, once the VAD has heard that frame. */
  cut(verdict: Cut): void;
}

/**
 * The bridge's ears for barge-in, for every engine: our VAD on each caller frame, and the barge-in policy
 * on what it hears while the agent talks and on the callee's words. The engines are configured not to
 * cut themselves off (OpenAI `interrupt_response: false`, Gemini `NO_INTERRUPTION`), so this is the one
 * place that decides. The VAD hears a frame a moment after it came (Silero runs in a worker thread), and
 * the policy judges it then with what was true when it came (the agent talking or not), so verdicts land
 * on the same frame, in media time, as with a detector in this thread. A verdict on a frame goes to
 * `cut`; the words' methods return theirs.
 */
export class BargeInListener {
  private readonly policy: BargeInPolicy;

  constructor(private readonly o: BargeInListenerOptions) {
    this.policy = new BargeInPolicy(o);
  }

  /** One caller frame (PCM16 8 kHz), and whether agent audio is playing or being generated. */
  hear(pcm8k: Int16Array, agentTalking: boolean): void {
    // A closed detector hears nothing more: nothing is queued for it (frames still come until the stream ends).
    if (this.closed) return;
    // The detector hears frames in the order pushed, so what was true at each frame waits in a ring and
    // one callback serves every frame (a closure per frame was 50 allocations a second per call).
    if (this.tail - this.head === this.talking.length) this.growRing();
    this.talking[this.tail++ & (this.talking.length - 1)] = agentTalking ? 1 : 0;
    this.o.vad.pushFrame(pcm8k, this.heard);
  }

  /** Whether the agent was talking at each frame pushed and not yet heard: [head, tail), a power-of-two ring. */
  private talking = new Uint8Array(64);
  private head = 0;
  private tail = 0;
  private closed = false;

  private readonly heard: FrameHeard = (_change, speaking) => {
    // A detector hears each frame pushed once; nothing queued (never expected) reads as the agent silent.
    const agentTalking = this.head < this.tail && this.talking[this.head++ & (this.talking.length - 1)] === 1;
    if (this.head === this.tail) this.head = this.tail = 0;
    const cut = this.decide(this.policy.frame(speaking, agentTalking, this.o.vad.onsetMs));
    if (cut) this.o.cut(cut);
  };

  /** Frames in flight filled the ring (a worker answering late): the same flags, in order, in one twice the size. */
  private growRing(): void {
    const bigger = new Uint8Array(this.talking.length * 2);
    const mask = this.talking.length - 1;
    for (let i = this.head; i < this.tail; i++) bigger[i - this.head] = this.talking[i & mask];
    this.tail -= this.head;
    this.head = 0;
    this.talking = bigger;
  }

  /** Resolves once every frame heard so far has been judged (tests). */
  drain(): Promise<void> {
    return this.o.vad.drain();
  }

  /** The engine's final transcript of a callee utterance. */
  words(text: string): Cut | undefined {
    return this.decide(this.policy.transcript(text));
  }

  /** A fragment of the callee's words before the final transcript. */
  interimWords(fragment: string): Cut | undefined {
    return this.decide(this.policy.interimWords(fragment));
  }

  close(): void {
    this.closed = true;
    this.o.vad.close();
  }

  private decide(v: BargeInVerdict | undefined): Cut | undefined {
    if (!v) return undefined;
    if (v.action === 'cut') return v;
    this.o.carriedOn(v);
    return undefined;
  }
}
