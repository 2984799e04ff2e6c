import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from '../e2e/helpers.js';
import { buildUi, inspectPage, launch, NO_WATCH, signInByUrl } from './helpers.js';

before(buildUi);

test('the live call page shows "on hold m:ss", ticking, while the call is on hold, and not after', async () => {
  await withStack(
    {
      env: NO_WATCH,
      script: () => ({ idleHangupMs: 60_000, steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Please hold.' }, { waitForAgent: true, quietMs: 300 }, { holdMs: 60_000 }] }),
      conversation: () => ({ turns: [{ say: "Hi, I'm an AI assistant calling on behalf of Raju Kumar." }, { say: "Sure, I'll hold." }], userTranscripts: ['Hello?', 'Please hold.'] }),
    },
    async (stack) => {
      const b = await launch();
      const page = b.page;
      try {
        const id = await stack.placeCall();
        await signInByUrl(page, stack.baseUrl, `/calls/${id}`);
        const onHold = page.getByTestId('on-hold');
        // Alone this takes about 8 s from the call's start (its greeting, "Please hold.", the reply); CI's 2
        // cores, busy with the browser, took over 20 s twice (stops 22 and 26).
        await onHold.waitFor({ timeout: 40_000 });
        const first = await onHold.innerText();
        assert.match(first, /^on hold \d+:\d\d$/);
        await page.waitForFunction((before) => document.querySelector('[data-testid="on-hold"]')?.textContent !== before, first, { timeout: 5000 });
        await inspectPage(page, 'call-on-hold');
        assert.equal((await stack.api('POST', `/api/calls/${id}/hangup`)).status, 200);
        await onHold.waitFor({ state: 'detached', timeout: 10_000 });
      } finally {
        await b.close();
      }
    },
  );
});
