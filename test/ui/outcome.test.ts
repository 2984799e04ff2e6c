import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from '../e2e/helpers.js';
import { buildUi, inspectPage, launch, NO_WATCH, signInByUrl } from './helpers.js';

before(buildUi);

const ORDER_LINE = "Sure. That's $14.50 for one chicken biryani, ready at 7:15 pm. Your confirmation number is BX4821.";

test('the call page shows the outcome first: verdict, summary, each fact with its quote; the list shows and filters it', async () => {
  await withStack(
    {
      env: NO_WATCH,
      outcome: 'openai',
      script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: ORDER_LINE }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }] }),
      scenario: () => ({
        turns: [{ say: "Hi, I'm an AI assistant calling on behalf of Raju Kumar. One chicken biryani for pickup, please." }, { say: 'Thank you, goodbye!', call: { name: 'end_call', arguments: { reason: 'order placed' } } }],
        userTranscripts: ['Hello?', ORDER_LINE],
      }),
    },
    async (stack) => {
      const id = await stack.placeCall({
        goal: 'Get the price, the pickup time and a confirmation number.',
        outcomeSchema: { type: 'object', properties: { price: { type: 'number' }, pickupTime: { type: 'string' }, confirmationNumber: { type: 'string' }, pickupDate: { type: 'string' } } },
      });
      await stack.waitForEnd(id, 30_000);
      const b = await launch();
      const page = b.page;
      try {
        await signInByUrl(page, stack.baseUrl, `/calls/${id}`);
        const card = page.getByTestId('outcome');
        await card.getByText('Goal partly met').waitFor();
        // First: the outcome comes before the summary figures and the transcript.
        const order = await page.evaluate(() => {
          const all = [...document.querySelectorAll('[data-testid="outcome"], .stats, #transcript-title')];
          return all.map((e) => (e.matches('[data-testid="outcome"]') ? 'outcome' : e.matches('.stats') ? 'stats' : 'transcript'));
        });
        assert.deepEqual(order, ['outcome', 'stats', 'transcript']);
        await card.getByText('Get the price, the pickup time and a confirmation number.').waitFor();
        await card.getByText('It stated price, pickupTime, confirmationNumber.').waitFor();
        const code = card.locator('.outcome-field', { hasText: 'confirmationNumber' });
        assert.equal(await code.locator('strong').innerText(), 'BX4821');
        assert.match(await code.locator('blockquote').innerText(), /Callee: “Your confirmation number is BX4821\.”/);
        assert.match(await card.locator('.outcome-field', { hasText: 'pickupDate' }).innerText(), /not stated/);
        await page.getByRole('button', { name: 'Export (.json)' }).waitFor();
        await inspectPage(page, 'call-outcome', { phone: true, dark: true });

        await page.goto(`${stack.baseUrl}/calls`);
        const row = page.locator('tr', { has: page.locator(`a[href="/calls/${id}"]`) });
        await row.getByText('Goal partly met').waitFor();
        await page.getByLabel('Goal').selectOption('achieved');
        await page.getByText('No calls match these filters').waitFor();
        assert.match(page.url(), /goalMet=achieved/);
        await page.getByLabel('Goal').selectOption('partly');
        await row.getByText('Goal partly met').waitFor();
        await inspectPage(page, 'calls-with-outcome');
      } finally {
        await b.close();
      }
    },
  );
});
