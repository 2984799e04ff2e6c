/**
 * Structured logs (pino via Fastify). Messages are static; identifiers travel in fields. Secrets are
 * redacted wherever they could appear, and phone numbers are logged masked by the code that logs them.
 */
export function loggerOptions(level: string) {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-twilio-signature"]', 'req.headers.cookie', '*.apiKey', '*.authToken', '*.token', '*.secret'],
      censor: '[redacted]',
    },
  };
}
