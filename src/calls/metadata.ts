import { z } from 'zod';

/** Limits on a call's metadata: labels for the caller's own systems, not a store for documents. */
export const METADATA_MAX_KEYS = 20;
export const METADATA_KEY_MAX = 40;
export const METADATA_VALUE_MAX = 500;
export const METADATA_MAX_BYTES = 4096;

export type MetadataValue = string | number | boolean;
export type CallMetadata = Record<string, MetadataValue>;

const KEY_RE = /^[A-Za-z0-9_.:-]+$/;

/**
 * `metadata` on POST /api/calls: a flat object of the caller's own labels (an order id, a CRM record),
 * kept with the call and returned wherever the call is (the API, the event stream, exports, the outcome
 * webhook, MCP, the CLI). Flat on purpose: every consumer can show it as key = value.
 */
export const metadataSchema = z
  .record(
    z.string().min(1, 'keys must not be empty').max(METADATA_KEY_MAX, `keys are at most ${METADATA_KEY_MAX} characters`).regex(KEY_RE, 'keys may hold only letters, digits, "_", "-", "." and ":"'),
    z.union([z.string().max(METADATA_VALUE_MAX, `is longer than ${METADATA_VALUE_MAX} characters`), z.number().finite(), z.boolean()], {
      error: 'must be a string, a number or true/false (no objects, lists or null)',
    }),
    { error: 'must be an object of key: value (string, number or boolean)' },
  )
  .superRefine((v, ctx) => {
    const keys = Object.keys(v);
    if (keys.length > METADATA_MAX_KEYS) ctx.addIssue({ code: 'custom', message: `has ${keys.length} keys; at most ${METADATA_MAX_KEYS}` });
    const bytes = Buffer.byteLength(JSON.stringify(v), 'utf8');
    if (bytes > METADATA_MAX_BYTES) ctx.addIssue({ code: 'custom', message: `is ${bytes} bytes as JSON; at most ${METADATA_MAX_BYTES}` });
  });

/** The stored form (a JSON column); null when the call has none. */
export function storeMetadata(m: CallMetadata | undefined): string | null {
  return m && Object.keys(m).length ? JSON.stringify(m) : null;
}

/** The call's metadata as the API shows it: always an object (empty when none was given). */
export function readMetadata(stored: string | null | undefined): CallMetadata {
  if (!stored) return {};
  try {
    const v = JSON.parse(stored) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as CallMetadata) : {};
  } catch {
    return {};
  }
}
