import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';

/**
 * The official SDK's HTTP client, re-pointed at TWILIO_API_URL. The SDK always builds
 * https://api.twilio.com URLs; swapping the origin here (its documented `httpClient` seam) lets a proxy or
 * the local simulator stand in, with every request otherwise exactly as the SDK makes it.
 */
export class RebasedRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(apiUrl: string, timeoutMs = 15_000) {
    super({ timeout: timeoutMs, keepAlive: true });
    this.base = new URL(apiUrl);
  }

  override request<T>(opts: RequestClient.RequestOptions<T>) {
    const u = new URL(opts.uri);
    if (u.hostname === 'api.twilio.com' || u.hostname.endsWith('.twilio.com')) {
      u.protocol = this.base.protocol;
      u.host = this.base.host;
      if (this.base.pathname !== '/') u.pathname = this.base.pathname.replace(/\/$/, '') + u.pathname;
    }
    return super.request<T>({ ...opts, uri: u.toString() });
  }
}
