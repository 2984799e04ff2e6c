import { z } from 'zod';
import { checkDestination, maskNumber } from '../policy.js';

/**
 * Where a call may be handed over. The destinations are fixed before the call starts (OWNER_PHONE, and
 * the call's own `transferTo`); during the call only a label chooses among them, so nothing the callee
 * says can make the agent dial a number of their choosing. Pure.
 */

export const OWNER_LABEL = 'owner';
const LABEL_RE = /^[a-z0-9][a-z0-9 _-]{0,31}$/i;

export interface TransferTarget {
  label: string;
  /** E.164. */
  number: string;
}

const e164 = z.string().trim().superRefine((v, ctx) => {
  // The floor of the dial policy already at the call's creation: emergency, premium-rate, malformed.
  const d = checkDestination(v);
  if (!d.ok) ctx.addIssue({ code: 'custom', message: d.message });
});

export const transferTargetsSchema = z
  .array(
    z.union([
      e164,
      z.strictObject({
        label: z.string().trim().regex(LABEL_RE, 'label: 1-32 letters, digits, spaces, _ or -'),
        number: e164,
      }),
    ]),
  )
  .min(1, 'is empty')
  .max(5, 'may list at most 5 destinations')
  .superRefine((list, ctx) => {
    const labels = list.map((t, i) => (typeof t === 'string' ? `transfer-${i + 1}` : t.label.toLowerCase()));
    if (labels.includes(OWNER_LABEL)) ctx.addIssue({ code: 'custom', message: `the label "${OWNER_LABEL}" is OWNER_PHONE's` });
    if (new Set(labels).size !== labels.length) ctx.addIssue({ code: 'custom', message: 'labels must be unique' });
  });

export type TransferTargetsInput = z.infer<typeof transferTargetsSchema>;

/** The call's destinations, in order: OWNER_PHONE first (if set), then the call's own. */
export function transferTargets(ownerPhone: string | undefined, input: TransferTargetsInput | undefined): TransferTarget[] {
  const out: TransferTarget[] = ownerPhone ? [{ label: OWNER_LABEL, number: ownerPhone }] : [];
  for (const [i, t] of (input ?? []).entries()) {
    const raw = typeof t === 'string' ? { label: `transfer-${i + 1}`, number: t } : t;
    const d = checkDestination(raw.number);
    out.push({ label: raw.label.toLowerCase(), number: d.ok ? d.e164 : raw.number });
  }
  return out;
}

export type TargetChoice = { ok: true; target: TransferTarget } | { ok: false; message: string };

/**
 * Picks a destination by label (case-insensitive) or 1-based position; none given: the first (the owner
 * when OWNER_PHONE is set). Anything that looks like a phone number is refused even if it is on the list:
 * the model chooses by label, it never dials what it heard.
 */
export function chooseTarget(targets: TransferTarget[], to: string | undefined): TargetChoice {
  const labels = targets.map((t) => t.label).join(', ');
  if (targets.length === 0) return { ok: false, message: 'no transfer destination is set for this call (set OWNER_PHONE, or transferTo when placing the call)' };
  if (to === undefined || to.trim() === '') return { ok: true, target: targets[0] };
  const want = to.trim().toLowerCase();
  if (/^\+?[\d\s().-]{5,}$/.test(want)) return { ok: false, message: `a phone number cannot be given; choose one of: ${labels}` };
  const byLabel = targets.find((t) => t.label === want);
  if (byLabel) return { ok: true, target: byLabel };
  if (/^\d$/.test(want) && Number(want) >= 1 && Number(want) <= targets.length) return { ok: true, target: targets[Number(want) - 1] };
  return { ok: false, message: `unknown destination "${to.trim().slice(0, 40)}"; choose one of: ${labels}` };
}

/** What the timeline and the model may see of a destination: its label and a masked number. */
export function describeTarget(t: TransferTarget): { label: string; number: string } {
  return { label: t.label, number: maskNumber(t.number) };
}
