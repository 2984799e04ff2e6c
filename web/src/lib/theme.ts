import { createStore } from './store';

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'callwright.theme';

function saved(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

export const theme = createStore<ThemeChoice>(saved());
const dark = window.matchMedia('(prefers-color-scheme: dark)');
/** Follows the operating system's setting live, so "system" re-renders when it changes. */
export const systemDark = createStore(dark.matches);
dark.addEventListener('change', (e) => systemDark.set(e.matches));

export function effectiveTheme(choice = theme.get()): 'light' | 'dark' {
  return choice === 'system' ? (systemDark.get() ? 'dark' : 'light') : choice;
}

export function setTheme(choice: ThemeChoice): void {
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    /* private mode: the choice lasts for this page */
  }
  theme.set(choice);
}

function apply(choice: ThemeChoice): void {
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

apply(theme.get());
theme.subscribe(apply);
