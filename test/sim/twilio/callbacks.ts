/**
 * Parameter sets of Twilio's voice webhooks, with Twilio's exact names, in one place so the wire
 * format can be compared against Twilio's documentation at a glance.
 */
import type { CallStatus, CreateParams } from './types.js';
import { rfc2822 } from './util.js';

export interface CallIdentity {
  accountSid: string;
  callSid: string;
  params: CreateParams;
}

/** Sent with every TwiML request and status callback. */
export function callParams(c: CallIdentity, callStatus: string): Record<string, string> {
  return {
    AccountSid: c.accountSid,
    ApiVersion: '2010-04-01',
    CallSid: c.callSid,
    CallStatus: callStatus,
    Called: c.params.To,
    Caller: c.params.From,
    Direction: c.params.Direction ?? 'outbound-api',
    From: c.params.From,
    To: c.params.To,
  };
}

export type StatusEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

/** Without StatusCallbackEvent Twilio only reports the final state. */
export function statusEventWanted(params: CreateParams, event: StatusEvent): boolean {
  if (!params.StatusCallback) return false;
  const requested = params.StatusCallbackEvent;
  return requested.length > 0 ? requested.includes(event) : event === 'completed';
}

export function statusCallbackParams(
  c: CallIdentity,
  event: StatusEvent,
  status: CallStatus,
  sequenceNumber: number,
  final?: { durationSec: number | null; answeredBy?: string },
): Record<string, string> {
  const callStatus =
    event === 'initiated' ? 'initiated' : event === 'ringing' ? 'ringing' : event === 'answered' ? 'in-progress' : status;
  const p: Record<string, string> = {
    ...callParams(c, callStatus),
    CallbackSource: 'call-progress-events',
    SequenceNumber: String(sequenceNumber),
    Timestamp: rfc2822(new Date()),
  };
  if (final) {
    const secs = final.durationSec ?? 0;
    p.CallDuration = String(secs);
    // Duration is in billed minutes.
    p.Duration = String(Math.ceil(secs / 60));
    p.SipResponseCode = sipCode(status);
    if (final.answeredBy) p.AnsweredBy = final.answeredBy;
  }
  return p;
}

export function amdParams(c: CallIdentity, answeredBy: string, durationMs: number): Record<string, string> {
  return {
    AccountSid: c.accountSid,
    CallSid: c.callSid,
    AnsweredBy: answeredBy,
    MachineDetectionDuration: String(durationMs),
  };
}

export function recordingParams(
  c: CallIdentity,
  rec: { sid: string; url: string; status: 'in-progress' | 'completed'; startTime: Date; durationSec: number; channels: 1 | 2 },
): Record<string, string> {
  const p: Record<string, string> = {
    AccountSid: c.accountSid,
    CallSid: c.callSid,
    RecordingSid: rec.sid,
    // Twilio gives the media URL without an extension; clients append .mp3 or .wav.
    RecordingUrl: rec.url,
    RecordingStatus: rec.status,
    RecordingChannels: String(rec.channels),
    // A recording started on a live call through the Recordings resource says so.
    RecordingSource: c.params.Record === 'true' ? 'OutboundAPI' : 'StartCallRecordingAPI',
    RecordingStartTime: rfc2822(rec.startTime),
    RecordingTrack: 'both',
  };
  if (rec.status === 'completed') {
    p.RecordingDuration = String(rec.durationSec);
    p.ErrorCode = '0';
  }
  return p;
}

export function streamStatusParams(
  c: CallIdentity,
  streamSid: string,
  name: string | undefined,
  event: string,
  error?: string,
): Record<string, string> {
  const p: Record<string, string> = {
    AccountSid: c.accountSid,
    CallSid: c.callSid,
    StreamSid: streamSid,
    StreamName: name ?? streamSid,
    StreamEvent: event,
    Timestamp: new Date().toISOString(),
  };
  if (error) p.StreamError = error;
  return p;
}

function sipCode(status: CallStatus): string {
  switch (status) {
    case 'busy':
      return '486';
    case 'no-answer':
    case 'canceled':
      return '487';
    case 'failed':
      return '500';
    default:
      return '200';
  }
}
