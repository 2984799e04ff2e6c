/**
 * A phone menu (IVR) at the callee's end: plays prompts, hears keys with the line's DTMF receiver (the
 * agent's in-band tones as played, or the carrier's own tones), branches, and replays itself on a wrong
 * key or none. Timings and wordings follow real menu engines: see README.md, "Phone menus".
 */
import type { PhoneMenu } from './types.js';
import type { Line } from './line.js';

export interface MenuHost {
  line: Line;
  /** Speaks `text` and resolves when its last frame has gone out (false: the call ended). */
  say(text: string): Promise<boolean>;
  log(type: string, fields?: Record<string, unknown>): void;
  hangup(): void;
}

const INVALID = "I'm sorry, that is not a valid option.";
const NO_INPUT = "I'm sorry, I didn't get that.";

/** Runs one menu level (and its submenus). Resolves 'done' when an option's line was said, 'hangup' when the menu gave up. */
export async function runMenu(menu: PhoneMenu, h: MenuHost, path = ''): Promise<'done' | 'hangup' | 'stopped'> {
  const { line } = h;
  const sentences = Array.isArray(menu.prompt) ? menu.prompt : [menu.prompt];
  const maxTries = menu.maxTries ?? 3;
  let lead = '';
  for (let attempt = 1; attempt <= maxTries; attempt++) {
    // Keys pressed from the start of the prompt count: callers may key ahead.
    const keysBefore = line.keysHeard;
    h.log('menu-prompt', { path, attempt });
    for (const [i, s] of sentences.entries()) {
      if (i > 0 && !(await line.waitMs(menu.gapMs ?? 700))) return 'stopped';
      if (!(await h.say(i === 0 && lead ? `${lead} ${s}` : s))) return 'stopped';
      if (line.keysHeard > keysBefore) break;
    }
    const got = await line.waitFor(() => line.keysHeard > keysBefore, menu.timeoutMs ?? 5000);
    if (line.isStopped) return 'stopped';
    if (!got) {
      h.log('menu-no-input', { path, attempt });
      lead = menu.noInput ?? NO_INPUT;
      continue;
    }
    // The menu takes one key; the rest of a sequence pressed at once is not for this level.
    await line.waitMs(150);
    const key = line.keyAt(keysBefore)!;
    const next = menu.options[key];
    h.log('menu-key', { path, key, valid: Boolean(next) });
    if (!next) {
      lead = menu.invalid ?? INVALID;
      continue;
    }
    if ('say' in next) return (await h.say(next.say)) ? 'done' : 'stopped';
    return runMenu(next, h, path + key);
  }
  h.log('menu-gave-up', { path });
  await h.say(menu.goodbye ?? 'Goodbye.');
  h.hangup();
  return 'hangup';
}
