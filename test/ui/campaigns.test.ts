import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from '../e2e/helpers.js';
import { buildUi, inspectPage, launch, NO_WATCH, signInByUrl } from './helpers.js';

before(buildUi);

test('campaigns page: start a campaign from a CSV file, watch it progress live without a reload, see each outcome', async () => {
  // Each callee stays on the line until the page has shown Ann on her call: the page may take longer to load
  // than a short call lasts (a loaded CI machine), and "On a call" must be there to be seen.
  let seenOnCall!: () => void;
  const onCallSeen = new Promise<void>((resolve) => (seenOnCall = resolve));
  await withStack({ env: { ...NO_WATCH, CAMPAIGN_TICK_MS: '40' }, script: () => ({ steps: [{ say: 'Hello?' }, { until: onCallSeen, timeoutMs: 20_000 }, { pauseMs: 300 }, { hangup: true as const }] }) }, async (stack) => {
    const b = await launch();
    const page = b.page;
    try {
      await signInByUrl(page, stack.baseUrl, '/');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' }).click();
      await page.getByRole('heading', { name: 'Campaigns', level: 1 }).waitFor();
      await page.getByText('No campaigns yet').waitFor();

      // A bad row is named before anything is dialled.
      await page.getByLabel('Name').fill('Reminders');
      await page.getByLabel('Instructions').fill('Remind {{name}} of the appointment.');
      await page.getByLabel('Numbers (CSV)').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('phone,name\n+14155550151,Ann\n0000,Bob\n') });
      await page.getByRole('button', { name: 'Start campaign' }).click();
      await page.getByText(/csv: row 2 \(line 3\), column "phone"/).waitFor();
      assert.equal(stack.twilio.calls.length, 0);

      await page.getByLabel('Numbers (CSV)').setInputFiles({ name: 'reminders.csv', mimeType: 'text/csv', buffer: Buffer.from('phone,name\n+14155550151,Ann\n+14155550152,Bob\n') });
      await page.getByLabel('Calls at once').fill('1');
      await page.getByRole('button', { name: 'Start campaign' }).click();
      await page.getByRole('heading', { name: 'Reminders', level: 1 }).waitFor();
      assert.match(page.url(), /\/campaigns\/[0-9a-f-]{36}$/);

      // Live: the first number is seen on its call, then both done, with no reload in between.
      const table = page.getByRole('table', { name: 'Numbers and outcomes' });
      await table.getByRole('row').filter({ hasText: 'Ann' }).getByText('On a call').waitFor();
      seenOnCall();
      await page.getByTestId('campaign-progress').getByText('2/2 done · 2 answered').waitFor({ timeout: 20_000 });
      for (const name of ['Ann', 'Bob']) assert.match(await table.getByRole('row').filter({ hasText: name }).innerText(), /Done\s+answered\s+1/);
      await inspectPage(page, 'campaign');

      await page.getByRole('link', { name: 'Campaigns' }).first().click();
      await page.getByRole('table', { name: 'Campaigns' }).getByRole('row').filter({ hasText: 'Reminders' }).getByText('completed').waitFor();
      await inspectPage(page, 'campaigns');
    } finally {
      await b.close();
    }
  });
});
