import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { SIM_API_TOKEN } from '../sim/stack.js';
import { withStack, until } from '../e2e/helpers.js';
import { buildUi, inspectPage, launch, NO_WATCH, signInByUrl } from './helpers.js';

before(buildUi);

/** A callee who talks, barges in on the agent's long turn, then waits on the line until hung up on. */
const CONVERSATION = {
  script: () => ({
    idleHangupMs: 60_000,
    steps: [
      { say: 'Hello, Spice Garden, how can I help you?' },
      { waitForAgent: true as const, quietMs: 300 },
      { say: 'Sure. Anything else with that?' },
      { waitAgentPlayedMs: 1200 },
      { say: 'Sorry, do you want it spicy?' },
      { waitForAgent: true as const, quietMs: 300 },
      { pauseMs: 60_000 },
    ],
  }),
  conversation: () => ({
    turns: [
      { say: "Hi! I'm an AI assistant calling on behalf of Raju Kumar. I'd like to place an order for pickup, please." },
      { say: 'One chicken biryani for pickup at seven this evening. And I would also like to ask whether you have any vegetarian starters today, and what they cost.' },
      { say: "I'll check with Raju and get back to you on the spice level. Medium is fine for now." },
    ],
    userTranscripts: ['Hello, Spice Garden, how can I help you?', 'Sure. Anything else with that?', 'Sorry, do you want it spicy?'],
  }),
};

