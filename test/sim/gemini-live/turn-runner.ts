/**
 * Streams the content of one scripted model turn: 24 kHz audio chunks with the transcription words that
 * start in each chunk. What follows the content (toolCall, generationComplete, turnComplete) is the
 * dialogue's business; keeping it out of here lets a tool-call continuation reuse the same runner.
 */
import { OUTPUT_MIME, OUTPUT_RATE, pcm16ToBase64, synthVoice } from './audio.js';
import { Pacer, type Pacing } from '../shared/pacer.js';
import type { ServerMessage } from './protocol.js';
import type { TurnRecord } from './types.js';

export type Fault = 'drop' | 'fatal';

export interface TurnHost {
  /** False when the message could not go out (socket closing): the runner then stops. */
  send(msg: ServerMessage): boolean;
  /** Called at the fault point; the host kills the socket. The runner stops on its own. */
  injectFault(fault: Fault): void;
  /** Output audio bookkeeping for usage. */
  onAudioSent(ms: number): void;
}

export interface TurnSpec {
  text: string;
  record: TurnRecord;
  pacing: Pacing;
  deltaMs: number;
  msPerChar: number;
  /** Send outputTranscription messages (setup.outputAudioTranscription); the record keeps the text anyway. */
  transcribe: boolean;
  pitchHz: number;
  /** Strikes at the middle chunk, or before anything when the turn has no audio. */
  fault?: Fault;
}

const SAMPLES_PER_MS = OUTPUT_RATE / 1000;

/** Splits after whitespace so the pieces concatenate back to the exact text. */
export function splitWords(text: string): string[] {
  return text.split(/(?<=\s)(?=\S)/).filter((w) => w.length > 0);
}

export class TurnRunner {
  private state: 'running' | 'finished' | 'aborted' = 'running';
  private readonly pacer: Pacer;

  constructor(
    private readonly host: TurnHost,
    private readonly spec: TurnSpec,
  ) {
    this.pacer = new Pacer(spec.pacing);
  }

  get record(): TurnRecord {
    return this.spec.record;
  }

  /** Resolves true when all content went out, false when aborted or faulted part-way. */
  async run(): Promise<boolean> {
    const { text, deltaMs, record } = this.spec;
    const totalSamples = Math.round(text.length * this.spec.msPerChar) * SAMPLES_PER_MS;
    const chunkSamples = Math.max(1, Math.round(deltaMs * SAMPLES_PER_MS));
    const chunks = Math.ceil(totalSamples / chunkSamples);
    if (chunks === 0 && this.spec.fault) return this.fault(this.spec.fault);
    const words = splitWords(text);
    const totalMs = totalSamples / SAMPLES_PER_MS;
    let wordIdx = 0;
    let wordChars = 0;
    let sent = 0;
    for (let k = 0; k < chunks; k++) {
      await this.pacer.until(k * deltaMs);
      if (this.state !== 'running') return false;
      if (this.spec.fault && k === Math.floor(chunks / 2)) return this.fault(this.spec.fault);
      // A word goes out with the chunk it starts in, so the transcript runs slightly ahead of the audio as with the real model.
      const chunkEndMs = (k + 1) * deltaMs;
      while (wordIdx < words.length && (wordChars / text.length) * totalMs < chunkEndMs) {
        this.sendWord(words[wordIdx]);
        wordChars += words[wordIdx].length;
        wordIdx++;
      }
      const count = Math.min(chunkSamples, totalSamples - sent);
      const pcm = synthVoice(sent, count, this.spec.pitchHz);
      const data = pcm16ToBase64(pcm);
      if (!this.host.send({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: OUTPUT_MIME, data } }] } } })) {
        // The socket is going away: the record keeps only what really went out.
        this.state = 'aborted';
        return false;
      }
      sent += count;
      record.audioMsSent = sent / SAMPLES_PER_MS;
      this.host.onAudioSent(count / SAMPLES_PER_MS);
    }
    for (; wordIdx < words.length; wordIdx++) this.sendWord(words[wordIdx]);
    this.state = 'finished';
    return true;
  }

  /** Stops the stream; the dialogue decides what the record says. */
  abort(): void {
    if (this.state === 'running') this.state = 'aborted';
    this.pacer.stop();
  }

  private fault(fault: Fault): false {
    this.state = 'aborted';
    this.host.injectFault(fault);
    return false;
  }

  private sendWord(word: string): void {
    this.spec.record.transcript += word;
    if (this.spec.transcribe) this.host.send({ serverContent: { outputTranscription: { text: word } } });
  }
}
