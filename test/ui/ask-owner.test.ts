/**
 * ask_owner on the live call page: the agent's question appears first on the page with an answer box and
 * quick replies, a browser notification announces it (permission granted), and an answer typed there
 * reaches the model as the tool result; the agent relays it and the call goes on.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from '../e2e/helpers.js';
import { buildUi, inspectPage, launch, NO_WATCH, signInByUrl } from './helpers.js';

before(buildUi);

const QUESTION = 'No medium spice today. Mild or extra hot?';

test('a question from the agent shows on the live call page, notifies, and the answer typed there is relayed', async () => {
  await withStack(
    {
      engine: 'openai',
      env: { ...NO_WATCH, ASK_OWNER_TIMEOUT_S: '60' },
      script: () => ({
        amdDelayMs: 4000,
        idleHangupMs: 60_000,
        steps: [{ say: 'Hello, Spice Garden.' }, { waitForAgent: true as const, quietMs: 300 }, { say: QUESTION }, { waitForAgent: true as const, quietMs: 300 }, { pauseMs: 60_000 }],
      }),
      conversation: () => ({
        turns: [
          { say: "Hi, I'm an AI assistant calling on behalf of Raju Kumar about a pickup order." },
          { say: 'One moment, let me check with Raju.', call: { name: 'ask_owner', args: { question: 'No medium spice: mild or extra hot?' } } },
          { say: 'Thanks for waiting. {{toolOutput}} Goodbye!', call: { name: 'end_call', args: {} } },
        ],
        userTranscripts: ['Hello, Spice Garden.', QUESTION],
      }),
    },
    async (stack) => {
      const b = await launch();
      const page = b.page;
      try {
        await b.context.grantPermissions(['notifications'], { origin: stack.baseUrl });
        // Records what the page shows as notifications (headless Chromium displays none).
        await page.addInitScript(() => {
          const w = window as unknown as { Notification: typeof Notification; shownNotifications: Array<{ title: string; body?: string }> };
          const Real = w.Notification;
          w.shownNotifications = [];
          w.Notification = class extends Real {
            constructor(title: string, o?: NotificationOptions) {
              super(title, o);
              w.shownNotifications.push({ title, body: o?.body });
            }
          } as typeof Notification;
        });
        const id = await stack.placeCall();
        await signInByUrl(page, stack.baseUrl, `/calls/${id}`);

        const card = page.locator('.question-card');
        await card.waitFor({ timeout: 20_000 });
        assert.match(await card.innerText(), /The agent asks Raju Kumar/);
        assert.match(await card.locator('.question-text').innerText(), /No medium spice: mild or extra hot\?/);
        const shown = await page.evaluate(() => (window as unknown as { shownNotifications: unknown[] }).shownNotifications);
        assert.deepEqual(shown, [{ title: 'Question from your call: Raju Kumar?', body: 'No medium spice: mild or extra hot?' }]);
        await inspectPage(page, 'call-question', { phone: true, dark: true });

        // An empty answer is not sent.
        await card.getByRole('button', { name: 'Send answer' }).click();
        await card.getByText('Write an answer first').waitFor();
        assert.equal((await stack.api('GET', `/api/calls/${id}/questions`)).body.open.length, 1);

        await card.getByLabel('Your answer').fill('Extra hot is fine');
        await card.getByRole('button', { name: 'Send answer' }).click();
        await card.waitFor({ state: 'detached' });
        await page.getByText(/Raju Kumar answered on this page after \d+ s: "Extra hot is fine"/).waitFor();

        const call = await stack.waitForEnd(id, 30_000);
        assert.equal(call.endReason, 'agent-hangup');
        assert.ok(stack.openai.sessions[0].functionOutputs.some((f) => /Raju Kumar answered: "Extra hot is fine"/.test(f.output)));
        await page.locator('.turn-agent', { hasText: 'Extra hot is fine' }).waitFor();
        assert.equal(await page.locator('.question-card').count(), 0);
      } finally {
        await b.close();
      }
    },
  );
});
