import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { SIM_FROM } from '../sim/stack.js';
import { withStack, until } from '../e2e/helpers.js';
import { buildUi, launch, NO_WATCH, signInByUrl } from './helpers.js';

before(buildUi);

test('an inbound call shows its caller in the calls list, and the "Incoming" filter finds it', async () => {
  await withStack(
    {
      env: { ...NO_WATCH, INBOUND: 'assistant', INBOUND_CLIENT_ID: 'raju' },
      conversation: () => ({ turns: [{ say: "Hello, you've reached Raju Kumar. I'm an AI assistant answering for him.", call: { name: 'end_call', args: { reason: 'done' } } }] }),
    },
    async (stack) => {
      assert.equal((await stack.api('POST', '/api/setup/twilio')).status, 200);
      stack.twilio.placeInboundCall({ from: '+14155550177', to: SIM_FROM, script: { steps: [{ waitForAgent: true, quietMs: 300, timeoutMs: 5000 }] } });
      const id = await until('the inbound call', async () => (await stack.api('GET', '/api/calls')).body.calls?.[0]?.id as string | undefined);
      await stack.waitForEnd(id);

      const b = await launch();
      const page = b.page;
      try {
        await signInByUrl(page, stack.baseUrl);
        await page.goto(`${stack.baseUrl}/calls`);
        const row = page.locator('tbody tr', { hasText: '+1 415 555 0177' });
        await row.waitFor();
        assert.match(await row.innerText(), /incoming/);
        await page.getByLabel('Direction').selectOption('inbound');
        await page.waitForURL(/\/calls\?direction=inbound$/);
        await row.waitFor();
        await page.getByLabel('Direction').selectOption('outbound');
        await page.getByText('No calls match these filters').waitFor();
        await page.getByLabel('Direction').selectOption('inbound');
        await row.getByRole('link').click();
        await page.waitForURL(`${stack.baseUrl}/calls/${id}`);
        await page.getByRole('heading', { name: 'Incoming from +1 415 555 0177', level: 1 }).waitFor();
      } finally {
        await b.close();
      }
    },
  );
});
