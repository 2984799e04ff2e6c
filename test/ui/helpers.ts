import type { Page } from 'playwright-core';
import { SIM_API_TOKEN } from '../sim/stack.js';
import { ensureWebBuilt } from '../../scripts/build-web.mjs';
import { axeViolations, horizontalOverflow, launch, pageErrors, screenshot, DESKTOP, PHONE } from './browser.js';
import assert from 'node:assert/strict';

/**
 * The UI tests upload through the API and never change CLIENTS_DIR behind the server's back, so the
 * folder watcher stays off: under a loaded machine its late events outlived the server in a test run.
 */
export const NO_WATCH = { KNOWLEDGE_WATCH: 'false' };

/** The UI tests run against the built UI; a test file run on its own builds it first if needed. */
export async function buildUi(): Promise<void> {
  await ensureWebBuilt({ quiet: true });
}

/** Signs in through the start-up URL, as the link `npm start` prints. */
export async function signInByUrl(page: Page, baseUrl: string, path = '/'): Promise<void> {
  await page.goto(`${baseUrl}${path}#token=${encodeURIComponent(SIM_API_TOKEN)}`);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/**
 * Checks a page the way a person would look at it, and saves what it looks like: axe-core finds no
 * WCAG A/AA violation, nothing scrolls sideways, no script error; a screenshot at desktop width (and
 * at phone width, and dark, on request) goes to test-artifacts/screenshots.
 */
export async function inspectPage(page: Page, name: string, o: { phone?: boolean; dark?: boolean } = {}): Promise<void> {
  const shots: Array<{ suffix: string; viewport: { width: number; height: number }; scheme: 'light' | 'dark' }> = [{ suffix: 'desktop-light', viewport: DESKTOP, scheme: 'light' }];
  if (o.dark) shots.push({ suffix: 'desktop-dark', viewport: DESKTOP, scheme: 'dark' });
  if (o.phone) shots.push({ suffix: 'phone-light', viewport: PHONE, scheme: 'light' });
  if (o.phone && o.dark) shots.push({ suffix: 'phone-dark', viewport: PHONE, scheme: 'dark' });
  for (const s of shots) {
    await page.setViewportSize(s.viewport);
    await page.emulateMedia({ colorScheme: s.scheme });
    assert.deepEqual(await axeViolations(page), [], `${name} (${s.suffix}): accessibility violations`);
    assert.ok((await horizontalOverflow(page)) <= 0, `${name} (${s.suffix}): the page scrolls sideways`);
    // From the top, as a person arriving on the page sees it (sticky parts stay where they belong).
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, `${name}-${s.suffix}`);
  }
  await page.setViewportSize(DESKTOP);
  await page.emulateMedia({ colorScheme: 'light' });
  assert.deepEqual(pageErrors(page), [], `${name}: script errors in the page`);
}

export { launch };
