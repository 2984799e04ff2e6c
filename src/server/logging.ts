/**
 * Structured logs (pino via Fastify). Messages are static; identifiers travel in fields. Secrets are
 * redacted wherever they could appear, and phone numbers are logged masked by the code that logs them.
 */
export function loggerOptions(level: string) {
  return {
    level,
    serializers: {
      // Request URLs may carry a call's event-stream token: log them without it.
      req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
    },
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-twilio-signature"]', 'req.headers.cookie', '*.apiKey', '*.authToken', '*.token', '*.secret'],
      censor: '[redacted]',
    },
  };
}

export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token)=)[^&]*/g, '$1[redacted]');
}
