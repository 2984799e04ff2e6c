/**
 * OpenAI Realtime (GA) wire codec: typed builders for the client events Callwright sends and a
 * validating parser for the server events it acts on. Pure functions, no socket.
 * The request shapes are checked at compile time against the official `openai` package's types.
 */
import type {
  ConversationItemCreateEvent,
  ConversationItemDeleteEvent,
  ConversationItemTruncateEvent,
  InputAudioBufferAppendEvent,
  RealtimeSessionCreateRequest,
  ResponseCancelEvent,
  ResponseCreateEvent,
  SessionUpdateEvent,
} from 'openai/resources/realtime/realtime';
import type { ToolSpec } from '../engine.js';
import { AudioChunk, isBase64 } from '../../media/audio-chunk.js';
import { pickUsage, type UsageShape } from '../usage-shape.js';

export interface SessionConfigInput {
  instructions: string;
  voice: string;
  transcriptionModel: string;
  silenceMs: number;
  autoRespond: boolean;
  tools: ToolSpec[];
}

/** Audio kept before the detected start of speech; speech_started's audio_start_ms includes it. */
export const PREFIX_PADDING_MS = 300;

function audioInput(c: Pick<SessionConfigInput, 'transcriptionModel' | 'silenceMs' | 'autoRespond'>) {
  return {
    // G.711 mu-law both ways: Twilio's own format, so audio passes through untouched.
    format: { type: 'audio/pcmu' as const },
    transcription: { model: c.transcriptionModel },
    turn_detection: turnDetection(c.silenceMs, c.autoRespond),
    noise_reduction: { type: 'near_field' as const },
  };
}

export function buildSessionUpdate(c: SessionConfigInput): SessionUpdateEvent {
  const session: RealtimeSessionCreateRequest = {
    type: 'realtime',
    instructions: c.instructions,
    output_modalities: ['audio'],
    audio: {
      input: audioInput(c),
      output: { format: { type: 'audio/pcmu' }, voice: c.voice },
    },
    tools: c.tools.map((t) => ({ type: 'function' as const, name: t.name, description: t.description, parameters: t.parameters })),
    tool_choice: 'auto',
  };
  return { type: 'session.update', session };
}

function turnDetection(silenceMs: number, autoRespond: boolean) {
  return {
    type: 'server_vad' as const,
    silence_duration_ms: silenceMs,
    prefix_padding_ms: PREFIX_PADDING_MS,
    threshold: 0.5,
    create_response: autoRespond,
    // The bridge decides what is a barge-in (its own neural VAD, a minimum speech length, backchannels:
    // docs/barge-in.md) and cancels the response itself; the server's VAD would cut the agent off on
    // any noise loud enough. Its speech_started/stopped events still come.
    interrupt_response: false,
  };
}

/**
 * Switches automatic responses on or off. The whole `audio.input` object is sent again, not just
 * `turn_detection`: whether the server merges nested objects is not documented, and a replaced
 * `audio.input` without its format would silently break the call.
 */
export function buildTurnDetectionUpdate(c: Pick<SessionConfigInput, 'transcriptionModel' | 'silenceMs' | 'autoRespond'>): SessionUpdateEvent {
  return { type: 'session.update', session: { type: 'realtime', audio: { input: audioInput(c) } } };
}

export function buildAppend(audio: AudioChunk): string {
  // Hand-built: this runs 50 times a second per call and the payload is base64 (no escaping needed).
  return `{"type":"input_audio_buffer.append","audio":"${audio.base64}"}`;
}
// Keeps the hand-built string honest against the SDK's type.
export type AppendShape = Pick<InputAudioBufferAppendEvent, 'type' | 'audio'>;

/**
 * Metadata on every response Callwright asks for. The server echoes a response's metadata in
 * response.created, so a response without it was started by the server's own turn detection.
 */
export const ASKED_METADATA = { asked_by: 'callwright' } as const;

export function buildResponseCreate(instructions?: string): ResponseCreateEvent {
  return { type: 'response.create', response: { ...(instructions ? { instructions } : {}), metadata: { ...ASKED_METADATA } } };
}

