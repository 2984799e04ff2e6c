import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { SIM_API_TOKEN, SIM_AUTH_TOKEN, SIM_GEMINI_KEY, SIM_OPENAI_KEY } from '../sim/stack.js';
import { withStack } from '../e2e/helpers.js';
import { buildUi, inspectPage, launch, NO_WATCH } from './helpers.js';

before(buildUi);

test('sign-in form, settings without secrets, theme toggle, keyboard navigation, deep links, sign-out', async () => {
  // Safety settings of its own, to see them on the settings page (this test places no call).
  const env = { ...NO_WATCH, ALLOWED_DESTINATIONS: '+1415,+1628,GB', CALLING_HOURS: '09:00-20:00', MAX_COST_PER_DAY_USD: '0', MAX_CALL_SECONDS: '900' };
  await withStack({ env }, async (stack) => {
    const b = await launch();
    const page = b.page;
    try {
      // No token: the sign-in form. A wrong token is refused on the field; the right one signs in.
      await page.goto(`${stack.baseUrl}/settings`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await inspectPage(page, 'sign-in', { phone: true, dark: true });
      await page.getByLabel('API token').fill('not-the-token-at-all');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('That token was not accepted').waitFor();
      assert.equal(await page.getByLabel('API token').getAttribute('aria-invalid'), 'true');
      await page.getByLabel('API token').fill(SIM_API_TOKEN);
      await page.keyboard.press('Enter');

      // The deep link survives sign-in: the settings page, with what is configured and no secret.
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      const settings = page.locator('#calling');
      await settings.getByText('Ready to place calls').waitFor();
      const text = await settings.innerText();
      assert.match(text, /Twilio configured/);
      assert.match(text, /Set \(PUBLIC_URL\)/);
      assert.match(text, /OpenAI Realtime\s+API key set/);
      assert.match(text, /Gemini Live\s+API key set/);
      assert.match(text, /United States \(US\)/);
      assert.match(text, /0\.1\.0/);
      const safety = await page.locator('#safety').innerText();
      assert.match(safety, /Calling hours\s+09:00-20:00, the callee's local time/);
      assert.match(safety, /Destinations\s+Allow list: 3 entries/);
      assert.match(safety, /Do-not-call list\s+None/);
      assert.match(safety, /Calls at once\s+5/);
      assert.match(safety, /Cost per call\s+\$5\.00/);
      assert.match(safety, /Cost per day\s+No limit/);
      assert.match(safety, /Longest call\s+15 min/);
      assert.match(safety, /AI disclosure\s+The agent says it is an AI assistant/);
      assert.match(safety, /Recording notice\s+The agent says the call is recorded/);
      const documents = await page.locator('#documents').innerText();
      assert.match(documents, /Search\s+Keywords\s+Excerpts/, 'the simulators run without embeddings: keyword search');
      assert.match(documents, /Excerpts per call\s+5/);
      assert.match(documents, /Folder changes\s+Picked up at start-up and on upload/);
      const html = await page.content();
      for (const secret of [SIM_AUTH_TOKEN, SIM_OPENAI_KEY, SIM_GEMINI_KEY, SIM_API_TOKEN]) assert.ok(!html.includes(secret), 'no secret in the page');
      assert.ok(!html.includes('+1628'), 'the allow list is counted, not listed');
      await inspectPage(page, 'settings', { phone: true, dark: true });

      // Refused calls: the dial policy's record, reached from the calls page, newest first.
      for (const [to, status] of [['911', 400], ['+13125550123', 403]] as const) {
        assert.equal((await stack.api('POST', '/api/calls', { to, instructions: 'Ask about opening hours.' })).status, status);
      }
      await page.goto(`${stack.baseUrl}/calls`);
      await page.getByRole('link', { name: 'Refused calls' }).click();
      await page.getByRole('heading', { name: 'Refused calls', level: 1 }).waitFor();
      const refused = page.locator('.refusals-table tbody tr');
      await refused.first().waitFor();
      assert.equal(await refused.count(), 2);
      assert.match(await refused.nth(0).innerText(), /\+1 312 555 0123[\s\S]*Not on the allow list[\s\S]*ALLOWED_DESTINATIONS/);
      assert.match(await refused.nth(1).innerText(), /911[\s\S]*Emergency number[\s\S]*never dialled/);
      assert.equal(stack.twilio.calls.length, 0, 'nothing was dialled');
      await inspectPage(page, 'refusals', { phone: true, dark: true });
      // A page holds 50; "Load more" appends the rest.
      for (let i = 0; i < 50; i++) await stack.api('POST', '/api/calls', { to: '112', instructions: 'x' });
      await page.reload();
      await page.getByRole('heading', { name: 'Refused calls', level: 1 }).waitFor();
      await refused.nth(49).waitFor();
      assert.equal(await refused.count(), 50);
      await page.getByRole('button', { name: 'Load more' }).click();
      await refused.nth(51).waitFor();
      assert.equal(await refused.count(), 52);
      assert.match(await refused.nth(51).innerText(), /911/, 'the oldest refusal comes last');
      assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'nothing more to load');
      await page.goto(`${stack.baseUrl}/settings`);
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();

      // Theme: the toggle switches and is remembered; "System" follows the operating system again.
      await page.getByRole('button', { name: 'Switch to dark theme' }).click();
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
      await page.reload();
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'theme kept across reloads, before first paint');
      assert.ok(await page.getByRole('radio', { name: 'Dark' }).isChecked());
      await page.getByRole('radio', { name: 'System' }).check();
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme ?? null), null);

      // Keyboard: the first Tab reaches the skip link, which moves focus to the content; focus is visible.
      await page.goto(`${stack.baseUrl}/calls`);
      await page.getByRole('heading', { name: 'Calls', level: 1 }).waitFor();
      await page.locator('body').focus();
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skip to content');
      await page.keyboard.press('Tab');
      const outline = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const cs = getComputedStyle(el);
        return { text: el.textContent?.trim(), style: cs.outlineStyle, width: cs.outlineWidth };
      });
      assert.equal(outline.text, 'Callwright');
      assert.notEqual(outline.style, 'none', 'the focused link shows a focus ring');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'New call', level: 1 }).waitFor();

      // Unknown pages get the app's own not-found page.
      await page.goto(`${stack.baseUrl}/no/such/page`);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();

      // Sign out ends the session: the cookie is gone, and a reload stays signed out.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.deepEqual(await b.context.cookies(`${stack.baseUrl}/api`), []);
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();

      // A session the server no longer accepts signs the tab out with the reason.
      await b.context.addCookies([{ name: 'callwright_session', value: 'x'.repeat(43), domain: '127.0.0.1', path: '/api', httpOnly: true, sameSite: 'Strict' }]);
      await page.goto(`${stack.baseUrl}/calls`);
      await page.getByText('Your session has ended').waitFor();
    } finally {
      await b.close();
    }
  });
});
