import { isIP } from 'node:net';
import { z } from 'zod';
import { isSupportedCountry } from 'libphonenumber-js/max';
import { allowListEntries, parseAllowEntry } from '../calls/allow-list.js';
import { cascadeSettingsShape } from '../voice/cascade/settings.js';
import { modelsSettingsShape } from '../models/settings.js';
import { ENGINE_NAMES } from '../voice/engine-names.js';

/**
 * Every setting Callwright reads, validated once at start-up. Names are stable: users' .env files and
 * tooling depend on them. Defaults are chosen so that `npm start` works with nothing configured; what a
 * call needs (carrier and AI keys) is checked when a call is attempted, see `missingForCalls`.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const httpUrl = (schemes: string[]) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${schemes.map((s) => s + '//').join(' or ')}`)
    .transform((v) => v.replace(/\/+$/, ''));

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const num = (min: number) => z.coerce.number().min(min);

/** What the inbound assistant does unless INBOUND_INSTRUCTIONS or INBOUND_RUNBOOK says otherwise. */
export const DEFAULT_INBOUND_INSTRUCTIONS =
  "Answer as {{name}}'s assistant. Ask who is calling and what it is about, and take a message: the caller's name, a number to call back and the message; read it back to check it. Answer questions only from {{name}}'s documents; for anything else say {{name}} will get back to them. Never make commitments on {{name}}'s behalf: no appointments, prices, payments or promises.";

