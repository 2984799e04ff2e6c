import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { FULL_CONVERSATION, withStack } from '../e2e/helpers.js';
import { buildUi, launch, NO_WATCH, signInByUrl } from './helpers.js';

before(buildUi);

test('new call from a runbook: choose it, fill its variables (a missing one is named at its field), place the call', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-runbooks-'));
  copyFileSync('runbooks/order-food-pickup.md', join(dir, 'order-food-pickup.md'));
  writeFileSync(join(dir, 'broken.md'), '---\ntitle: Broken one\ngoal: y\nmaybe: 1\n---\nz\n');
  await withStack({ script: () => FULL_CONVERSATION.script, scenario: () => FULL_CONVERSATION.scenario, env: { ...NO_WATCH, RUNBOOKS_DIR: dir } }, async (stack) => {
    const b = await launch();
    const page = b.page;
    try {
      await signInByUrl(page, stack.baseUrl);
      // A runbook with problems is listed but cannot be chosen, and says which line to fix.
      await page.getByText('broken.md: line 4: unknown field maybe').waitFor();
      assert.equal(await page.locator('#runbook option[value="broken"]').isDisabled(), true);

      await page.getByLabel('Phone number').fill('(415) 555-0123');
      await page.getByLabel('Runbook', { exact: true }).selectOption('order-food-pickup');
      await page.getByText('Orders from a restaurant for pickup').waitFor();
      assert.equal(await page.getByLabel('Instructions').count(), 0, 'the instructions come from the runbook');
      await page.getByLabel('What to order').fill('one chicken biryani');
      await page.getByLabel('The name for the order').fill('Raju');
      await page.getByRole('button', { name: 'Place call' }).click();
      // The server names the missing variable; the page shows it at that field.
      await page.getByText('is required (When to pick it up)').waitFor();
      assert.equal(await page.getByLabel('When to pick it up').getAttribute('aria-invalid'), 'true');
      assert.equal(stack.twilio.calls.length, 0);

      await page.getByLabel('When to pick it up').fill('7 pm');
      await page.getByLabel('Notes for this call (optional)').fill('Medium spicy.');
      await page.getByRole('button', { name: 'Place call' }).click();
      await page.waitForURL(/\/calls\/[0-9a-f-]{36}$/);
      const id = page.url().split('/').pop()!;
      await stack.waitForEnd(id, 30_000);
      const prompt = String(stack.openai.sessions[0]!.config.instructions);
      assert.match(prompt, /Goal: Order one chicken biryani for pickup at 7 pm under the name Raju/);
      assert.match(prompt, /Notes for this call:\nMedium spicy\./);
    } finally {
      await b.close();
    }
  });
});
