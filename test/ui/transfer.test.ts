import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, until } from '../e2e/helpers.js';
import { buildUi, inspectPage, launch, NO_WATCH, signInByUrl } from './helpers.js';

before(buildUi);

const OWNER = '+14155550142';

test('live call page: Transfer now hands the call to the owner (OWNER_PHONE) through the carrier; the page says so', async () => {
  await withStack(
    {
      env: { ...NO_WATCH, OWNER_PHONE: OWNER },
      script: (p) => (p.To === OWNER ? { steps: [], idleHangupMs: 60_000 } : { idleHangupMs: 60_000, steps: [{ say: 'Hello, Spice Garden?' }, { waitForAgent: true, quietMs: 300 }, { waitForBridge: true, timeoutMs: 60_000 }, { pauseMs: 300 }, { hangup: true }] }),
      conversation: () => ({ turns: [{ say: "Hi! I'm an AI assistant calling on behalf of Raju Kumar." }], userTranscripts: ['Hello, Spice Garden?'] }),
    },
    async (stack) => {
      const id = await stack.placeCall();
      const b = await launch();
      const page = b.page;
      try {
        await signInByUrl(page, stack.baseUrl, `/calls/${id}`);
        await page.locator('.turn-agent', { hasText: 'calling on behalf of Raju Kumar' }).waitFor();
        await inspectPage(page, 'call-live-transfer', { phone: true });
        await page.getByRole('button', { name: 'Transfer now' }).click();
        await page.getByText('Handed over (transferred)').first().waitFor();
        await page.getByText(/Handed over to owner \(\+14\*+42\) \(cold\)/).first().waitFor();
        assert.equal(await page.getByRole('button', { name: 'Hang up' }).count(), 0, 'no longer live');
        const tw = stack.twilio.calls[0];
        assert.equal(tw.dials[0]?.to, OWNER, 'the carrier dialled the owner');
        await until('the callee to leave the owner', () => tw.hangupBy, 15_000);
        assert.equal((await stack.api('GET', `/api/calls/${id}`)).body.endReason, 'transferred');
      } finally {
        await b.close();
      }
    },
  );
});
