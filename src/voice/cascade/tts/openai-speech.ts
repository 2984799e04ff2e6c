import type OpenAI from 'openai';
import { openAICompatibleClient, serverError } from '../openai-client.js';
import type { UsageReport } from '../../engine.js';
import { parseWavHeader, resamplerTo8k, type Resampler } from '../audio.js';
import { StageError, type TextToSpeech } from '../stages.js';

export interface OpenAISpeechOptions {
  /** e.g. http://127.0.0.1:8880/v1 (Kokoro-FastAPI), http://127.0.0.1:8000/v1 (openedai-speech, Piper). */
  baseUrl: string;
  model: string;
  voice: string;
  apiKey?: string;
  /** `pcm`: raw 16-bit little-endian mono at `sampleRate` (OpenAI's is 24 kHz); `wav`: rate from the header. */
  format: 'pcm' | 'wav';
  sampleRate: number;
  timeoutMs?: number;
}

/**
 * Text-to-speech through any server speaking OpenAI's POST /v1/audio/speech (JSON `{model, input, voice,
 * response_format}`, audio bytes back, streamed as they are made), called with the official SDK. The
 * audio is resampled to 8 kHz here as it arrives, so the first words go to the carrier before the clause
 * is fully synthesized.
 */
export class OpenAISpeechTts implements TextToSpeech {
  readonly model: string;
  private readonly client: OpenAI;

  constructor(private readonly o: OpenAISpeechOptions) {
    this.model = o.model;
    this.client = openAICompatibleClient({ ...o, timeoutMs: o.timeoutMs ?? 30_000, maxRetries: 1 });
  }

  usageFor(text: string): UsageReport {
    return { provider: 'tts', model: this.model, meters: { characters: text.length } };
  }

  async *synthesize(text: string, signal: AbortSignal): AsyncIterable<Int16Array> {
    let res: Response;
    try {
      res = await this.client.audio.speech.create({ model: this.model, voice: this.o.voice, input: text, response_format: this.o.format }, { signal });
    } catch (err) {
      throw serverError('tts', err) ?? err;
    }
    if (!res.body) return;
    const decoder = new PcmDecoder(this.o.format, this.o.sampleRate);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (signal.aborted) return;
      const pcm = decoder.push(Buffer.from(chunk));
      if (pcm.length) yield pcm;
    }
  }
}

/** Bytes of a TTS response (pcm or wav, any rate) to PCM16 8 kHz, across arbitrary chunk boundaries. */
export class PcmDecoder {
  private head: Buffer | undefined = Buffer.alloc(0);
  private odd: Buffer = Buffer.alloc(0);
  private resampler?: Resampler;

  constructor(
    private readonly format: 'pcm' | 'wav',
    private readonly pcmRate: number,
  ) {
    if (format === 'pcm') {
      this.head = undefined;
      this.resampler = resamplerTo8k(pcmRate);
    }
  }

  push(bytes: Buffer): Int16Array {
    let data = bytes;
    if (this.head !== undefined) {
      const all = Buffer.concat([this.head, bytes]);
      const fmt = parseWavHeader(all);
      if (!fmt) {
        this.head = all;
        return new Int16Array(0);
      }
      if (fmt.channels !== 1) throw new StageError('tts', `WAV must be mono (has ${fmt.channels} channels)`);
      this.head = undefined;
      this.resampler = resamplerTo8k(fmt.sampleRate);
      data = all.subarray(fmt.dataOffset);
    }
    const joined = this.odd.length ? Buffer.concat([this.odd, data]) : data;
    const even = joined.length & ~1;
    this.odd = Buffer.from(joined.subarray(even));
    const pcm = new Int16Array(even / 2);
    for (let i = 0; i < pcm.length; i++) pcm[i] = joined.readInt16LE(2 * i);
    return this.resampler!.process(pcm);
  }
}
