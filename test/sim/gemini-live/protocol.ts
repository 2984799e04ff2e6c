/**
 * Wire vocabulary of BidiGenerateContent: server message shapes, close codes and the error texts the real
 * service puts in close frames. The real API reports every request error by closing the socket, never with
 * an error message, so a protocol fault here is always a ProtocolError carrying a close code.
 */

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
/** What Google uses for malformed or invalid requests (bad JSON, unknown fields, bad key, bad handle). */
export const CLOSE_INVALID = 1007;
/** Policy violations: unknown model, missing credentials, unknown tool call id. */
export const CLOSE_POLICY = 1008;
export const CLOSE_INTERNAL = 1011;

export const REASON_BAD_KEY = 'API key not valid. Please pass a valid API key.';
export const REASON_NO_KEY =
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";
export const REASON_INVALID_ARGUMENT = 'Request contains an invalid argument.';
export const REASON_INTERNAL = 'Internal error occurred.';
export const REASON_DEADLINE = 'Deadline expired before operation could complete.';

export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The protobuf-JSON parser's wording, which is what a client sees for a misspelt or snake_case field. */
export function unknownField(name: string, at: string): ProtocolError {
  const where = at ? ` at '${at}'` : '';
  return new ProtocolError(CLOSE_INVALID, `Invalid JSON payload received. Unknown name "${name}"${where}: Cannot find field.`);
}

/** A close reason is limited to 123 bytes by RFC 6455; `ws` throws on longer ones, so cut on a UTF-8 boundary. */
export function closeReason(text: string): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= 123) return text;
  let end = 123;
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/** google.protobuf.Duration in JSON: seconds with an 's' suffix, fractional digits only when needed. */
export function durationJson(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? `${s}s` : `${s.toFixed(3)}s`;
}

// ---- server messages ------------------------------------------------------------------------------------

export interface Transcription {
  text: string;
  finished?: boolean;
}

export interface InlineDataPart {
  inlineData: { mimeType: string; data: string };
}

export interface ServerContent {
  modelTurn?: { parts: InlineDataPart[] };
  generationComplete?: true;
  turnComplete?: true;
  interrupted?: true;
  inputTranscription?: Transcription;
  outputTranscription?: Transcription;
}

export interface ModalityTokenCount {
  modality: 'TEXT' | 'AUDIO';
  /** Omitted when zero, as protobuf JSON omits default values. */
  tokenCount?: number;
}

/** Counts are omitted when zero (protobuf JSON), so a client must default every one of them to 0. */
export interface UsageMetadata {
  promptTokenCount?: number;
  responseTokenCount?: number;
  totalTokenCount?: number;
  /** Thinking tokens (billed as output), reported beside the response count, not in it. */
  thoughtsTokenCount?: number;
  promptTokensDetails?: ModalityTokenCount[];
  responseTokensDetails?: ModalityTokenCount[];
}

export interface FunctionCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

/** usageMetadata sits beside the oneof, so it can ride on any message; the service puts it on turnComplete. */
export type ServerMessage =
  | { setupComplete: Record<string, never> }
  | { serverContent: ServerContent; usageMetadata?: UsageMetadata }
  | { toolCall: { functionCalls: FunctionCall[] } }
  | { toolCallCancellation: { ids: string[] } }
  | { goAway: { timeLeft: string } }
  | { sessionResumptionUpdate: { newHandle: string; resumable: boolean } };

/** The client message oneof (`message_type`); exactly one must be set. */
export const CLIENT_MESSAGE_KINDS = ['setup', 'clientContent', 'realtimeInput', 'toolResponse'] as const;
export type ClientMessageKind = (typeof CLIENT_MESSAGE_KINDS)[number];
