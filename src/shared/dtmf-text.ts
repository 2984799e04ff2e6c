/** Words for keys pressed on a call. Importing nothing, so the browser build can use it. */
/** "pressed 1, pause, 2", with what was cut off: the same words in the text transcript and the web UI. */
export function dtmfSentText(d: Record<string, unknown>): string {
  const keys = (s: unknown) => [...String(s ?? '')].map((c) => (c === 'w' ? 'pause' : c)).join(', ');
  if (d.status === 'played') return `pressed ${keys(d.digits)}`;
  if (d.status === 'unconfirmed') return `pressed ${keys(d.digits)} (playback not confirmed)`;
  if (d.status === 'no-stream') return `could not press ${keys(d.digits)}: no audio connection`;
  return d.pressed ? `pressed ${keys(d.pressed)}; ${keys(String(d.digits).slice(String(d.pressed).length))} cut off` : `pressing ${keys(d.digits)} was cut off`;
}
