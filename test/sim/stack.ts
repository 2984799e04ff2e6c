/**
 * The whole product wired to the simulators on 127.0.0.1: a Twilio simulator, an OpenAI Realtime
 * simulator and the real Callwright server between them. Used by the end-to-end tests, `npm run demo`
 * and `npm run bench`.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startTwilioSim, type CalleeScript, type CreateParams, type TwilioSim } from './twilio/index.js';
import { startOpenAIRealtimeSim, type OpenAIRealtimeSim, type RealtimeScenario, type Pacing } from './openai-realtime/index.js';
import { startGeminiLiveSim, type GeminiLiveSim, type GeminiScenario } from './gemini-live/index.js';
import { startEmbeddingsSim, type EmbeddingsSim } from './embeddings/index.js';
import { startTextSim, type TextSim } from './text-api/index.js';
import { startCascadeSim, cascadeEnv, type CascadeSim } from './cascade/index.js';
import type { CascadeScenario } from './cascade/scenario.js';
import type { EngineName } from '../../src/voice/engine-names.js';
import { parseSettings } from '../../src/config/settings.js';
import { buildApp, type App } from '../../src/server/app.js';
import { startVadWorker } from '../../src/media/vad-factory.js';

export const SIM_ACCOUNT_SID = 'AC' + 'a1'.repeat(16);
export const SIM_AUTH_TOKEN = 'sim-auth-token-0123456789';
export const SIM_OPENAI_KEY = 'sk-sim-0123456789';
export const SIM_GEMINI_KEY = 'gm-sim-0123456789';
export const SIM_API_TOKEN = 'sim-api-token-0123456789';
export const SIM_FROM = '+14155550100';

/** Every engine of the build (src/voice/engine-names.ts); each has its simulator here. */
export type Engine = EngineName;

/** One scripted conversation, run by whichever engine simulator the call uses. */
export interface Conversation {
  turns: Array<{ say?: string; call?: { name: string; args: Record<string, unknown> } }>;
  userTranscripts?: string[];
  /** OpenAI: transcribe each turn as the scripted line its audio holds, not by order (see voice-prints.ts). */
  transcribeBySound?: boolean;
  /**
   * What the model says to an instruction containing `match`: OpenAI a response.create's instructions (see
   * RealtimeScenario), Gemini a clientContent turn's text (GeminiScenario.onText).
   */
  onInstructions?: Array<{ match: string; say: string }>;
  pacing?: Pacing;
  /** Fault: the connection drops mid-audio of the N-th response (1-based). */
  dropAfterResponses?: number;
  /** Fault: a fatal server error mid-audio of the N-th response. */
  fatalAfterResponses?: number;
  /** Fault (Gemini): goAway this long after setup. */
  goAwayAfterMs?: number;
  /** Gemini: thoughtsTokenCount on every turn's usage report. */
  thoughtsTokensPerTurn?: number;
}

export function toRealtimeScenario(c: Conversation): RealtimeScenario {
  return {
    turns: c.turns.map((t) => ({ ...(t.say ? { say: t.say } : {}), ...(t.call ? { call: { name: t.call.name, arguments: t.call.args } } : {}) })),
    userTranscripts: c.userTranscripts,
    transcribeBySound: c.transcribeBySound,
    onInstructions: c.onInstructions,
    pacing: c.pacing,
    dropAfterResponses: c.dropAfterResponses,
    fatalErrorAfterResponses: c.fatalAfterResponses,
  };
}

export function toGeminiScenario(c: Conversation): GeminiScenario {
  return { turns: c.turns, userTranscripts: c.userTranscripts, onText: c.onInstructions, pacing: c.pacing, dropAfterTurns: c.dropAfterResponses, fatalAfterTurns: c.fatalAfterResponses, goAwayAfterMs: c.goAwayAfterMs, thoughtsTokensPerTurn: c.thoughtsTokensPerTurn };
}

