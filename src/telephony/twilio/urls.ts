/** The public URLs Twilio calls us on. Ids travel in the query of webhooks (covered by the signature). */
export function webhookUrls(publicUrl: string, callId: string) {
  const base = publicUrl.replace(/\/+$/, '');
  const q = `?callId=${encodeURIComponent(callId)}`;
  return {
    voice: `${base}/twilio/voice${q}`,
    status: `${base}/twilio/status${q}`,
    amd: `${base}/twilio/amd${q}`,
    recording: `${base}/twilio/recording${q}`,
  };
}

/** Where Twilio reports a warm-transfer leg (the call to the owner); `callId` is the call it belongs to. */
export function transferLegUrls(publicUrl: string, callId: string) {
  const base = publicUrl.replace(/\/+$/, '');
  const q = `?callId=${encodeURIComponent(callId)}`;
  return {
    answered: `${base}/twilio/transfer/answered${q}`,
    briefed: `${base}/twilio/transfer/briefed${q}`,
    status: `${base}/twilio/transfer/status${q}`,
  };
}

/**
 * Where our number sends its incoming calls (the IncomingPhoneNumber's VoiceUrl and StatusCallback):
 * no callId, since no call of ours exists yet; the CallSid in the signed body identifies the call.
 */
export function numberUrls(publicUrl: string) {
  const base = publicUrl.replace(/\/+$/, '');
  return { voice: `${base}/twilio/voice`, status: `${base}/twilio/status` };
}

/** Media Streams URLs cannot carry a query string; ids and the secret go in <Parameter>s instead. */
export function mediaStreamUrl(publicUrl: string): string {
  return publicUrl.replace(/\/+$/, '').replace(/^http/, 'ws') + '/twilio/media';
}
