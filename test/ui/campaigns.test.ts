import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { until, withStack } from '../e2e/helpers.js';
import { buildUi, inspectPage, launch, NO_WATCH, signInByUrl } from './helpers.js';
import { pageErrors } from './browser.js';

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

test('campaign page: a number that changed before the page\'s live stream connected is shown as it is, not as the page first read it', async () => {
  // Ann's call ends while the page's stream is held back by the browser (a slow connect, or a reconnect
  // after a dropped connection): the page read her "On a call" and must not keep showing it.
  const release = { ann: () => {}, bob: () => {} };
  const held = (who: 'ann' | 'bob') => new Promise<void>((resolve) => (release[who] = resolve));
  const onLine = { ann: held('ann'), bob: held('bob') };
  const script = (call: { To: string }) => ({ steps: [{ say: 'Hello?' }, { until: call.To.endsWith('51') ? onLine.ann : onLine.bob, timeoutMs: 30_000 }, { hangup: true as const }] });
  await withStack({ env: { ...NO_WATCH, CAMPAIGN_TICK_MS: '40' }, script }, async (stack) => {
    const created = await stack.api('POST', '/api/campaigns', { name: 'Late stream', instructions: 'Remind {{name}}.', concurrency: 1, numbers: [{ to: '+14155550151', variables: { name: 'Ann' } }, { to: '+14155550152', variables: { name: 'Bob' } }] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    const stateOf = async (index: number) => ((await stack.api('GET', `/api/campaigns/${id}`)).body.numbers as Array<{ index: number; state: string }>).find((n) => n.index === index)!.state;
    await until('Ann on her call', async () => (await stateOf(1)) === 'calling', 20_000);

    const b = await launch();
    const page = b.page;
    try {
      let letStreamThrough!: () => void;
      const streamHeld = new Promise<void>((resolve) => (letStreamThrough = resolve));
      await page.route('**/api/campaigns/*/events', async (route) => {
        await streamHeld;
        await route.continue();
      });
      await signInByUrl(page, stack.baseUrl, `/campaigns/${id}`);
      const table = page.getByRole('table', { name: 'Numbers and outcomes' });
      await table.getByRole('row').filter({ hasText: 'Ann' }).getByText('On a call').waitFor();

      release.ann();
      await until('Ann done and Bob on his call', async () => (await stateOf(1)) === 'done' && (await stateOf(2)) === 'calling', 20_000);
      letStreamThrough();
      await table.getByRole('row').filter({ hasText: 'Ann' }).getByText('Done').waitFor();
      await table.getByRole('row').filter({ hasText: 'Bob' }).getByText('On a call').waitFor();
      await page.getByText('active · live').waitFor();

      release.bob();
      await page.getByTestId('campaign-progress').getByText('2/2 done · 2 answered').waitFor({ timeout: 20_000 });
      assert.deepEqual(pageErrors(page), []);
    } finally {
      release.ann();
      release.bob();
      await b.close();
    }
  });
});
