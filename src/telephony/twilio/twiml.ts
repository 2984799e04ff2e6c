import twilio from 'twilio';

/**
 * TwiML that connects the answered call to our media WebSocket, carrying the call id and its secret.
 * Written out rather than built with the SDK's XML builder: it is asked for on every call, on the event
 * loop that carries live audio, and the builder cost ~1 ms for these few elements (issue 18). The output
 * is the SDK's, byte for byte (test/unit/webhooks.test.ts compares them).
 */
export function streamTwiml(streamUrl: string, params: Record<string, string>): string {
  let inner = '';
  for (const [name, value] of Object.entries(params)) inner += `<Parameter name="${attr(name)}" value="${attr(value)}"/>`;
  const stream = inner ? `<Stream url="${attr(streamUrl)}">${inner}</Stream>` : `<Stream url="${attr(streamUrl)}"/>`;
  // Nothing after </Connect>: when we close the stream the call ends.
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Connect>${stream}</Connect></Response>`;
}

/** An XML attribute value as the SDK's builder (xmlbuilder) escapes it. */
function attr(v: string): string {
  return v.replace(/[&<"\t\n\r]/g, (c) => ATTR_ESCAPES[c]!);
}
const ATTR_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '"': '&quot;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;' };

/**
 * Plays DTMF digits on the call, then reconnects the media stream. Sent as a live call update, which ends
 * the running stream; TwiML verbs run in order, so the new stream opens only after the digits played.
 */
export function digitsThenStreamTwiml(digits: string, streamUrl: string, params: Record<string, string>): string {
  const response = new twilio.twiml.VoiceResponse();
  response.play({ digits });
  const stream = response.connect().stream({ url: streamUrl });
  for (const [name, value] of Object.entries(params)) stream.parameter({ name, value });
  return response.toString();
}

/** A short sentence, then the line is hung up (an incoming call we do not take). */
export function sayThenHangupTwiml(text: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say(text);
  response.hangup();
  return response.toString();
}

export function hangupTwiml(): string {
  const response = new twilio.twiml.VoiceResponse();
  response.hangup();
  return response.toString();
}

/** Cold transfer: the call is connected to `to`; when that leg ends, so does the call (nothing follows). */
export function dialTwiml(to: string, callerId: string, timeoutSec: number): string {
  const response = new twilio.twiml.VoiceResponse();
  response.dial({ callerId, timeout: timeoutSec }, to);
  return response.toString();
}

/**
 * Warm transfer: both legs meet in a room. Either leaving ends it for the other (endConferenceOnExit),
 * so nobody is left alone in a room; no beeps: this is a hand-over, not a meeting.
 */
export function conferenceTwiml(room: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.dial().conference({ startConferenceOnEnter: true, endConferenceOnExit: true, beep: 'false' }, room);
  return response.toString();
}

/** Warm transfer: the owner hears the brief, then Twilio asks us (`next`) where to put them. */
export function briefTwiml(brief: string, next: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say(brief);
  response.redirect({ method: 'POST' }, next);
  return response.toString();
}

/** The answer to an incoming text message: a reply SMS, or an empty response (send nothing). */
export function messageTwiml(reply?: string): string {
  const response = new twilio.twiml.MessagingResponse();
  if (reply) response.message(reply);
  return response.toString();
}