/** Cancels the active response; with `responseId`, only if that one is still the active one. */
export function buildResponseCancel(responseId?: string): ResponseCancelEvent {
  return responseId ? { type: 'response.cancel', response_id: responseId } : { type: 'response.cancel' };
}

export function buildTruncate(itemId: string, audioEndMs: number): ConversationItemTruncateEvent {
  return { type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: Math.max(0, Math.floor(audioEndMs)) };
}

export function buildDeleteItem(itemId: string): ConversationItemDeleteEvent {
  return { type: 'conversation.item.delete', item_id: itemId };
}

export function buildFunctionOutput(callId: string, output: string): ConversationItemCreateEvent {
  return { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } };
}

// ---------------------------------------------------------------------------------------------
// Server events: only those the engine acts on are decoded; the rest are `{ type: 'ignored' }`.

export interface RealtimeUsage {
  input_tokens?: number;
  output_tokens?: number;
  input_token_details?: {
    text_tokens?: number;
    audio_tokens?: number;
    cached_tokens?: number;
    cached_tokens_details?: { text_tokens?: number; audio_tokens?: number };
  };
  output_token_details?: { text_tokens?: number; audio_tokens?: number };
}

export type ServerEvent =
  | { type: 'session.created' }
  /** `autoRespond`: the session's turn_detection.create_response as the server now holds it, when it says. */
  | { type: 'session.updated'; autoRespond?: boolean }
  /** `audioMs`: audio_start_ms / audio_end_ms, ms of input audio since the session started. */
  | { type: 'input_audio_buffer.speech_started'; itemId?: string; audioMs?: number }
  | { type: 'input_audio_buffer.speech_stopped'; audioMs?: number }
  | { type: 'transcription.completed'; itemId: string; transcript: string; usage?: TranscriptionUsage }
  /** `asked`: its metadata is Callwright's (ASKED_METADATA): a response.create of ours, not the server's turn detection. */
  | { type: 'response.created'; responseId: string; asked: boolean }
  | { type: 'response.output_audio.delta'; responseId: string; itemId: string; audio: AudioChunk }
  | { type: 'response.output_audio_transcript.done'; responseId: string; itemId: string; transcript: string }
  | { type: 'response.function_call_arguments.done'; responseId: string; callId: string; name: string; arguments: string }
  | { type: 'response.done'; responseId: string; status: string; usage?: RealtimeUsage; error?: string; outputItemIds: string[] }
  | { type: 'error'; code: string; message: string; errorType: string; eventId?: string }
  | { type: 'ignored'; originalType: string };

export interface TranscriptionUsage {
  type?: string;
  input_tokens?: number;
  output_tokens?: number;
  input_token_details?: { text_tokens?: number; audio_tokens?: number };
  seconds?: number;
}

const TOKENS: UsageShape = { text_tokens: 'count', audio_tokens: 'count' };
const RESPONSE_USAGE: UsageShape = {
  input_tokens: 'count',
  output_tokens: 'count',
  input_token_details: { text_tokens: 'count', audio_tokens: 'count', cached_tokens: 'count', cached_tokens_details: TOKENS },
  output_token_details: TOKENS,
};
const TRANSCRIPTION_USAGE: UsageShape = { type: 'string', input_tokens: 'count', output_tokens: 'count', input_token_details: TOKENS, seconds: 'count' };

export class ServerEventError extends Error {
  constructor(message: string, readonly eventType?: string) {
    super(message);
    this.name = 'ServerEventError';
  }
}

type Obj = Record<string, unknown>;
const msOf = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
function s(o: Obj, k: string, t: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new ServerEventError(`${t}: "${k}" must be a string`, t);
  return v;
}

/**
 * Whether a session object (as session.updated echoes it) answers turns by itself: turn_detection's
 * create_response, under audio.input (GA) or at the top (beta); no turn detection answers nothing.
 * Undefined when the event does not carry it.
 */
function createResponseOf(session: unknown): boolean | undefined {
  if (!isObj(session)) return undefined;
  const input = isObj(session.audio) && isObj(session.audio.input) ? session.audio.input : undefined;
  const td = input && 'turn_detection' in input ? input.turn_detection : 'turn_detection' in session ? session.turn_detection : undefined;
  if (td === null) return false;
  if (!isObj(td)) return undefined;
  // The API's default for both server_vad and semantic_vad is true.
  return td.create_response !== false;
}

