import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { FULL_CONVERSATION, withStack } from '../e2e/helpers.js';
import { buildUi, inspectPage, launch, NO_WATCH, signInByUrl } from './helpers.js';

before(buildUi);

/** A first line with a quote, a comma and a leading "=" a spreadsheet would run: the CSV must keep it text. */
const TRICKY = '=Ask about "spicy, hot" dishes\nThen order one chicken biryani for pickup at 7.';

async function downloaded(page: Page, click: () => Promise<unknown>): Promise<{ name: string; body: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: dl.suggestedFilename(), body: readFileSync(await dl.path()) };
}

/** RFC 4180, enough for the test: quoted fields with doubled quotes, CRLF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += ch;
  }
  return rows;
}

test('calls list: what each call was for, today against the caps, export CSV and JSON of the filtered list, download a recording, call again pre-filled, delete a call and its files; transcript times seek the recording', async () => {
  await withStack({ script: () => FULL_CONVERSATION.script, scenario: () => FULL_CONVERSATION.scenario, env: { ...NO_WATCH, MAX_CALLS_PER_DAY: '40', ALLOWED_DESTINATIONS: '+1415' } }, async (stack) => {
    // Two calls (one from a runbook) and one refusal, through the API.
    const plain = await stack.placeCall({ instructions: TRICKY });
    await stack.waitForEnd(plain);
    const fromRunbook = await stack.placeCall({ instructions: undefined, runbook: 'order-food-pickup', variables: { order: 'one chicken biryani', pickup_time: '7 pm', name: 'Raju' } });
    await stack.waitForEnd(fromRunbook);
    assert.equal((await stack.api('POST', '/api/calls', { to: '+12125550199', instructions: 'x' })).status, 403);
    const overview = (await stack.api('GET', '/api/calls/overview')).body;
    assert.equal(overview.calls.today, 2);
    assert.equal(overview.refused.today, 1);

    const b = await launch();
    const page = b.page;
    page.on('dialog', (d) => void d.accept());
    try {
      await signInByUrl(page, stack.baseUrl, '/calls');
      await page.getByRole('heading', { name: 'Calls', level: 1 }).waitFor();

      // The overview: today's numbers against the caps.
      await page.getByTestId('overview-calls').getByText('2').first().waitFor();
      assert.match(await page.getByTestId('overview-calls').innerText(), /2\s*of 40/);
      assert.match(await page.getByTestId('overview-live').innerText(), /0\s*of 5/);
      assert.match(await page.getByTestId('overview-refused').innerText(), /^Refused today\s*1/i);
      assert.match(await page.getByTestId('overview-spend').innerText(), new RegExp(`\\$${overview.spend.today.toFixed(overview.spend.today && overview.spend.today < 0.1 ? 4 : 2)}\\s*of \\$50\\.00`));

      // What each call was for.
      const plainRow = page.locator('tbody tr', { has: page.locator(`a[href="/calls/${plain}"]`) });
      const runbookRow = page.locator('tbody tr', { has: page.locator(`a[href="/calls/${fromRunbook}"]`) });
      assert.equal(await plainRow.locator('td[data-label="For"]').innerText(), '=Ask about "spicy, hot" dishes');
      assert.equal(await runbookRow.locator('td[data-label="For"]').innerText(), 'Runbook: order-food-pickup');
      await inspectPage(page, 'calls-list', { phone: true, dark: true });

      // Export: CSV of the whole list, properly quoted, the formula defused.
      const csv = await downloaded(page, () => page.getByRole('button', { name: 'Export CSV' }).click());
      assert.match(csv.name, /^calls-\d{4}-\d\d-\d\d\.csv$/);
      const rows = parseCsv(csv.body.toString('utf8'));
      assert.equal(rows.length, 3, 'a header and two calls');
      const header = rows[0]!;
      const col = (name: string) => header.indexOf(name);
      const plainCsv = rows.find((r) => r[col('id')] === plain)!;
      assert.equal(plainCsv[col('purpose')], `'=Ask about "spicy, hot" dishes`);
      assert.equal(plainCsv[col('instructions')], `'${TRICKY}`);
      assert.equal(plainCsv[col('to')], '+14155550123');
      assert.equal(rows.find((r) => r[col('id')] === fromRunbook)![col('purpose')], 'Runbook: order-food-pickup');
      // JSON of the filtered list: only what the filter shows.
      await page.getByLabel('Search').fill('spicy');
      await page.waitForURL(/\/calls\?q=spicy$/);
      await runbookRow.waitFor({ state: 'detached' });
      const json = await downloaded(page, () => page.getByRole('button', { name: 'Export JSON' }).click());
      const exported = JSON.parse(json.body.toString('utf8'));
      assert.deepEqual(exported.calls.map((c: { id: string }) => c.id), [plain]);
      assert.equal(exported.calls[0].instructions, TRICKY);
      assert.equal(exported.filters.text, 'spicy');
      await page.getByLabel('Search').fill('');
      await runbookRow.waitFor();

      // Download a recording from the list: the file the server holds.
      const mp3 = await downloaded(page, () => plainRow.getByRole('button', { name: /Download the recording/ }).click());
      assert.equal(mp3.name, `call-${plain}.mp3`);
      assert.deepEqual(mp3.body, readFileSync(join(stack.dataDir, 'recordings', `${plain}.mp3`)));

      // Call again: the new-call form opens with the call's settings (the runbook's goal and facts too), to check before dialling.
      await runbookRow.getByRole('link', { name: /Call again/ }).click();
      await page.waitForURL(`${stack.baseUrl}/?again=${fromRunbook}`);
      await page.getByText('Calling again with the same settings').waitFor();
      const original = (await stack.api('GET', `/api/calls/${fromRunbook}`)).body;
      assert.equal(await page.getByLabel('Instructions').inputValue(), original.instructions);
      assert.equal(await page.getByLabel('Phone number').inputValue(), '+14155550123');
      assert.equal(await page.getByLabel('On behalf of').inputValue(), 'raju');
      assert.equal(await page.locator('#goal').inputValue(), original.outcome.goal);
      await inspectPage(page, 'call-again');
      await page.getByRole('button', { name: 'Place call' }).click();
      await page.waitForURL(/\/calls\/[0-9a-f-]{36}$/);
      const again = page.url().split('/').pop()!;
      // A live call cannot be deleted: the API says why.
      const refused = await stack.api('DELETE', `/api/calls/${again}`);
      assert.equal(refused.status, 409);
      assert.match(refused.body.error.message, /live: hang up first|records .* still arriving/);
      const repeated = await stack.waitForEnd(again);
      assert.equal(repeated.instructions, original.instructions);
      assert.equal(repeated.clientId, 'raju');
      assert.equal(repeated.outcome.goal, original.outcome.goal);

      // Transcript times seek the recording.
      await page.locator('audio.recording').waitFor({ timeout: 15_000 });
      const seekButtons = page.locator('.transcript-card button.seek-time');
      const labels = await seekButtons.allInnerTexts();
      const last = labels.map((l, i) => ({ l, i })).filter(({ l }) => l !== '0:00').pop();
      assert.ok(last, `a line after the start (${labels.join(', ')})`);
      const [m, s] = last!.l.split(':').map(Number);
      const target = m! * 60 + s!;
      await page.locator('audio.recording').evaluate(async (el: HTMLAudioElement) => {
        if (el.readyState < 1) await new Promise((r) => (el.onloadedmetadata = r));
      });
      await seekButtons.nth(last!.i).click();
      const at = await page.locator('audio.recording').evaluate((el: HTMLAudioElement) => ({ t: el.currentTime, d: el.duration }));
      assert.ok(at.d >= target, `the recording (${at.d} s) reaches ${target} s`);
      assert.ok(at.t >= target && at.t < target + 1.5, `currentTime ${at.t} is at ${target} s`);
      await inspectPage(page, 'call-ended-seek');

      // Delete a call from the list: the record and its files go; today's count keeps it.
      await page.getByRole('link', { name: 'Calls', exact: true }).click();
      await plainRow.waitFor();
      assert.ok(existsSync(join(stack.dataDir, 'recordings', `${plain}.mp3`)));
      assert.ok(existsSync(join(stack.dataDir, 'transcripts', `${plain}.txt`)));
      await plainRow.getByRole('button', { name: /^Delete the call to/ }).click();
      await plainRow.waitFor({ state: 'detached' });
      assert.equal((await stack.api('GET', `/api/calls/${plain}`)).status, 404);
      assert.equal(existsSync(join(stack.dataDir, 'recordings', `${plain}.mp3`)), false);
      assert.equal(existsSync(join(stack.dataDir, 'transcripts', `${plain}.txt`)), false);
      assert.equal((await stack.api('GET', `/api/calls/${plain}/events`)).status, 404);
      await page.waitForFunction(() => /3\s*of 40/.test(document.querySelector('[data-testid="overview-calls"]')?.textContent ?? ''));
      assert.equal((await stack.api('GET', '/api/calls/overview')).body.calls.today, 3, 'a deleted call still counts towards the daily cap');
      assert.equal((await stack.api('GET', '/api/calls')).body.calls.length, 2);
    } finally {
      await b.close();
    }
  });
});
