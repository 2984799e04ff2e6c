import { InvalidArgumentError } from 'commander';

/**
 * `--at`: when a scheduled call dials, as the server wants it (ISO 8601 with an offset). Accepted: that
 * form as is; a local date and time without an offset ("2026-05-04 09:30"), read in this machine's time
 * zone; or a delay from now ("+10m", "+2h", "+1d", "+30s").
 */
export function parseWhen(v: string, now: Date = new Date()): string {
  const s = v.trim();
  const rel = /^\+(\d+)\s*([smhd])$/.exec(s);
  if (rel) return new Date(now.getTime() + Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd']).toISOString();
  if (/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.test(s)) return s.replace(' ', 'T');
  const local = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d))?$/.exec(s);
  if (local) {
    const [, y, mo, d, h, mi, se] = local.map(Number);
    const at = new Date(y!, mo! - 1, d!, h!, mi!, se || 0);
    if (!Number.isNaN(at.getTime())) return at.toISOString();
  }
  throw new InvalidArgumentError('expected a date and time (2026-05-04T09:30:00+02:00, or 2026-05-04 09:30 in local time) or a delay (+10m, +2h, +1d)');
}
