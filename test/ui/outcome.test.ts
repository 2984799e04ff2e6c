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

test('the new-call form takes a goal and the facts to record; a schema that is not JSON, or not JSON Schema, is named on its field', async () => {
  await withStack({ env: NO_WATCH, script: () => ({ idleHangupMs: 60_000, steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] }), scenario: () => ({ turns: [{ say: 'Hi, this is an AI assistant.' }] }) }, async (stack) => {
    const b = await launch();
    const page = b.page;
    try {
      await signInByUrl(page, stack.baseUrl);
      await page.getByLabel('Phone number').fill('(415) 555-0123');
      await page.getByLabel('Instructions').fill('Order one chicken biryani for pickup at 7.');
      await page.getByText('Outcome to record (optional)').click();
      await page.getByLabel('Goal').fill('Get the price and a confirmation number.');
      const schema = page.getByLabel('Facts to record (JSON Schema)');
      await schema.fill('{"type": "object", "properties": {');
      await page.getByRole('button', { name: 'Place call' }).click();
      await page.locator('#outcomeSchema-hint', { hasText: /is not valid JSON/ }).waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'outcomeSchema', 'focus moves to the field at fault');
      assert.equal(stack.twilio.calls.length, 0);

      await schema.fill('{"type": "object", "properties": {"price": {"type": "money"}}}');
      await page.getByRole('button', { name: 'Place call' }).click();
      await page.locator('#outcomeSchema-hint', { hasText: /is not a JSON Schema/ }).waitFor();
      assert.equal(await schema.getAttribute('aria-invalid'), 'true');
      assert.equal(stack.twilio.calls.length, 0, 'nothing was dialled');
      await inspectPage(page, 'new-call-outcome-error');

      await schema.fill('{"type": "object", "properties": {"price": {"type": "number"}, "confirmationNumber": {"type": "string"}}}');
      await page.getByRole('button', { name: 'Place call' }).click();
      await page.waitForURL(/\/calls\/[0-9a-f-]{36}$/);
      const id = page.url().split('/').pop()!;
      assert.equal((await stack.api('POST', `/api/calls/${id}/hangup`)).status, 200);
      const call = await stack.waitForEnd(id, 20_000);
      assert.equal(call.outcome.goal, 'Get the price and a confirmation number.');
      assert.deepEqual(call.outcome.fields.map((f: any) => f.name), [], 'not computed here (no text model): no facts, none invented');
      assert.equal(call.outcome.status, 'not-computed');
    } finally {
      await b.close();
    }
  });
});
