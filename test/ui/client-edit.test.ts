import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIM_API_TOKEN } from '../sim/stack.js';
import { FULL_CONVERSATION, withStack, until } from '../e2e/helpers.js';
import { buildUi, inspectPage, launch, NO_WATCH, signInByUrl } from './helpers.js';

before(buildUi);

test("client page: edit the profile and the system-prompt override with a live preview of the agent's prompt, see the client's calls, rename, delete with the documents (the calls keep their records)", async () => {
  await withStack({ script: () => FULL_CONVERSATION.script, scenario: () => FULL_CONVERSATION.scenario, env: NO_WATCH }, async (stack) => {
    const callId = await stack.placeCall({ instructions: 'Order one chicken biryani for pickup at 7.\nSecond line.' });
    await stack.waitForEnd(callId);
    // A document besides the profile, uploaded through the API.
    const form = new FormData();
    form.append('file', new Blob(['Spice Garden menu: paneer tikka 8.50, onion bhaji 4.50.\n']), 'menu.txt');
    const up = await fetch(`${stack.baseUrl}/api/clients/raju/documents`, { method: 'POST', headers: { Authorization: `Bearer ${SIM_API_TOKEN}` }, body: form });
    assert.equal(up.status, 201);
    // Shared always: its passages go into a call's prompt (the preview's too).
    const menuId = ((await up.json()) as { documents: Array<{ id: string }> }).documents[0]!.id;
    assert.equal((await stack.api('PATCH', `/api/clients/raju/documents/${menuId}`, { share: 'always' })).status, 200);
    const dir = join(stack.dataDir, 'clients', 'raju');

    const b = await launch();
    const page = b.page;
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    try {
      await signInByUrl(page, stack.baseUrl, '/clients/raju');
      await page.getByRole('heading', { name: 'Raju Kumar', level: 1 }).waitFor();
      assert.equal(await page.getByLabel('Full name').inputValue(), 'Raju Kumar');
      assert.equal(await page.getByRole('textbox', { name: 'Profile', exact: true }).inputValue(), 'Phone: +14155550100\nPreferred pickup: evenings');
      assert.equal(await page.getByLabel('System prompt override').inputValue(), '');

      // The preview is the prompt a call gets: built by the server's prompt builder, as a call builds it.
      const preview = page.getByTestId('prompt-preview');
      await preview.getByText(/making a call on behalf of Raju Kumar/).waitFor();
      assert.match(await preview.innerText(), /Phone: \+14155550100/);

      // Unsaved edits show in the preview at once; so do the instructions to preview with.
      await page.getByRole('textbox', { name: 'Profile', exact: true }).fill('Phone: +14155550100\nAllergic to peanuts.');
      await preview.getByText('Allergic to peanuts.').waitFor();
      await page.getByLabel('Instructions to preview with').fill('Ask whether the onion bhaji has peanuts');
      await preview.getByText('Ask whether the onion bhaji has peanuts').waitFor();
      // The passages retrieved for those instructions are in the prompt, as on a call.
      await preview.getByText(/\[1\] menu\.txt/).waitFor();
      await page.getByLabel('System prompt override').fill("You are {{name}}'s assistant on the phone.\nTask: {{instructions}}\nKnown facts: {{profile}}");
      await preview.getByText("You are Raju Kumar's assistant on the phone.").waitFor();
      const withOverride = await preview.innerText();
      assert.ok(withOverride.startsWith("You are Raju Kumar's assistant on the phone."), withOverride.slice(0, 80));
      // The rules that are not optional come with any template.
      assert.match(withOverride, /# Always \(these rules come before anything above\)/);
      assert.match(withOverride, /say that you are an AI assistant calling on behalf of Raju Kumar/);
      assert.equal(readFileSync(join(dir, 'profile.txt'), 'utf8'), 'Full Name: Raju Kumar\nPhone: +14155550100\nPreferred pickup: evenings\n', 'nothing saved yet');
      await page.getByText('Unsaved changes.').waitFor();
      await inspectPage(page, 'client-edit', { phone: true, dark: true });

      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Saved.').waitFor();
      assert.equal(readFileSync(join(dir, 'profile.txt'), 'utf8'), 'Full Name: Raju Kumar\nPhone: +14155550100\nAllergic to peanuts.\n');
      assert.match(readFileSync(join(dir, 'system-prompt.txt'), 'utf8'), /^You are \{\{name\}\}'s assistant/);
      // A field error from the API lands on its field.
      await page.getByRole('textbox', { name: 'Profile', exact: true }).fill('Full Name: Someone Else');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.locator('#e-profile-hint.field-error').getByText(/Full Name/).waitFor();
      assert.equal(await page.getByRole('textbox', { name: 'Profile', exact: true }).getAttribute('aria-invalid'), 'true');
      await page.getByRole('button', { name: 'Discard' }).click();

      // The client's calls, with what each was for.
      const calls = page.locator('#client-calls');
      await calls.getByRole('link', { name: '+1 415 555 0123' }).waitFor();
      assert.match(await calls.innerText(), /Order one chicken biryani for pickup at 7\./);
      assert.doesNotMatch(await calls.innerText(), /Second line/);

      // Rename: the name the agent uses changes; the id (and the folder) stay.
      await page.getByLabel('Full name').fill('Raju K. Sharma');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByRole('heading', { name: 'Raju K. Sharma', level: 1 }).waitFor();
      assert.equal(readFileSync(join(dir, 'profile.txt'), 'utf8'), 'Full Name: Raju K. Sharma\nPhone: +14155550100\nAllergic to peanuts.\n');
      assert.deepEqual((await stack.api('GET', '/api/clients')).body.clients.map((c: { id: string; name: string }) => [c.id, c.name]), [['raju', 'Raju K. Sharma']]);
      await preview.getByText("You are Raju K. Sharma's assistant on the phone.").waitFor();
      // Clearing the override goes back to the built-in prompt.
      await page.getByLabel('System prompt override').fill('');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Saved.').waitFor();
      assert.equal(existsSync(join(dir, 'system-prompt.txt')), false);
      await preview.getByText(/making a call on behalf of Raju K\. Sharma/).waitFor();

      // Delete, after a confirmation: the folder and the documents (files and index) go; the call stays.
      await page.locator('.doc', { hasText: 'menu.txt' }).waitFor();
      await page.getByRole('button', { name: 'Delete client' }).click();
      await page.waitForURL(`${stack.baseUrl}/clients`);
      assert.match(dialogs.at(-1)!, /Delete Raju K\. Sharma and their 2 documents\?/);
      assert.equal(existsSync(dir), false);
      assert.deepEqual((await stack.api('GET', '/api/clients')).body.clients, []);
      assert.equal((await stack.api('GET', '/api/clients/raju/documents')).status, 404);
      await until('the index forgets the documents', () => stack.app.knowledge.listDocuments('raju').length === 0);
      const kept = await stack.api('GET', `/api/calls/${callId}`);
      assert.equal(kept.status, 200);
      assert.equal(kept.body.clientName, 'Raju Kumar', 'the call keeps the name it was made under');
      await page.getByText('No clients yet').waitFor();
    } finally {
      await b.close();
    }
  });
});
