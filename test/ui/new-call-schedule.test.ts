import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, until } from '../e2e/helpers.js';
import { localTime } from '../../src/calls/calling-hours.js';
import { buildUi, inspectPage, launch, NO_WATCH, signInByUrl } from './helpers.js';

before(buildUi);

const hhmm = (min: number) => `${String(Math.floor(min / 60) % 24).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

test('new call: a "Simulated" badge in the header; schedule a call for later, see it listed, cancel it; override calling hours with a reason that lands on the call', async () => {
  // A window that starts two hours from now in Los Angeles: "now" is outside it whatever the hour.
  const now = localTime('America/Los_Angeles', new Date()).minutes;
  const window = `${hhmm(now + 120)}-${hhmm(now + 180)}`;
  await withStack({ env: { ...NO_WATCH, CALLING_HOURS: window }, script: () => ({ steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] }) }, async (stack) => {
    const b = await launch();
    const page = b.page;
    try {
      await signInByUrl(page, stack.baseUrl);
      // The simulators' server says so in the header, from GET /api/status.
      await page.locator('header').getByText('Simulated', { exact: true }).waitFor();
      assert.equal((await stack.api('GET', '/api/status')).body.simulated, true);

      await page.getByLabel('Phone number').fill('+14155550123');
      await page.getByLabel('Instructions').fill('Remind them of the table for two at eight.');
      await page.getByRole('radio', { name: 'Later' }).check();
      const at = page.getByLabel('Date and time');
      // Two hours from now, in the browser's own time zone (what a person picks in the field).
      // (A string: tsx would wrap a named helper in a function the page does not have.)
      const local = (await page.evaluate(`(() => {
        const d = new Date(Date.now() + 2 * 3600000);
        const p = (n) => String(n).padStart(2, '0');
        return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
      })()`)) as string;
      await at.fill(local);
      // Two hours from now is still outside the window (it opens in two hours, to the minute): override it.
      await page.getByLabel(/Override calling hours/).check();
      await page.getByRole('button', { name: 'Schedule call' }).click();
      await page.getByText('Say why this call may go outside calling hours').waitFor();
      assert.equal(await page.getByLabel('Reason for calling outside the hours').getAttribute('aria-invalid'), 'true');
      await page.getByLabel('Reason for calling outside the hours').fill('They asked for a reminder before opening.');
      await inspectPage(page, 'new-call-later', { phone: true, dark: true });
      await page.getByRole('button', { name: 'Schedule call' }).click();
      await page.getByText('Call scheduled').waitFor();
      const card = page.locator('#scheduled-calls');
      await card.getByText('Remind them of the table for two at eight.').waitFor();
      await card.getByText('Calling hours overridden: They asked for a reminder before opening.').waitFor();
      const [row] = (await stack.api('GET', '/api/scheduled-calls?status=scheduled')).body.scheduledCalls;
      assert.equal(Date.parse(row.scheduledAt), new Date(local).getTime() - (new Date(local).getTime() % 60_000), 'the time picked, as an instant');
      assert.equal(row.overrideReason, 'They asked for a reminder before opening.');
      assert.equal(stack.twilio.calls.length, 0);
      await inspectPage(page, 'new-call-scheduled', { phone: true });

      await card.getByRole('button', { name: /^Cancel the call to/ }).click();
      await until('cancelled', async () => (await stack.api('GET', `/api/scheduled-calls/${row.id}`)).body.status === 'cancelled');
      await card.waitFor({ state: 'detached', timeout: 5000 }).catch(async (e) => assert.fail(`${e}: ${await page.locator('main').innerText()}`));

      // Now, outside calling hours, with a reason: placed, and the call page says why.
      // The form is back to "now" with no override after scheduling: both are chosen again, on purpose.
      assert.equal(await page.getByRole('radio', { name: 'Now' }).isChecked(), true);
      await page.getByLabel(/Override calling hours/).check();
      await page.getByLabel('Reason for calling outside the hours').fill('They asked for a reminder before opening.');
      await page.getByRole('button', { name: 'Place call' }).click();
      await page.waitForURL(/\/calls\/[0-9a-f-]{36}$/);
      await page.getByText(/Calling hours overridden for this call .*: They asked for a reminder before opening\./).waitFor({ state: 'attached' }); // in the call's event log (folded)
      const id = page.url().split('/').pop()!;
      await stack.api('POST', `/api/calls/${id}/hangup`);
    } finally {
      await b.close();
    }
  });
});