export function toCascadeScenario(c: Conversation): CascadeScenario {
  return { turns: c.turns, userTranscripts: c.userTranscripts, transcribeBySound: c.transcribeBySound, onInstructions: c.onInstructions, dropAfterResponses: c.dropAfterResponses, fatalAfterResponses: c.fatalAfterResponses, ...(c.pacing ? { pacing: c.pacing } : {}) };
}

export interface StackOptions {
  /** The engine calls use (AI_PROVIDER); every engine's simulator always runs. */
  engine?: Engine;
  /** A conversation for either engine; `scenario` (OpenAI only) is the older, engine-specific form. */
  conversation?: (sessionIndex: number) => Conversation;
  script?: (call: CreateParams) => CalleeScript;
  scenario?: (sessionIndex: number) => RealtimeScenario;
  pacing?: Pacing;
  recordingFailures?: number;
  /** Extra settings (env-style strings) over the simulator defaults. */
  env?: Record<string, string>;
  dataDir?: string;
  /** Reuse a port (restart tests). */
  port?: number;
  logger?: boolean | object;
  log?: (line: string) => void;
  msPerChar?: number;
  /** The server's clock for calling hours and daily caps. */
  now?: () => Date;
  /** Index documents with vectors from the embeddings simulator, as this provider (default: none, lexical only). */
  embeddings?: 'openai' | 'gemini';
  /** The Twilio simulator holds back its `POST Calls.json` response this long while the call goes on. */
  createResponseDelayMs?: number;
  /** Extract each call's outcome through the text-API simulator, as this provider (default: none, not computed). */
  /** `llm`: the cascade's own LLM settings (Chat Completions at OUTCOME_BASE_URL, keyed with LLM_API_KEY). */
  outcome?: 'openai' | 'openai-chat' | 'gemini' | 'llm';
  /** Pauses between the outcome webhook's tries (default: a few ms, so a failing receiver is quick). */
  webhookRetryDelaysMs?: number[];
  /** Reuse running simulators (restart tests). */
  sims?: { twilio: TwilioSim; openai: OpenAIRealtimeSim; gemini?: GeminiLiveSim };
}

export interface Stack {
  twilio: TwilioSim;
  openai: OpenAIRealtimeSim;
  gemini: GeminiLiveSim;
  /** The cascade's STT, LLM and TTS servers (one simulator); the conversation is its first call's. */
  cascade: CascadeSim;
  /** Running when `embeddings` was asked for. */
  embeddings?: EmbeddingsSim;
  /** Running when `outcome` was asked for. */
  text?: TextSim;
  app: App;
  baseUrl: string;
  dataDir: string;
  port: number;
  api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T; headers: Headers }>;
  placeCall(body?: Record<string, unknown>): Promise<string>;
  /** Waits until the call's record says ended and background work (recording, price) is done. */
  waitForEnd(callId: string, timeoutMs?: number): Promise<any>;
  /** Stops the server (simulators keep running), e.g. to restart it. */
  stopServer(): Promise<void>;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export function writeDemoClient(clientsDir: string): void {
  mkdirSync(join(clientsDir, 'raju'), { recursive: true });
  writeFileSync(join(clientsDir, 'raju', 'profile.txt'), 'Full Name: Raju Kumar\nPhone: +14155550100\nPreferred pickup: evenings\n');
}

