/**
 * The new-call form's "when" part: now or at a later time (a scheduled call, docs/scheduled-calls.md),
 * and overriding calling hours with the reason, which is recorded on the call.
 */
export interface WhenValue {
  later: boolean;
  /** The datetime-local value: the browser's local time, no offset. */
  at: string;
  override: boolean;
  reason: string;
}

export const WHEN_NOW: WhenValue = { later: false, at: '', override: false, reason: '' };

/** A Date as a datetime-local value (local time, minutes). */
export function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** What the request gets from these fields; an error names the field when they cannot be sent. */
export function whenRequest(v: WhenValue, now = new Date()): { fields: Record<string, unknown>; errors: Record<string, string> } {
  const fields: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  if (v.later) {
    const at = v.at ? new Date(v.at) : undefined;
    if (!at || Number.isNaN(at.getTime())) errors.scheduledAt = 'Choose the date and time to place the call.';
    else if (at.getTime() <= now.getTime()) errors.scheduledAt = 'That time has passed: choose a time in the future.';
    // The browser's local time, sent with its offset as UTC: the server stores it as that instant.
    else fields.scheduledAt = at.toISOString();
  }
  if (v.override) {
    if (!v.reason.trim()) errors.overrideReason = 'Say why this call may go outside calling hours: it is recorded on the call.';
    else Object.assign(fields, { overrideCallingHours: true, overrideReason: v.reason.trim() });
  }
  return { fields, errors };
}

export function WhenFields({ value, onChange, errors, callingHours }: { value: WhenValue; onChange: (v: WhenValue) => void; errors: Record<string, string>; callingHours?: string }) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return (
    <>
      <fieldset class="field">
        <legend>When</legend>
        <div class="segmented">
          <label class={`segment${!value.later ? ' selected' : ''}`}>
            <input type="radio" id="when-now" name="when" checked={!value.later} onChange={() => onChange({ ...value, later: false })} />
            <span>Now</span>
          </label>
          <label class={`segment${value.later ? ' selected' : ''}`}>
            <input type="radio" id="when-later" name="when" checked={value.later} onChange={() => onChange({ ...value, later: true, at: value.at || toLocalInput(new Date(Date.now() + 3_600_000)) })} />
            <span>Later</span>
          </label>
        </div>
        {value.later && (
          <>
            <label for="scheduledAt" class="visually-hidden">
              Date and time
            </label>
            <input
              id="scheduledAt"
              type="datetime-local"
              value={value.at}
              min={toLocalInput(new Date())}
              onInput={(e) => onChange({ ...value, at: (e.target as HTMLInputElement).value })}
              aria-invalid={errors.scheduledAt ? 'true' : undefined}
              aria-describedby="scheduledAt-hint"
            />
          </>
        )}
        <p id="scheduledAt-hint" class={errors.scheduledAt ? 'field-error' : 'hint'}>
          {errors.scheduledAt ||
            (value.later ? `Your time (${zone}). The call waits on the server, across restarts; calling hours and caps are checked again when it dials.` : 'The call is placed as soon as you press the button.')}
        </p>
      </fieldset>

      {callingHours && callingHours !== 'off' && (
        <div class="field">
          <label class="checkbox">
            <input type="checkbox" id="overrideCallingHours" checked={value.override} onChange={(e) => onChange({ ...value, override: (e.target as HTMLInputElement).checked })} />
            <span>Override calling hours ({callingHours} in the callee's local time)</span>
          </label>
          {value.override && (
            <>
              <label for="overrideReason">Reason for calling outside the hours</label>
              <input
                id="overrideReason"
                type="text"
                maxLength={500}
                placeholder="They asked us to call back after the shop closes."
                value={value.reason}
                onInput={(e) => onChange({ ...value, reason: (e.target as HTMLInputElement).value })}
                aria-invalid={errors.overrideReason ? 'true' : undefined}
                aria-describedby="overrideReason-hint"
              />
            </>
          )}
          <p id="overrideReason-hint" class={errors.overrideReason ? 'field-error' : 'hint'}>
            {errors.overrideReason || (value.override ? 'Recorded on the call. Every other check (allow list, do-not-call, caps) still applies.' : 'Calls outside these hours are refused unless you override them with a reason.')}
          </p>
        </div>
      )}
    </>
  );
}
