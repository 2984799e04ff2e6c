import twilio from 'twilio';

/** TwiML that connects the answered call to our media WebSocket, carrying the call id and its secret. */
export function streamTwiml(streamUrl: string, params: Record<string, string>): string {
  const response = new twilio.twiml.VoiceResponse();
  const connect = response.connect();
  const stream = connect.stream({ url: streamUrl });
  for (const [name, value] of Object.entries(params)) stream.parameter({ name, value });
  // Nothing after </Connect>: when we close the stream the call ends.
  return response.toString();
}

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

export function hangupTwiml(): string {
  const response = new twilio.twiml.VoiceResponse();
  response.hangup();
  return response.toString();
}
