import { useEffect, useState } from 'preact/hooks';
import { api } from './api';
import type { RepeatRequest } from './types';

/** The new-call page's address for placing a call again: the form opens filled in, for a look before dialling. */
export const callAgainHref = (id: string) => `/?again=${encodeURIComponent(id)}`;

/** What the form has no field for but the call had: sent along unchanged (voicemail plan, keys, hold limit). */
export type CallAgainExtras = Pick<RepeatRequest, 'voicemail' | 'dtmf' | 'hold'>;

/**
 * On `/?again=<call id>`: loads the call's settings (GET /api/calls/:id/repeat) and hands them to
 * `fill` once, for the form's fields. Returns the settings the form has no field for, which the
 * request must carry, and a line saying where the form's values came from.
 */
export function useCallAgain(fill: (r: RepeatRequest) => void): { from?: string; extras: CallAgainExtras; error?: string } {
  const [state, setState] = useState<{ from?: string; extras: CallAgainExtras; error?: string }>({ extras: {} });
  useEffect(() => {
    const id = new URLSearchParams(location.search).get('again');
    if (!id) return;
    const ctl = new AbortController();
    api<{ request: RepeatRequest }>(`/api/calls/${encodeURIComponent(id)}/repeat`, { signal: ctl.signal }).then(
      ({ request: r }) => {
        fill(r);
        const { voicemail, dtmf, hold } = r;
        setState({ from: id, extras: { ...(voicemail ? { voicemail } : {}), ...(dtmf ? { dtmf } : {}), ...(hold ? { hold } : {}) } });
      },
      (err: Error) => err.name !== 'AbortError' && setState({ extras: {}, error: `Could not load the call to repeat: ${err.message}` }),
    );
    return () => ctl.abort();
  }, []);
  return state;
}

/** The extras in words, for the form: "Also repeated: keys 1w2, voicemail: leave a message". */
export function describeExtras(e: CallAgainExtras): string[] {
  const out: string[] = [];
  if (e.dtmf) out.push(`keys to press: ${e.dtmf}`);
  if (e.voicemail) out.push(`if voicemail answers: ${e.voicemail.action === 'leave-message' ? 'leave a message' : 'hang up'}`);
  if (e.hold) out.push(`longest hold: ${e.hold.maxMinutes} min`);
  return out;
}
