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
    // The detector hears frames in the order pushed, so what was true at each frame waits in a queue and
    // one callback serves every frame (a closure per frame was 50 allocations a second per call).
    this.talking.push(agentTalking);
    this.o.vad.pushFrame(pcm8k, this.heard);
  }

  /** Whether the agent was talking at each frame pushed and not yet heard, oldest at `talkingHead`. */
  private readonly talking: boolean[] = [];
  private talkingHead = 0;

  private readonly heard: FrameHeard = (_change, speaking) => {
    const agentTalking = this.talking[this.talkingHead++] ?? false;
    if (this.talkingHead === this.talking.length) {
      this.talking.length = 0;
      this.talkingHead = 0;
    } else if (this.talkingHead >= 256) {
      this.talking.splice(0, this.talkingHead);
      this.talkingHead = 0;
    }
    const cut = this.decide(this.policy.frame(speaking, agentTalking, this.o.vad.onsetMs));
    if (cut) this.o.cut(cut);
  };

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
    this.o.vad.close();
  }

  private decide(v: BargeInVerdict | undefined): Cut | undefined {
    if (!v) return undefined;
    if (v.action === 'cut') return v;
    this.o.carriedOn(v);
    return undefined;
  }
}
