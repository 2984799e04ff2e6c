import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { EndReason } from '../../../src/calls/state.js';

export function formatPhone(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}

/** 75 -> "1:15", 3723 -> "1:02:03". */
export function formatDuration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return '—';
  const s = Math.max(0, Math.floor(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Call costs are fractions of a cent: show enough digits to see them. */
export function formatMoney(amount: number | null | undefined, currency = 'USD'): string {
  if (amount === null || amount === undefined) return '—';
  const digits = amount !== 0 && Math.abs(amount) < 0.1 ? 4 : 2;
  return new Intl.NumberFormat(undefined, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(amount);
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay
    ? `Today ${d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`
    : d.toLocaleString(undefined, { month: 'short', day: 'numeric', year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Seconds since `from` as "m:ss" for timeline offsets. */
export function offset(fromIso: string | null | undefined, atIso: string): string {
  if (!fromIso) return '';
  return formatDuration((Date.parse(atIso) - Date.parse(fromIso)) / 1000);
}

export const ENGINE_LABEL: Record<string, string> = { openai: 'OpenAI Realtime', gemini: 'Gemini Live', cascade: 'Cascade (STT, LLM, TTS)' };

/** One label per end reason: typed by the server's list, so a new reason without a label fails the typecheck. */
export const END_REASON_LABEL: Record<EndReason, string> & Record<string, string | undefined> = {
  'callee-hangup': 'The callee hung up',
  'agent-hangup': 'The agent ended the call',
  'user-hangup': 'You hung up',
  voicemail: 'Voicemail: hung up before speaking',
  'voicemail-left': 'Voicemail: message left',
  'no-answer': 'No answer',
  busy: 'Line busy',
  failed: 'The carrier could not place the call',
  canceled: 'Canceled',
  'max-duration': 'Maximum call length reached',
  'cost-limit': 'Cost limit reached: the agent said goodbye',
  'hold-timeout': 'On hold too long: the agent said goodbye',
  'provider-error': 'The voice AI failed',
  'media-error': 'The audio stream failed',
  'dial-error': 'The carrier refused the call',
  interrupted: 'Callwright restarted mid-call',
  'node-lost': 'The server running the call was lost mid-call',
  'menu-stuck': 'Stuck in a phone menu (0 and "representative" tried)',
  transferred: 'Handed over (transferred)',
};

export const STATUS_LABEL: Record<string, string> = {
  queued: 'Queued',
  dialing: 'Dialing',
  ringing: 'Ringing',
  answered: 'Answered',
  screening: 'Screening',
  talking: 'Talking',
  ended: 'Ended',
};