/** The environment that points a Callwright server at running simulators. */
export function simEnv(o: { port: number; dataDir: string; twilioUrl: string; openaiUrl: string; geminiUrl?: string }): Record<string, string> {
  return {
    PORT: String(o.port),
    PUBLIC_URL: `http://127.0.0.1:${o.port}`,
    DATA_DIR: o.dataDir,
    CLIENTS_DIR: join(o.dataDir, 'clients'),
    API_TOKEN: SIM_API_TOKEN,
    TWILIO_ACCOUNT_SID: SIM_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: SIM_AUTH_TOKEN,
    TWILIO_FROM_NUMBER: SIM_FROM,
    TWILIO_API_URL: o.twilioUrl,
    OPENAI_API_KEY: SIM_OPENAI_KEY,
    OPENAI_REALTIME_URL: o.openaiUrl,
    ...(o.geminiUrl ? { GEMINI_API_KEY: SIM_GEMINI_KEY, GEMINI_LIVE_URL: o.geminiUrl } : {}),
    LOG_LEVEL: 'silent',
    // Simulated calls run at any hour, and the tests poll the API faster than a person would.
    CALLING_HOURS: 'off',
    RATE_LIMIT_PER_MINUTE: '0',
    // The simulator keys must never send documents to a real embeddings endpoint.
    EMBEDDINGS_PROVIDER: 'none',
    // Nor transcripts to a real text model: outcomes are not computed unless a test asks for the simulator.
    OUTCOME_PROVIDER: 'none',
  };
}

