import type { VoiceActivityDetector } from '../media/voice-activity.js';
import { BargeInPolicy, type BargeInOptions, type BargeInVerdict } from './barge-in.js';

export type Cut = Extract<BargeInVerdict, { action: 'cut' }>;

export interface BargeInListenerOptions extends BargeInOptions {
  vad: VoiceActivityDetector;
  /** Each time the agent was spoken over and carried on (noise, a backchannel), for the timeline. */
  carriedOn(verdict: Extract<BargeInVerdict, { action: 'carry-on' }>): void;
}

/**
 * The bridge's ears for barge-in, for every engine: our VAD on each caller frame, and the barge-in policy
 * on what it hears while the agent talks and on the callee's words. The engines are configured not to
 * cut themselves off (OpenAI `interrupt_response: false`, Gemini `NO_INTERRUPTION`), so this is the one
 * place that decides. Each method returns the verdict when the agent must stop now.
 */
export class BargeInListener {
  private readonly policy: BargeInPolicy;

  constructor(private readonly o: BargeInListenerOptions) {
    this.policy = new BargeInPolicy(o);
  }

  /** One caller frame (PCM16 8 kHz), and whether agent audio is playing or being generated. */
  hear(pcm8k: Int16Array, agentTalking: boolean): Cut | undefined {
    this.o.vad.pushPcm(pcm8k);
    return this.decide(this.policy.frame(this.o.vad.speaking, agentTalking, this.o.vad.onsetMs));
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