export const settingsSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  PUBLIC_URL: httpUrl(['https:', 'http:']).optional(),
  DATA_DIR: z.string().default('./data'),
  /** postgres://… puts the store in PostgreSQL (docs/store.md); unset: SQLite in DATA_DIR. */
  DATABASE_URL: optionalString.pipe(z.string().regex(/^postgres(ql)?:\/\//i, 'must be a postgres:// or postgresql:// URL (or unset for SQLite in DATA_DIR)').optional()),
  CLIENTS_DIR: z.string().default('./clients'),
  /** Where call recordings are stored; unset: DATA_DIR/recordings. Several nodes: one shared folder (docs/deployment.md). */
  RECORDINGS_DIR: optionalString,
  /** Where the transcript .txt files are written; unset: DATA_DIR/transcripts. */
  TRANSCRIPTS_DIR: optionalString,
  RUNBOOKS_DIR: z.string().default('./runbooks'),
  API_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `pretty`: one readable line per event; `json`: one JSON object per line; `auto`: pretty on a terminal, else JSON. */
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  /** How long a browser stays signed in after signing in (docs/sign-in.md). */
  SESSION_DAYS: z.coerce.number().gt(0, 'must be more than 0').max(3650).default(30),

  TWILIO_ACCOUNT_SID: optionalString.pipe(z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits').optional()),
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_FROM_NUMBER: optionalString.pipe(z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +15551234567').optional()),
  TWILIO_API_URL: httpUrl(['https:', 'http:']).default('https://api.twilio.com'),
  TWILIO_PRICE_PER_MINUTE: num(0).default(0.014),

  AI_PROVIDER: z.enum(ENGINE_NAMES).default('openai'),
  OPENAI_API_KEY: optionalString,
  OPENAI_REALTIME_URL: httpUrl(['wss:', 'ws:']).default('wss://api.openai.com/v1/realtime'),
  // Model defaults checked against the providers' model and deprecation pages on 2026-12-05 (docs/costs.md):
  // gpt-realtime and the gpt-4o transcribe models shut down in early 2027; the Gemini 2.5 native-audio
  // previews are superseded by the stable gemini-3.8-live.
  OPENAI_REALTIME_MODEL: z.string().trim().min(1).default('gpt-realtime-2.1'),
  OPENAI_VOICE: z.string().default('marin'),
  OPENAI_TRANSCRIPTION_MODEL: z.string().trim().min(1).default('gpt-transcribe'),
  VAD_SILENCE_MS: int(100, 5000).default(500),
  GEMINI_API_KEY: optionalString,
  GEMINI_LIVE_URL: httpUrl(['wss:', 'ws:', 'https:', 'http:']).default('wss://generativelanguage.googleapis.com'),
  GEMINI_API_VERSION: z.string().regex(/^v1(alpha|beta)?$/, 'must be v1, v1beta or v1alpha').default('v1beta'),
  GEMINI_LIVE_MODEL: z.string().trim().min(1).default('gemini-3.8-live'),
  GEMINI_VOICE: z.string().default('Puck'),
  /** Transcribes a machine's opening under a machine verdict, without the conversation answering it (docs/voicemail.md). */
  GEMINI_TRANSCRIBE_MODEL: z.string().trim().min(1).default('gemini-3.5-transcribe-live'),
  // The cascade engine's stages (STT_*, LLM_*, TTS_*): docs/cascade.md.
  ...cascadeSettingsShape,
  // Where `callwright models pull` downloads from (docs/local.md).
  ...modelsSettingsShape,

  RECORD_CALLS: bool.default(true),
  MAX_CALL_SECONDS: int(1, 4 * 3600).default(600),
  AMD_SPEECH_END_THRESHOLD_MS: int(500, 5000).default(800),
  GREETING_SILENCE_MS: int(500, 10000).default(2000),
  /**
   * Barge-in (docs/barge-in.md): our own VAD on the caller audio decides when the callee talking over the
   * agent stops it. `silero` (neural, tells speech from line noise) or `energy` (loudness; the old one).
   */
  BARGE_IN_VAD: z.enum(['silero', 'energy']).default('silero'),
  /** Silero is not run on caller audio quieter than this (dBFS RMS): it is silence. -100 feeds every frame. */
  BARGE_IN_VAD_FLOOR_DBFS: int(-100, -20).default(-45),
  /** Speech shorter than this never stops the agent (a cough, a click). */
  BARGE_IN_MIN_SPEECH_MS: int(60, 2000).default(200),
  /** Speech this long stops the agent at once; shorter speech is judged by its words (backchannels carry on). 0: no backchannel tolerance. */
  BARGE_IN_BACKCHANNEL_MAX_MS: int(0, 3000).default(800),
  /** How long a short utterance's words are awaited before it counts as noise (the agent carries on). */
  BARGE_IN_WORDS_WAIT_MS: int(200, 10000).default(2500),
  /**
   * How keys are pressed (send_dtmf, a call's `dtmf`): `inband` plays tones on the media stream (stream and
   * AI session stay up); `carrier` has the carrier play them (Twilio <Play digits>), which ends the stream
   * and re-attaches a new one, for destinations that ignore in-band tones. See docs/phone-menus.md.
   */
  DTMF_MODE: z.enum(['inband', 'carrier']).default('inband'),
  /**
   * At a phone menu, the callee's silence after speech that ends a prompt: the agent chooses a key only
   * then, having heard the whole menu (menus pause well under a second between options). docs/phone-menus.md.
   */
  MENU_PROMPT_END_MS: int(500, 10000).default(1500),
  /**
   * Where live calls' sessions, engines and audio run (src/bridge/host/): `in-process` on the server's
   * event loop; `checked` the same, with every message across the boundary copied and delivered a turn
   * later, as a media process would get it (for tests of that boundary).
   */
  MEDIA_HOST: z.enum(['in-process', 'checked']).default('in-process'),
  /**
   * The owner's phone (E.164): where transfer_call hands a call over by default (label `owner`), and
   * where ask_owner's questions go by SMS. Set on the server only: the model picks a label, never a number.
   * See docs/transfer.md and docs/ask-owner.md.
   */
  OWNER_PHONE: optionalString.pipe(z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +15551234567').optional()),
  /** How long a transfer destination may ring before the transfer counts as not answered. */
  TRANSFER_RING_TIMEOUT_S: int(5, 120).default(20),
  /**
   * What a call does when an answering machine answers (a call's `voicemail` overrides it): `hangup`, or
   * `leave-message` after the beep (docs/voicemail.md). VOICEMAIL_MESSAGE is the default text to leave;
   * without it the agent composes a short message from the call's instructions.
   */
  VOICEMAIL_MODE: z.enum(['hangup', 'leave-message']).default('hangup'),
  VOICEMAIL_MESSAGE: optionalString.pipe(z.string().max(1000, 'must be at most 1000 characters').optional()),
  /** No beep: the message starts after this much silence once the mailbox's greeting has ended. */
  VOICEMAIL_SILENCE_MS: int(500, 20_000).default(3000),
  /** Longest wait for the beep (or that silence) after the machine verdict; then the call hangs up. */
  VOICEMAIL_BEEP_TIMEOUT_MS: int(1000, 120_000).default(30_000),
  /**
   * Longest hold (music, announcements) before the agent says goodbye and hangs up (`hold-timeout`).
   * Fractions are allowed (0.5 = 30 s). 45 stays under OpenAI Realtime's 60-minute session limit; a call
   * is still bound by MAX_CALL_SECONDS. Per call: `hold.maxMinutes` on POST /api/calls. See docs/hold.md.
   */
  HOLD_MAX_MINUTES: z.coerce.number().gt(0, 'must be more than 0').max(600).default(45),
  // Asking the owner mid-call (ask_owner, docs/ask-owner.md): the live call page always; SMS to OWNER_PHONE
  // (above; replying answers) and a POST to OWNER_WEBHOOK_URL when set.
  OWNER_WEBHOOK_URL: optionalString.pipe(httpUrl(['https:', 'http:']).optional()),
  /** Signs each POST to OWNER_WEBHOOK_URL (as CALL_WEBHOOK_SECRET signs the outcome); required with it. */
  OWNER_WEBHOOK_SECRET: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** The owner's name as the agent says it; default the call's client's name. */
  OWNER_NAME: optionalString,
  /** With no answer after this long the agent defers ("I'll check with ... and get back to you"). */
  ASK_OWNER_TIMEOUT_S: z.coerce.number().min(1).max(3600).default(90),
  /** While a question is open, a short holding line this often (engines that can speak meanwhile). */
  ASK_OWNER_HOLDING_LINE_S: z.coerce.number().min(1).max(600).default(15),
  /**
   * Calls to TWILIO_FROM_NUMBER: `off` (default) hangs up politely and starts no AI session; `assistant`
   * answers as the owner's assistant (see docs/inbound.md). The number's voice webhook must point here
   * (POST /api/setup/twilio).
   */
  INBOUND: z.enum(['off', 'assistant']).default('off'),
  /** The client an inbound call is answered for (its profile and documents); empty: none. */
  INBOUND_CLIENT_ID: optionalString,
  /** The inbound assistant's task; `{{name}}` is the client's name. INBOUND_RUNBOOK replaces it. */
  INBOUND_INSTRUCTIONS: optionalString.transform((v) => v ?? DEFAULT_INBOUND_INSTRUCTIONS),
  /** A runbook (RUNBOOKS_DIR) whose instructions inbound calls use instead of INBOUND_INSTRUCTIONS. */
  INBOUND_RUNBOOK: optionalString,
  PRICES_FILE: optionalString,
  DEFAULT_COUNTRY: z.string().trim().toUpperCase().refine((c) => isSupportedCountry(c), 'must be a two-letter country code such as US or GB').default('US'),

  // Safety (issue 6): who may be called, when, and how much a day may cost. See README "Safety defaults".
  ALLOWED_DESTINATIONS: optionalString.refine(
    (v) => v === undefined || allowListEntries(v).every((e) => parseAllowEntry(e) !== undefined),
    'entries must be numbers or prefixes (+1415) or two-letter country codes (US), separated by commas',
  ),
  DNC_FILE: optionalString,
  CALLING_HOURS: z
    .string()
    .trim()
    .regex(/^(off|([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d)$/, 'must be HH:MM-HH:MM (e.g. 08:00-21:00) or off')
    .default('08:00-21:00'),
  MAX_CALLS_PER_DAY: int(0, 1_000_000).default(100),
  MAX_CONCURRENT_CALLS: int(0, 10_000).default(5),
  MAX_COST_PER_CALL_USD: num(0).default(5),
  MAX_COST_PER_DAY_USD: num(0).default(50),
  // Scheduled calls (docs/scheduled-calls.md): how far ahead one may be set, and how late it may still
  // be dialled when the server was down at its time (after that it is marked missed).
  SCHEDULE_MAX_DAYS: int(1, 366).default(30),
  SCHEDULE_GRACE_MINUTES: int(0, 24 * 60).default(15),
  // Campaigns (docs/campaigns.md): how often the runner looks for due numbers and finished calls, and how
  // long a node's claim on a number holds without being renewed (after that another node, or this one
  // restarted, settles it). NODE_ID names this server in those claims and on its calls (src/cluster/node-id.ts).
  CAMPAIGN_TICK_MS: int(20, 60_000).default(1000),
  CAMPAIGN_LEASE_SECONDS: int(5, 3600).default(60),
  // A path segment in multi-node mode (the carrier's URLs carry it, /n/<NODE_ID>/..., routed by the proxy).
  NODE_ID: optionalString.pipe(z.string().max(100).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only (it is a URL path segment)').optional()),
  // How long a live call's hold on its node lasts unless renewed (every third of it); with DATABASE_URL,
  // running nodes end a call whose lease ran out (its node died) as `node-lost` (docs/deployment.md).
  CALL_LEASE_SECONDS: int(3, 3600).default(90),
  /**
   * redis:// or rediss://: the cross-node features (docs/deployment.md): live events from any node, API
   * rate limits shared across nodes, and the node registry (GET /api/nodes). Unset: one node, in-process.
   */
  REDIS_URL: optionalString.pipe(z.string().regex(/^rediss?:\/\//i, 'must be a redis:// or rediss:// URL (or unset for one node)').optional()),
  DISCLOSE_AI: bool.default(true),
  ANNOUNCE_RECORDING: bool.default(true),
  RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(600),
  CORS_ORIGINS: optionalString.refine(
    (v) => v === undefined || v.split(/[\s,]+/).filter(Boolean).every((o) => /^https?:\/\/[^/\s]+\/?$/.test(o)),
    'must list origins such as https://app.example.com (scheme and host, no path), separated by commas',
  ),
  LOG_SENSITIVE: bool.default(false),
  /**
   * Behind a proxy (docs/deployment.md): whose X-Forwarded-For to believe, so the client's own address is
   * the one rate limits and logs see. `true` (any: only when nothing but the proxy can reach the node), a
   * number of proxy hops, or the proxies' addresses (IPs or CIDRs, comma-separated). Unset: none.
   */
  TRUST_PROXY: optionalString.refine((v) => v === undefined || trustProxyOption(v) !== undefined, 'must be true, a number of hops (1-10), or proxy addresses (IPs or CIDRs) separated by commas'),

  EMBEDDINGS_PROVIDER: z.enum(['auto', 'openai', 'gemini', 'none']).default('auto'),
  EMBEDDINGS_MODEL: optionalString,
  EMBEDDINGS_DIMENSIONS: int(64, 3072).default(512),
  OPENAI_BASE_URL: httpUrl(['https:', 'http:']).default('https://api.openai.com/v1'),
  GEMINI_BASE_URL: httpUrl(['https:', 'http:']).default('https://generativelanguage.googleapis.com'),
  KNOWLEDGE_TOP_K: int(1, 50).default(5),
  UPLOAD_MAX_BYTES: int(1024, 1024 * 1024 * 1024).default(20 * 1024 * 1024),
  KNOWLEDGE_WATCH: bool.default(true),
  /**
   * Seconds between checks of CLIENTS_DIR for changes made elsewhere (another node, a network share where
   * file watching sees nothing); 0: never. Unset: 30 with DATABASE_URL (several nodes), else 0.
   */
  KNOWLEDGE_RESCAN_S: int(0, 86_400).optional(),
  // What parsing one document may cost; past any of them that document fails, with the reason.
  PARSER_MEMORY_MB: int(64, 16_384).default(512),
  PARSER_MAX_FILE_BYTES: int(1024, 4 * 1024 * 1024 * 1024).default(100 * 1024 * 1024),
  PARSER_MAX_PAGES: int(1, 1_000_000).default(2000),
  PARSER_MAX_UNCOMPRESSED_BYTES: int(1024, 4 * 1024 * 1024 * 1024).default(200 * 1024 * 1024),
  PARSER_TIMEOUT_MS: int(1000, 3_600_000).default(120_000),
  RECORDING_MAX_BYTES: int(1024, 4 * 1024 * 1024 * 1024).default(200 * 1024 * 1024),

  // The outcome of every call (docs/outcome.md): extracted after the call from its transcript through a
  // text model with structured outputs; `auto`: the cascade's own LLM on the cascade, else AI_PROVIDER's key, else the other provider's.
  OUTCOME_PROVIDER: z.enum(['auto', 'openai', 'gemini', 'llm', 'none']).default('auto'),
  /** Empty: gpt-5.4-mini (OpenAI), gemini-3.8-flash (Gemini) or LLM_MODEL (llm). */
  OUTCOME_MODEL: optionalString,
  /** OpenAI only: the Responses API (`text.format`) or Chat Completions (`response_format`). */
  OUTCOME_OPENAI_API: z.enum(['responses', 'chat-completions']).default('responses'),
  /** Empty: OPENAI_BASE_URL, GEMINI_BASE_URL or LLM_BASE_URL (a proxy, or the text-API simulator). */
  OUTCOME_BASE_URL: optionalString.pipe(httpUrl(['https:', 'http:']).optional()),
  /** Where each call's outcome is POSTed when it is known, signed with CALL_WEBHOOK_SECRET. */
  CALL_WEBHOOK_URL: optionalString.pipe(httpUrl(['https:', 'http:']).optional()),
  CALL_WEBHOOK_SECRET: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  CALL_WEBHOOK_MAX_ATTEMPTS: int(1, 20).default(6),
});

export type Settings = z.infer<typeof settingsSchema>;

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

/** Parses settings from an environment-like object; throws SettingsError naming each bad setting. */
export function parseSettings(env: Record<string, string | undefined>): Settings {
  const known = Object.fromEntries(
    Object.keys(settingsSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const result = settingsSchema.safeParse(known);
  if (!result.success) {
    throw new SettingsError(
      result.error.issues.map((i) => {
        const name = String(i.path[0] ?? '?');
        // Values are not echoed: a mistyped secret must not end up in a terminal scroll-back or CI log.
        return `${name}: ${i.message}`;
      }),
    );
  }
  return result.data;
}

/** What a call on the given engine still needs, as setting names with a hint; empty when ready. */
export function missingForCalls(s: Settings, provider: Settings['AI_PROVIDER'] = s.AI_PROVIDER): string[] {
  const missing: string[] = [];
  if (!s.PUBLIC_URL) missing.push('PUBLIC_URL (the https origin Twilio can reach, e.g. a tunnel to this server)');
  else if (!isUsablePublicUrl(s.PUBLIC_URL)) missing.push('PUBLIC_URL must be https:// (Twilio only opens media streams over wss://); plain http is accepted for 127.0.0.1 and localhost only');
  if (!s.TWILIO_ACCOUNT_SID) missing.push('TWILIO_ACCOUNT_SID');
  if (!s.TWILIO_AUTH_TOKEN) missing.push('TWILIO_AUTH_TOKEN');
  if (!s.TWILIO_FROM_NUMBER) missing.push('TWILIO_FROM_NUMBER (your Twilio number, E.164)');
  if (provider === 'openai' && !s.OPENAI_API_KEY) missing.push('OPENAI_API_KEY');
  if (provider === 'gemini' && !s.GEMINI_API_KEY) missing.push('GEMINI_API_KEY');
  return missing;
}

/** Twilio needs https/wss; plain http is allowed only on loopback, where the simulators run. */
export function isUsablePublicUrl(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

/**
 * TRUST_PROXY as Fastify's `trustProxy` takes it (a hop count as the function that trusts that many
 * hops); undefined when it is none of the accepted forms.
 */
export function trustProxyOption(v: string | undefined): boolean | string[] | ((addr: string, hop: number) => boolean) | undefined {
  if (v === undefined) return false;
  const t = v.trim();
  if (/^(true|false)$/i.test(t)) return t.toLowerCase() === 'true';
  if (/^\d+$/.test(t)) {
    const hops = Number(t);
    return hops >= 1 && hops <= 10 ? (_addr: string, hop: number) => hop < hops : undefined;
  }
  const list = t.split(/[\s,]+/).filter(Boolean);
  const ok = list.length > 0 && list.every((a) => {
    const [ip, bits, extra] = a.split('/');
    const family = isIP(ip);
    if (!family || extra !== undefined) return false;
    return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
  });
  return ok ? list : undefined;
}
