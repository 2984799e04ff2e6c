import twilio from 'twilio';
import { z } from 'zod';
import type { CarrierCallStatus, CarrierEvent, InboundMessage } from '../carrier.js';

/** Twilio's X-Twilio-Signature check, against the public URL Twilio used (never the Host header). */
export function isValidSignature(authToken: string, signature: string | undefined, url: string, params: Record<string, unknown>): boolean {
  if (!signature) return false;
  try {
    return twilio.validateRequest(authToken, signature, url, params as Record<string, string>);
  } catch {
    return false;
  }
}

const callSid = z.string().regex(/^CA[0-9a-fA-F]{32}$/, 'CallSid must be CA + 32 hex digits');

export const statusSchema = z.object({
  CallSid: callSid,
  CallStatus: z.enum(['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled']),
  CallDuration: z.coerce.number().int().nonnegative().optional(),
  SequenceNumber: z.string().optional(),
});
export const voiceSchema = z.object({ CallSid: callSid });
/**
 * A call to our number (the number's VoiceUrl, no callId of ours in the URL): Twilio's voice webhook
 * names the caller (From), the number called (To) and Direction `inbound`. Caller ID may be withheld
 * (e.g. `anonymous`), so From is any short string, not necessarily a number.
 */
export const incomingVoiceSchema = z.object({
  CallSid: callSid,
  From: z.string().trim().min(1).max(64),
  To: z.string().trim().min(1).max(64),
  Direction: z.literal('inbound', { error: 'must be "inbound" for a call to our number' }),
});
export const legAnsweredSchema = z.object({ CallSid: callSid, AnsweredBy: z.string().max(40).optional() });
export const amdSchema = z.object({ CallSid: callSid, AnsweredBy: z.string().min(1).max(40) });
export const recordingSchema = z.object({
  CallSid: callSid,
  RecordingSid: z.string().regex(/^RE[0-9a-fA-F]{32}$/, 'RecordingSid must be RE + 32 hex digits'),
  RecordingStatus: z.string().min(1).max(20),
  RecordingDuration: z.coerce.number().int().nonnegative().optional(),
  // Never fetched (the download URL is built from TWILIO_API_URL); kept only to record a foreign host.
  RecordingUrl: z.string().max(2048).optional(),
});

export type ParsedWebhook = { carrierCallId: string; event: CarrierEvent; dedupeKey: string };

export class WebhookError extends Error {}

function parse<T extends z.ZodTypeAny>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) throw new WebhookError(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return r.data;
}

const STATUS_MAP: Record<string, CarrierCallStatus> = {
  queued: 'initiated',
  initiated: 'initiated',
  ringing: 'ringing',
  'in-progress': 'answered',
  completed: 'completed',
  busy: 'busy',
  failed: 'failed',
  'no-answer': 'no-answer',
  canceled: 'canceled',
};

export function parseStatusWebhook(body: unknown): ParsedWebhook {
  const b = parse(statusSchema, body);
  const status = STATUS_MAP[b.CallStatus];
  return { carrierCallId: b.CallSid, event: { type: 'status', status, durationSec: b.CallDuration }, dedupeKey: `status:${b.CallSid}:${status}` };
}

/** The TwiML fetch: only the CallSid matters (it may bind the call, see calls/carrier-binding.ts). */
export function parseVoiceWebhook(body: unknown): { carrierCallId: string } {
  return { carrierCallId: parse(voiceSchema, body).CallSid };
}

/** /twilio/voice as documented: a call we dialled (callId in the URL) sends the CallSid; a call to our number also From, To, Direction. */
export const voiceDocSchema = voiceSchema.extend({ From: z.string().optional(), To: z.string().optional(), Direction: z.string().optional() });

/** The voice webhook of a call to our number (see incomingVoiceSchema). */
export function parseIncomingVoiceWebhook(body: unknown): { carrierCallId: string; from: string; to: string } {
  const b = parse(incomingVoiceSchema, body);
  return { carrierCallId: b.CallSid, from: b.From, to: b.To };
}

const MACHINE = new Set(['machine_start', 'machine_end_beep', 'machine_end_silence', 'machine_end_other', 'fax']);

export function parseAmdWebhook(body: unknown): ParsedWebhook {
  const b = parse(amdSchema, body);
  return { carrierCallId: b.CallSid, event: { type: 'amd', answeredBy: b.AnsweredBy, machine: MACHINE.has(b.AnsweredBy) }, dedupeKey: `amd:${b.CallSid}` };
}

/** Only the origin of a callback's URL goes further (for the audit record): the URL itself is never kept. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'unparseable';
  }
}

export function parseRecordingWebhook(body: unknown): ParsedWebhook {
  const b = parse(recordingSchema, body);
  return {
    carrierCallId: b.CallSid,
    event: { type: 'recording', recordingId: b.RecordingSid, status: b.RecordingStatus, durationSec: b.RecordingDuration, ...(b.RecordingUrl ? { advertisedOrigin: originOf(b.RecordingUrl) } : {}) },
    dedupeKey: `recording:${b.RecordingSid}:${b.RecordingStatus}`,
  };
}

/**
 * A warm-transfer leg's TwiML fetch with synchronous machine detection (`AnsweredBy` in the request).
 * No verdict, or `unknown` (someone picked up and said nothing), counts as a person.
 */
export function parseLegAnsweredWebhook(body: unknown): { carrierCallId: string; human: boolean } {
  const b = parse(legAnsweredSchema, body);
  return { carrierCallId: b.CallSid, human: !b.AnsweredBy || !MACHINE.has(b.AnsweredBy) };
}

// The incoming-message webhook (https://www.twilio.com/docs/messaging/guides/webhook-request): only the
// fields the product reads; Twilio adds others freely, and the signature covers all of them.
export const inboundMessageSchema = z.object({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/, 'MessageSid must be SM + 32 hex digits'),
  From: z.string().min(1).max(64),
  To: z.string().min(1).max(64),
  Body: z.string().max(1600).default(''),
});

export function parseInboundMessageWebhook(body: unknown): InboundMessage {
  const b = parse(inboundMessageSchema, body);
  return { messageId: b.MessageSid, from: b.From, to: b.To, body: b.Body };
}
