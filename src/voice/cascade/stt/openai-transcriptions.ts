import { toFile, type OpenAI } from 'openai';
import { openAICompatibleClient, serverError } from '../openai-client.js';
import { Upsampler8kTo16k } from '../../../media/resample.js';
import { encodeWav } from '../audio.js';
import type { SpeechToText, SttStream, Transcript } from '../stages.js';

export interface OpenAITranscriptionOptions {
  /** e.g. http://127.0.0.1:8000/v1 (faster-whisper-server), https://api.openai.com/v1 */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** ISO-639-1 hint; undefined lets the server detect. */
  language?: string;
  timeoutMs?: number;
}

/**
 * Speech-to-text through any server speaking OpenAI's POST /v1/audio/transcriptions (multipart: `file`,
 * `model`, optional `language`; JSON `{ text }` back), called with the official SDK. The callee's
 * utterance is sent whole when the turn ends: these servers transcribe a file, not a stream.
 *
 * Whisper-family models are trained on 16 kHz audio; the 8 kHz line is doubled with the project's
 * half-band filter (src/media/resample.ts) rather than left to each server's resampler.
 */
export class OpenAITranscriptionStt implements SpeechToText {
  readonly model: string;
  private readonly client: OpenAI;

  constructor(private readonly o: OpenAITranscriptionOptions) {
    this.model = o.model;
    this.client = openAICompatibleClient({ ...o, timeoutMs: o.timeoutMs ?? 30_000, maxRetries: 1 });
  }

  open(): SttStream {
    const up = new Upsampler8kTo16k();
    const chunks: Int16Array[] = [];
    let samples = 0;
    const abort = new AbortController();
    /** The audio so far as one WAV file, transcribed. */
    const transcribe = async (): Promise<Transcript> => {
      const count = samples;
      const pcm = new Int16Array(count);
      let off = 0;
      for (const c of chunks) {
        if (off >= count) break;
        pcm.set(c.subarray(0, count - off), off);
        off += c.length;
      }
      const file = await toFile(encodeWav(pcm, 16000), 'speech.wav', { type: 'audio/wav' });
      let res: { text?: string };
      try {
        res = await this.client.audio.transcriptions.create(
          { file, model: this.model, response_format: 'json', ...(this.o.language ? { language: this.o.language } : {}) },
          { signal: abort.signal },
        );
      } catch (err) {
        throw serverError('stt', err) ?? err;
      }
      return { text: (res.text ?? '').trim(), usage: { provider: 'stt', model: this.model, meters: { audio_seconds: Math.round((count / 16000) * 1000) / 1000 } } };
    };
    return {
      push: (pcm8k) => {
        const out = up.process(pcm8k, new Int16Array(pcm8k.length * 2));
        chunks.push(out);
        samples += out.length;
      },
      finish: transcribe,
      peek: transcribe,
      abort: () => abort.abort(),
    };
  }
}
