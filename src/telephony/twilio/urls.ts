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

/** Media Streams URLs cannot carry a query string; ids and the secret go in <Parameter>s instead. */
export function mediaStreamUrl(publicUrl: string): string {
  return publicUrl.replace(/\/+$/, '').replace(/^http/, 'ws') + '/twilio/media';
}