test('sign in by the start-up URL, place a call, follow it live, hang up, find it in history, play the recording', async () => {
  await withStack({ ...CONVERSATION, msPerChar: 30, env: NO_WATCH }, async (stack) => {
    const b = await launch();
    const page = b.page;
    try {
      // The start-up URL signs in and the token leaves the address bar at once; the served HTML never has it.
      await signInByUrl(page, stack.baseUrl);
      assert.equal(page.url(), `${stack.baseUrl}/`);
      assert.equal((await b.context.cookies(`${stack.baseUrl}/api`))[0]?.httpOnly, true, 'signed in by a session cookie');
      const html = await (await fetch(`${stack.baseUrl}/`, { headers: { Accept: 'text/html' } })).text();
      assert.ok(!html.includes(SIM_API_TOKEN));

      // New call: the number is checked as typed and sent as E.164.
      await page.getByLabel('Phone number').fill('415 555 01');
      await page.getByLabel('Phone number').blur();
      await page.getByText(/not a valid number/).waitFor();
      // A refusal from the API lands on the field it names: premium-rate numbers are valid but never dialled.
      await page.getByLabel('Instructions').fill('Ask for the price of a call.');
      await page.getByLabel('Phone number').fill('+1 900 555 0199');
      await page.getByRole('button', { name: 'Place call' }).click();
      await page.getByText('premium-rate numbers are never dialled by Callwright').waitFor();
      assert.equal(await page.getByLabel('Phone number').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'to', 'focus moves to the field at fault');
      assert.equal(stack.twilio.calls.length, 0);

      await page.getByLabel('Phone number').fill('(415) 555-0123');
      await page.getByText('+1 415 555 0123').waitFor();
      await page.getByLabel('Instructions').fill('Order one chicken biryani for pickup at 7.\nMy name is Raju. Do not make anything up.');
      const hasRaju = await page.locator('#clientId option[value="raju"]').count();
      if (hasRaju) await page.getByLabel('On behalf of').selectOption('raju');
      await inspectPage(page, 'new-call', { phone: true, dark: true });
      await page.getByRole('button', { name: 'Place call' }).click();

      await page.waitForURL(/\/calls\/[0-9a-f-]{36}$/);
      const id = page.url().split('/').pop()!;
      const placed = stack.twilio.calls[0];
      assert.equal(placed.params.To, "+14155550123");
      // The call's settings: what it does if voicemail answers (the default, VOICEMAIL_MODE=hangup).
      assert.match(await page.getByTestId('voicemail-plan').innerText(), /If voicemail answers:\s*Hang up/);

      // Live: the lines appear while the call is still going (the Hang up button is there).
      const hangUp = page.getByRole('button', { name: 'Hang up' });
      await page.locator('.turn-callee', { hasText: 'Spice Garden' }).waitFor();
      await page.locator('.turn-agent', { hasText: 'calling on behalf of Raju Kumar' }).waitFor();
      assert.ok(await hangUp.isVisible(), 'still live while the transcript streams in');
      assert.equal((await stack.api('GET', `/api/calls/${id}`)).body.status, 'talking');
      // The interrupted turn shows what the callee heard and marks the rest.
      const cut = page.locator('.turn-agent', { has: page.locator('.interrupted-tag') });
      await cut.waitFor();
      assert.match(await cut.locator('.unheard').innerText(), /vegetarian starters/);
      await page.locator('.turn-agent', { hasText: 'Medium is fine for now' }).waitFor();
      await page.getByText('Answered by a person').first().waitFor();
      assert.match(await page.getByTestId('elapsed').innerText(), /^\d+:\d\d$/);
      await inspectPage(page, 'call-live', { phone: true });

      await hangUp.click();
      await page.getByText('You hung up').first().waitFor();
      await until('the hang-up recorded', async () => (await stack.api('GET', `/api/calls/${id}`)).body.endReason === 'user-hangup');
      assert.equal(stack.twilio.calls[0].hangupBy, 'api');

      // The recording arrives after the end; the page shows it without a reload, and it plays.
      const audio = page.locator('audio.recording');
      await audio.waitFor({ timeout: 15_000 });
      const media = await audio.evaluate(async (el: HTMLAudioElement) => {
        if (el.readyState < 1) await new Promise((r, j) => ((el.onloadedmetadata = r), (el.onerror = () => j(new Error('audio failed to load')))));
        await el.play();
        // Playing is seen as time moving on, however long a loaded machine takes to start the audio
        // (after a fixed 300 ms, earlier stops saw this fail under load), up to 10 s.
        for (const until = Date.now() + 10_000; el.currentTime === 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
        return { duration: el.duration, currentTime: el.currentTime, src: el.currentSrc };
      });
      assert.ok(media.duration > 1, `recording has a duration (${media.duration})`);
      assert.ok(media.currentTime > 0, 'recording plays');
      assert.match(media.src, /^blob:/, 'played from an object URL: no token in any URL');

      // The transcript downloads as .txt.
      const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Transcript \(\.txt\)/ }).click()]);
      assert.equal(dl.suggestedFilename(), `call-${id}.txt`);
      const txtPath = await dl.path();
      const { readFileSync } = await import('node:fs');
      assert.match(readFileSync(txtPath, 'utf8'), /Callee: Hello, Spice Garden/);
      await page.getByText(/All records written/).count();
      await page.locator('.event-log summary').click();
      await inspectPage(page, 'call-ended', { phone: true, dark: true });

      // History: the call is there, filterable, and opens its page.
      await page.getByRole('link', { name: 'Calls', exact: true }).click();
      await page.getByRole('heading', { name: 'Calls', level: 1 }).waitFor();
      const row = page.locator('tbody tr', { hasText: '+1 415 555 0123' });
      await row.waitFor();
      assert.match(await row.innerText(), /Hung up/);
      assert.match(await row.innerText(), /\$0\.\d{4}/);
      await inspectPage(page, 'history', { phone: true, dark: true });
      await page.getByLabel('Status').selectOption('live');
      await page.getByText('No calls match these filters').waitFor();
      await page.getByLabel('Status').selectOption('');
      await page.getByLabel('Search').fill('biryani');
      await page.waitForURL(/\/calls\?q=biryani$/);
      await row.waitFor();
      await page.getByLabel('Search').fill('sushi');
      await page.getByText('No calls match these filters').waitFor();
      await page.getByLabel('Search').fill('');
      await row.getByRole('link', { name: '+1 415 555 0123', exact: true }).click();
      await page.waitForURL(`${stack.baseUrl}/calls/${id}`);
      await page.locator('audio.recording').waitFor();
    } finally {
      await b.close();
    }
  });
});
