/**
 * One HTTP server with the three OpenAI endpoints a cascade engine calls (README.md cites the shapes):
 * POST /v1/chat/completions (llm.ts), POST /v1/audio/transcriptions (multipart WAV in, `{text}` out),
 * POST /v1/audio/speech (JSON in, pcm or wav audio streamed out). Everything it was sent is recorded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { answerChat, type ChatRequest, type LlmRecord, type LlmSimOptions, type LlmTurn } from './llm.js';
import { readWav, streamingWavHeader, voicePcm, wavSamples, type WavInfo } from './audio.js';
import { CascadeScript, type CascadeScenario } from './scenario.js';
import { SoundTranscriber } from './stt-by-sound.js';
import { UtteranceTranscripts } from './utterances.js';

export interface SttRecord {
  model: string;
  language?: string;
  filename: string;
  wav: WavInfo;
  /** When the request arrived (Date.now()), so a test can tell what was transcribed in a stretch of the call. */
  at: number;
}

export interface TtsRecord {
  model: string;
  voice: string;
  input: string;
  format: string;
  aborted: boolean;
}

export interface CascadeSimOptions extends LlmSimOptions {
  /** Bearer key every request must carry; undefined: none checked (a local server). */
  apiKey?: string;
  /** What the callee said, utterance by utterance; past the end, an empty text. */
  transcripts?: string[];
  sttDelayMs?: number;
  /** Length of the synthesized speech per character of text. */
  msPerChar?: number;
  /** Sample rate of `wav` answers (Piper voices: 22050). `pcm` is always 24 kHz, as OpenAI's. */
  wavRate?: number;
  /** Pause between 50 ms audio chunks of the speech answer (a synthesis rate). */
  ttsChunkDelayMs?: number;
  /** Pause before the first audio chunk (a voice's time to first audio), after the headers. */
  ttsFirstAudioDelayMs?: number;
  /**
   * A scripted conversation (scenario.ts), in place of `reply` and `transcripts`: turns by conversation
   * state, transcripts in order or by sound, instructed replies, faults. A function is asked for it at
   * the first request that needs it (as the other simulators ask when a session starts), not before.
   */
  scenario?: CascadeScenario | (() => CascadeScenario);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CascadeSimServer {
  readonly llm: LlmRecord[] = [];
  readonly stt: SttRecord[] = [];
  readonly tts: TtsRecord[] = [];
  /**
   * Per request, the time from its arrival to the first byte of its answer's body, on the simulator's
   * clock: the configured delay plus the simulator's own work and lateness (a loaded machine shows here).
   */
  readonly answerTimes: Array<{ stage: 'stt' | 'llm' | 'tts'; ms: number }> = [];
  /** Answers every chat request with this status until cleared. */
  llmFailure: { status: number; message: string } | undefined;
  private readonly http: Server;
  private port = 0;
  /** Scripted transcripts go utterance by utterance (utterances.ts tells a partial file from a new utterance). */
  private utterances?: UtteranceTranscripts;
  private scripted?: { scenario: CascadeScenario; script: CascadeScript; bySound?: SoundTranscriber };

  constructor(readonly o: CascadeSimOptions) {
    this.http = createServer((req, res) => void this.handle(req, res).catch((err) => json(res, 500, { error: { message: (err as Error).message } })));
  }

  /** The scripted conversation, asked for (when it is a function) at the first request that needs it. */
  private get script(): { scenario: CascadeScenario; script: CascadeScript; bySound?: SoundTranscriber } | undefined {
    if (this.scripted || !this.o.scenario) return this.scripted;
    const scenario = typeof this.o.scenario === 'function' ? this.o.scenario() : this.o.scenario;
    this.scripted = { scenario, script: new CascadeScript(scenario), ...(scenario.transcribeBySound ? { bySound: new SoundTranscriber(scenario.userTranscripts ?? []) } : {}) };
    return this.scripted;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.http.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.timeAnswer(req, res);
    if (this.o.apiKey && req.headers.authorization !== `Bearer ${this.o.apiKey}`) return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
    const body = await readBody(req);
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST') return json(res, 405, { error: { message: 'method not allowed' } });
    if (path === '/v1/chat/completions') return this.chat(res, body);
    if (path === '/v1/audio/transcriptions') return this.transcribe(req, res, body);
    if (path === '/v1/audio/speech') return this.speech(res, body);
    return json(res, 404, { error: { message: `no route ${path}` } });
  }

  /** Notes when the answer's body starts (answerTimes): on the first write, or an end with a body. */
  private timeAnswer(req: IncomingMessage, res: ServerResponse): void {
    const stage = STAGE_OF[(req.url ?? '').split('?')[0]];
    if (!stage) return;
    const t0 = performance.now();
    let timed = false;
    const first = () => {
      if (timed) return;
      timed = true;
      if (res.statusCode === 200) this.answerTimes.push({ stage, ms: performance.now() - t0 });
    };
    const write = res.write.bind(res) as (...a: unknown[]) => boolean;
    const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
    res.write = ((...a: unknown[]) => (first(), write(...a))) as typeof res.write;
    res.end = ((...a: unknown[]) => (a[0] !== undefined && typeof a[0] !== 'function' && first(), end(...a))) as typeof res.end;
  }

  private async chat(res: ServerResponse, raw: Buffer): Promise<void> {
    const body = JSON.parse(raw.toString('utf8')) as ChatRequest;
    if (!body.model || !Array.isArray(body.messages)) return json(res, 400, { error: { message: "'model' and 'messages' are required", type: 'invalid_request_error' } });
    if (this.llmFailure) return json(res, this.llmFailure.status, { error: { message: this.llmFailure.message, type: 'server_error' } });
    if (this.o.rejectToolChoice && body.tool_choice !== undefined) return json(res, 400, { error: { message: 'tool_choice is not supported', type: 'invalid_request_error', param: 'tool_choice' } });
    // Every tool call must be answered before the conversation goes on (OpenAI returns 400 otherwise).
    for (const [i, m] of body.messages.entries()) {
      for (const c of m.tool_calls ?? []) {
        const answered = body.messages.slice(i + 1).some((n) => n.role === 'tool' && n.tool_call_id === c.id);
        if (!answered) return json(res, 400, { error: { message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id' (${c.id})`, type: 'invalid_request_error' } });
      }
    }
    if (!body.stream) return json(res, 400, { error: { message: 'the simulator streams only (stream: true)' } });
    const record: LlmRecord = { body, at: Date.now(), aborted: false };
    const i = this.llm.length;
    this.llm.push(record);
    const script = this.script;
    if (script) {
      const { turn, instructions, scripted, fresh, callIds } = script.script.reply(body);
      record.instructions = instructions;
      const fault = fresh && scripted > 0 ? script.scenario : undefined;
      if (fault && scripted === fault.fatalAfterResponses) return json(res, 500, { error: { message: 'The server had an error while processing your request.', type: 'server_error' } });
      return answerChat(res, body, turn, { ...this.o, callIds, dropMidway: fault && scripted === fault.dropAfterResponses }, record);
    }
    const turn: LlmTurn = this.o.reply?.(i, body) ?? { say: 'Okay.' };
    await answerChat(res, body, turn, this.o, record);
  }

  private async transcribe(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const form = await new Request('http://sim/', { method: 'POST', headers: { 'content-type': String(req.headers['content-type'] ?? '') }, body: new Uint8Array(raw) }).formData().catch(() => undefined);
    if (!form) return json(res, 400, { error: { message: 'expected multipart/form-data', type: 'invalid_request_error' } });
    const file = form.get('file');
    const model = form.get('model');
    if (!(file instanceof Blob) || typeof model !== 'string') return json(res, 400, { error: { message: "'file' and 'model' are required", type: 'invalid_request_error' } });
    let wav: WavInfo;
    const bytes = Buffer.from(await file.arrayBuffer());
    try {
      wav = readWav(bytes);
    } catch (err) {
      return json(res, 400, { error: { message: `Invalid file format: ${(err as Error).message}`, type: 'invalid_request_error', param: 'file' } });
    }
    const language = form.get('language');
    const at = Date.now();
    this.stt.push({ model, filename: (file as File).name ?? '', wav, at, ...(typeof language === 'string' ? { language } : {}) });
    // The scripted transcripts go utterance by utterance. A client may send the start of an utterance
    // first (a reply prepared at a pause) and the whole of it later: that is the same utterance, the
    // same words (only what was said after the first part could differ, and the script has no such case).
    // Counted on arrival, so a slow answer cannot reorder them.
    const pcm = wavSamples(bytes);
    const script = this.script;
    this.utterances ??= new UtteranceTranscripts((script ? script.scenario.userTranscripts : this.o.transcripts) ?? []);
    const text = script?.bySound ? (script.bySound.transcribe(pcm) ?? '') : this.utterances.transcribe(pcm, wav.sampleRate, at);
    if (this.o.sttDelayMs) await sleep(this.o.sttDelayMs);
    json(res, 200, { text });
  }

  private async speech(res: ServerResponse, raw: Buffer): Promise<void> {
    const body = JSON.parse(raw.toString('utf8')) as { model?: string; input?: string; voice?: string; response_format?: string };
    if (!body.model || typeof body.input !== 'string' || !body.voice) return json(res, 400, { error: { message: "'model', 'input' and 'voice' are required", type: 'invalid_request_error' } });
    const format = body.response_format ?? 'mp3';
    if (format !== 'pcm' && format !== 'wav') return json(res, 400, { error: { message: `the simulator speaks pcm and wav, not ${format}`, param: 'response_format' } });
    const record: TtsRecord = { model: body.model, voice: body.voice, input: body.input, format, aborted: false };
    this.tts.push(record);
    // The engine speaks a scripted reply's words: it used that reply (the script moves on past it).
    this.script?.script.spoken(body.input);
    const rate = format === 'pcm' ? 24000 : (this.o.wavRate ?? 22050);
    const pcm = voicePcm(body.input.length * (this.o.msPerChar ?? 20), rate);
    const pacing = this.script?.scenario.pacing;
    const chunkDelayMs = pacing === 'realtime' ? 50 : pacing === 'burst' ? 0 : this.o.ttsChunkDelayMs;
    res.writeHead(200, { 'content-type': format === 'pcm' ? 'audio/pcm' : 'audio/wav', 'transfer-encoding': 'chunked' });
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
    });
    if (this.o.ttsFirstAudioDelayMs) await sleep(this.o.ttsFirstAudioDelayMs);
    if (format === 'wav' && !res.destroyed) res.write(streamingWavHeader(rate));
    const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    // 50 ms chunks, cut at odd byte offsets on purpose: nothing promises sample-aligned chunks.
    const step = ((rate / 20) * 2) | 1;
    for (let off = 0; off < bytes.length && !res.destroyed; off += step) {
      res.write(bytes.subarray(off, off + step));
      if (chunkDelayMs) await sleep(chunkDelayMs);
    }
    if (!res.destroyed) res.end();
  }
}

const STAGE_OF: Record<string, 'stt' | 'llm' | 'tts'> = { '/v1/chat/completions': 'llm', '/v1/audio/transcriptions': 'stt', '/v1/audio/speech': 'tts' };

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