export async function startStack(o: StackOptions = {}): Promise<Stack> {
  const twilio = o.sims?.twilio ?? (await startTwilioSim({ accountSid: SIM_ACCOUNT_SID, authToken: SIM_AUTH_TOKEN, numbers: [SIM_FROM], script: o.script, recordingFailures: o.recordingFailures, createResponseDelayMs: o.createResponseDelayMs, log: o.log }));
  const conv = o.conversation;
  const openai = o.sims?.openai ?? (await startOpenAIRealtimeSim({ apiKey: SIM_OPENAI_KEY, scenario: o.scenario ?? (conv && ((i) => toRealtimeScenario(conv(i)))), pacing: o.pacing, msPerChar: o.msPerChar, log: o.log }));
  const gemini = o.sims?.gemini ?? (await startGeminiLiveSim({ apiKey: SIM_GEMINI_KEY, scenario: conv && ((i) => toGeminiScenario(conv(i))), pacing: o.pacing, msPerChar: o.msPerChar, log: o.log }));
  // The cascade's servers are plain HTTP, one conversation per simulator: the stack's first call's, asked
  // for at the first request, as the other simulators ask when a call's session starts.
  // 'realtime': synthesized as fast as it plays (50 ms chunks every 50 ms), as the other simulators' pacing
  // (a conversation's own pacing, when it has one, wins: scenario.pacing).
  const ttsChunkDelayMs = o.pacing === 'realtime' ? 50 : 0;
  const cascade = await startCascadeSim({ msPerChar: o.msPerChar, ttsChunkDelayMs, ...(conv ? { scenario: () => toCascadeScenario(conv(0)) } : {}) });
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'callwright-'));
  writeDemoClient(join(dataDir, 'clients'));
  const embeddings = o.embeddings ? await startEmbeddingsSim({ openaiKey: SIM_OPENAI_KEY, geminiKey: SIM_GEMINI_KEY }) : undefined;
  const embeddingsEnv: Record<string, string> = embeddings ? { EMBEDDINGS_PROVIDER: o.embeddings!, OPENAI_BASE_URL: embeddings.openaiBaseUrl, GEMINI_BASE_URL: embeddings.geminiBaseUrl } : {};
  const text = o.outcome ? await startTextSim({ openaiKey: SIM_OPENAI_KEY, geminiKey: SIM_GEMINI_KEY, extraOpenAIModels: ['llm-sim'] }) : undefined;
  const outcomeEnv: Record<string, string> = !text
    ? {}
    : o.outcome === 'llm'
      ? { OUTCOME_PROVIDER: 'llm', OUTCOME_BASE_URL: text.openaiBaseUrl, LLM_API_KEY: SIM_OPENAI_KEY }
      : { OUTCOME_PROVIDER: o.outcome === 'gemini' ? 'gemini' : 'openai', OUTCOME_OPENAI_API: o.outcome === 'openai-chat' ? 'chat-completions' : 'responses', OUTCOME_BASE_URL: o.outcome === 'gemini' ? text.geminiBaseUrl : text.openaiBaseUrl };
  const port = o.port ?? (await freePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  const storeEnv = await stackStoreEnv(dataDir);
  const settings = parseSettings({ ...simEnv({ port, dataDir, twilioUrl: twilio.url, openaiUrl: openai.url, geminiUrl: gemini.baseUrl }), ...cascadeEnv(cascade), AI_PROVIDER: o.engine ?? 'openai', ...embeddingsEnv, ...outcomeEnv, ...storeEnv, ...mediaHostEnv(), ...o.env });
  // As src/main.ts does at server start: the VAD worker's thread is up and has detectors built before the
  // first call (started by that call instead, its first frames would be heard late by the thread's start-up).
  startVadWorker();
  const app = await buildApp({ settings, apiToken: SIM_API_TOKEN, logger: o.logger ?? false, recordingRetry: { attempts: 6, firstDelayMs: 20 }, pricePollMs: [0, 100, 300], recordingListPollMs: [0, 100, 300], now: o.now, webhookRetryDelaysMs: o.webhookRetryDelaysMs ?? [20, 40, 80] });
  await app.server.listen({ port, host: '127.0.0.1' });
  // As configuring TWILIO_FROM_NUMBER's messaging webhook in the Twilio Console: replies go here.
  twilio.incomingSmsUrl = `${baseUrl}/twilio/sms`;
  let serverStopped = false;

  const api: Stack['api'] = async (method, path, body, token = SIM_API_TOKEN) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };

  const stack: Stack = {
    twilio,
    openai,
    gemini,
    cascade,
    embeddings,
    text,
    get app() {
      return app;
    },
    baseUrl,
    dataDir,
    port,
    api,
    async placeCall(body = {}) {
      const r = await api('POST', '/api/calls', { to: '+14155550123', instructions: 'Order one chicken biryani for pickup at 7. My name is Raju.', clientId: 'raju', ...body });
      if (r.status !== 201) throw new Error(`POST /api/calls -> ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.id as string;
    },
    async waitForEnd(callId, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await api('GET', `/api/calls/${callId}`);
        if (r.body?.status === 'ended') {
          await app.service.idle();
          return (await api('GET', `/api/calls/${callId}`)).body;
        }
        if (Date.now() > deadline) throw new Error(`call ${callId} did not end within ${timeoutMs} ms (status ${r.body?.status})`);
        await new Promise((res) => setTimeout(res, 25));
      }
    },
    async stopServer() {
      if (serverStopped) return;
      serverStopped = true;
      await app.close();
    },
    async close() {
      await stack.stopServer();
      if (!o.sims) await Promise.all([twilio.close(), openai.close(), gemini.close()]);
      else if (!o.sims.gemini) await gemini.close();
      await cascade.close();
      await embeddings?.close();
      await text?.close();
    },
  };
  return stack;
}

/**
 * TEST_STORE=postgres (with TEST_DATABASE_URL, scripts/test-postgres.sh): the stack's server keeps its
 * store in PostgreSQL, in a database of its data directory's own (a restart over the same directory finds
 * the same database, as it finds the same SQLite file), as a node named after that directory (so its carrier
 * URLs are node-addressed, as in a multi-node deployment). Otherwise nothing: SQLite in DATA_DIR.
 */
/** TEST_MEDIA_HOST=checked: every stack's sessions behind the serialising media host (the PostgreSQL pass). */
function mediaHostEnv(): Record<string, string> {
  return process.env.TEST_MEDIA_HOST ? { MEDIA_HOST: process.env.TEST_MEDIA_HOST } : {};
}

export async function stackStoreEnv(dataDir: string): Promise<Record<string, string>> {
  if (process.env.TEST_STORE !== 'postgres') return {};
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error('TEST_STORE=postgres needs TEST_DATABASE_URL (scripts/test-postgres.sh prints it)');
  const name = `cw_stack_${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!exists.rowCount) await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  // A node name as stable as the database: a restart over the same directory is the same node, and ends
  // the calls it left live at once (without NODE_ID on PostgreSQL it would wait for their leases to run out).
  return { DATABASE_URL: url.toString(), NODE_ID: `node-${name.slice(-8)}` };
}