export function parseServerEvent(raw: string): ServerEvent {
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    throw new ServerEventError('server event is not valid JSON');
  }
  if (!isObj(m) || typeof m.type !== 'string') throw new ServerEventError('server event has no "type"');
  const t = m.type;
  switch (t) {
    case 'response.output_audio.delta':
    case 'response.audio.delta': // beta name, still sent by older snapshots
      const delta = s(m, 'delta', t);
      if (!isBase64(delta)) throw new ServerEventError(`${t}: "delta" is not base64 audio`, t);
      return { type: 'response.output_audio.delta', responseId: s(m, 'response_id', t), itemId: s(m, 'item_id', t), audio: AudioChunk.fromBase64(delta) };
    case 'session.updated':
      return { type: t, autoRespond: createResponseOf(m.session) };
    case 'session.created':
      return { type: t };
    case 'input_audio_buffer.speech_stopped':
      return { type: t, audioMs: msOf(m.audio_end_ms) };
    case 'input_audio_buffer.speech_started':
      return { type: t, itemId: typeof m.item_id === 'string' ? m.item_id : undefined, audioMs: msOf(m.audio_start_ms) };
    case 'conversation.item.input_audio_transcription.completed':
      return {
        type: 'transcription.completed',
        itemId: s(m, 'item_id', t),
        transcript: s(m, 'transcript', t),
        usage: pickUsage<TranscriptionUsage>(m.usage, TRANSCRIPTION_USAGE),
      };
    case 'response.created': {
      if (!isObj(m.response)) throw new ServerEventError(`${t}: "response" must be an object`, t);
      const meta = m.response.metadata;
      return { type: t, responseId: s(m.response, 'id', t), asked: isObj(meta) && meta.asked_by === ASKED_METADATA.asked_by };
    }
    case 'response.output_audio_transcript.done':
    case 'response.audio_transcript.done':
      return { type: 'response.output_audio_transcript.done', responseId: s(m, 'response_id', t), itemId: s(m, 'item_id', t), transcript: s(m, 'transcript', t) };
    case 'response.function_call_arguments.done':
      return { type: t, responseId: s(m, 'response_id', t), callId: s(m, 'call_id', t), name: s(m, 'name', t), arguments: s(m, 'arguments', t) };
    case 'response.done': {
      if (!isObj(m.response)) throw new ServerEventError(`${t}: "response" must be an object`, t);
      const r = m.response;
      const details = isObj(r.status_details) ? r.status_details : undefined;
      const err = details && isObj(details.error) && typeof details.error.message === 'string' ? details.error.message : undefined;
      const outputItemIds = Array.isArray(r.output) ? r.output.flatMap((o) => (isObj(o) && typeof o.id === 'string' ? [o.id] : [])) : [];
      return { type: t, responseId: s(r, 'id', t), status: s(r, 'status', t), usage: pickUsage<RealtimeUsage>(r.usage, RESPONSE_USAGE), error: err, outputItemIds };
    }
    case 'error': {
      const e = isObj(m.error) ? m.error : {};
      const errorType = typeof e.type === 'string' ? e.type : 'unknown';
      return {
        type: 'error',
        // server_error events carry no code; their type is the most specific name there is.
        code: typeof e.code === 'string' ? e.code : errorType,
        message: typeof e.message === 'string' ? e.message : 'unknown error',
        errorType,
        eventId: typeof e.event_id === 'string' ? e.event_id : undefined,
      };
    }
    default:
      return { type: 'ignored', originalType: t };
  }
}

/** Errors after which the session cannot go on; everything else is recorded and the call continues. */
export function isFatalError(errorType: string, code: string): boolean {
  if (errorType === 'server_error') return true;
  return ['invalid_api_key', 'session_expired', 'insufficient_quota', 'model_not_found'].includes(code);
}

/** Errors that are expected in a race and mean nothing (e.g. cancelling a response that just ended). */
export function isBenignError(code: string): boolean {
  return code === 'response_cancel_not_active' || code === 'conversation_already_has_active_response';
}
