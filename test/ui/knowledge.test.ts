import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, until } from '../e2e/helpers.js';
import { buildUi, inspectPage, launch, NO_WATCH, signInByUrl } from './helpers.js';

before(buildUi);

const MENU = `# Spice Garden menu

## Vegetarian starters
Paneer tikka, 8.50. Vegetable samosa (two pieces), 4.00. Onion bhaji, 4.50.

## Mains
Chicken biryani, 13.00. Lamb rogan josh, 15.00. Dal makhani, 10.00.
`;

const HOURS = `Opening hours
Monday to Friday: 11:30 to 22:00. Saturday and Sunday: 12:00 to 23:00.
Pickup orders are ready twenty minutes after they are placed.
`;

/** The agent looks something up in the client's documents mid-call, answers from it, and ends the call. */
const LOOKUP_CALL = {
  script: () => ({
    steps: [
      { say: 'Hello, Spice Garden.' },
      { waitForAgent: true as const, quietMs: 300 },
      { say: 'What would you like to order?' },
      { waitForAgent: true as const, quietMs: 600 },
      { say: 'Great, see you soon.' },
      { waitForAgent: true as const, quietMs: 300, timeoutMs: 5000 },
    ],
  }),
  conversation: () => ({
    turns: [
      { say: "Hi, I'm an AI assistant calling on behalf of Meera Shah." },
      { call: { name: 'lookup_context', args: { query: 'vegetarian starters' } } },
      { say: 'One paneer tikka for pickup, please.' },
      { say: 'Thank you, goodbye!', call: { name: 'end_call', args: { reason: 'order placed' } } },
    ],
    userTranscripts: ['Hello, Spice Garden.', 'What would you like to order?', 'Great, see you soon.'],
  }),
};

test('clients and documents: create a client, upload by file input and by drag and drop, see each indexed, change what the agent may share, search, delete; the new-call preview shows what the agent will know', async () => {
  await withStack({ embeddings: 'openai', ...LOOKUP_CALL, env: NO_WATCH }, async (stack) => {
    const b = await launch();
    const page = b.page;
    page.on('dialog', (d) => void d.accept());
    try {
      await signInByUrl(page, stack.baseUrl);
      await page.getByRole('link', { name: 'Clients', exact: true }).click();
      await page.getByRole('link', { name: /Raju Kumar/ }).waitFor();
      await inspectPage(page, 'clients', { phone: true, dark: true });

      // Create a client; a field error from the API lands on its field.
      await page.getByRole('button', { name: 'New client' }).click();
      await page.getByLabel('Full name').fill('Meera Shah');
      await page.getByLabel('Client id').fill('raju');
      await page.getByRole('button', { name: 'Create client' }).click();
      await page.locator('#c-id-hint.field-error').waitFor();
      assert.match(await page.locator('#c-id-hint').innerText(), /exists/i);
      assert.equal(await page.getByLabel('Client id').getAttribute('aria-invalid'), 'true');
      await page.getByLabel('Client id').fill('');
      // A name typed into the profile as well would give the client two names: the field says so.
      await page.getByLabel('Profile').fill('Full Name: Meera Shah\nPhone: +14155550111\nAllergic to peanuts.');
      await page.getByRole('button', { name: 'Create client' }).click();
      await page.locator('#c-profile-hint.field-error').waitFor();
      assert.match(await page.locator('#c-profile-hint').innerText(), /Full Name/);
      await page.getByLabel('Profile').fill('Phone: +14155550111\nAllergic to peanuts.');
      await page.getByRole('button', { name: 'Create client' }).click();
      await page.waitForURL(`${stack.baseUrl}/clients/meera-shah`);
      await page.getByRole('heading', { name: 'Meera Shah', level: 1 }).waitFor();
      // The profile is listed (and searchable) as a document; it cannot be deleted here.
      const profileRow = page.locator('.doc', { hasText: 'profile.txt' });
      await profileRow.locator('.doc-status', { hasText: 'Indexed' }).waitFor();
      assert.equal(await profileRow.getByLabel('Sharing for profile.txt').inputValue(), 'always');
      assert.equal(await profileRow.getByRole('button', { name: 'Delete profile.txt' }).count(), 0);

      // Upload through the file input.
      await page.locator('#file-input').setInputFiles({ name: 'menu.md', mimeType: 'text/markdown', buffer: Buffer.from(MENU) });
      const menuRow = page.locator('.doc', { hasText: 'menu.md' });
      await menuRow.locator('.doc-status', { hasText: 'Indexed' }).waitFor();

      // Upload by dropping a file on the drop zone (a real drop event carrying a File).
      await page.locator('.dropzone').evaluate((zone, text) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], 'hours.txt', { type: 'text/plain' }));
        zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, HOURS);
      const hoursRow = page.locator('.doc', { hasText: 'hours.txt' });
      await hoursRow.locator('.doc-status', { hasText: 'Indexed' }).waitFor();

      // A file the knowledge base cannot read is refused with its name and the reason; nothing else changes.
      await page.locator('#file-input').setInputFiles({ name: 'tool.exe', mimeType: 'application/octet-stream', buffer: Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00]) });
      await page.locator('.alert', { hasText: 'tool.exe' }).waitFor();
      assert.equal(await page.locator('.doc').count(), 3);

      // Sharing rules: uploads start as "when asked and relevant"; the owner changes them in the list.
      const menuShare = menuRow.getByLabel('Sharing for menu.md');
      assert.equal(await menuShare.inputValue(), 'when-asked-and-relevant');
      await menuShare.selectOption('always');
      await until('the rule is saved', async () => (await stack.api('GET', '/api/clients/meera-shah/documents')).body.documents.find((d: any) => d.file === 'menu.md')?.share === 'always');
      await hoursRow.getByLabel('Sharing for hours.txt').selectOption('never');
      await until('the rule is saved', async () => (await stack.api('GET', '/api/clients/meera-shah/documents')).body.documents.find((d: any) => d.file === 'hours.txt')?.share === 'never');
      await page.reload();
      assert.equal(await page.locator('.doc', { hasText: 'menu.md' }).getByLabel('Sharing for menu.md').inputValue(), 'always', 'the rule is kept');

      // Search as the agent would: the passage, its source, a score, and whether the agent could share it.
      await page.getByLabel('Ask what the agent would look up').fill('vegetarian starters');
      const hit = page.locator('.result', { hasText: 'Paneer tikka' }).first();
      await hit.waitFor();
      assert.match(await hit.innerText(), /menu\.md/);
      assert.match(await hit.innerText(), /score \d\.\d{3}/);
      assert.match(await hit.innerText(), /The agent can share this \(sharing: always\)/);
      await page.getByLabel('Ask what the agent would look up').fill('opening hours pickup');
      const hidden = page.locator('.result', { hasText: 'Opening hours' }).first();
      await hidden.waitFor();
      assert.match(await hidden.innerText(), /The agent never shares this \(sharing: never\)/);
      await page.getByLabel('Ask what the agent would look up').fill('vegetarian starters');
      await hit.waitFor();
      await inspectPage(page, 'client-documents', { phone: true, dark: true });

      // Delete a document: gone from the list and from search.
      const hoursRowNow = page.locator('.doc', { hasText: 'hours.txt' });
      await hoursRowNow.getByRole('button', { name: 'Delete hours.txt' }).click();
      await hoursRowNow.waitFor({ state: 'detached' });
      const docs = (await stack.api('GET', '/api/clients/meera-shah/documents')).body.documents;
      assert.deepEqual(docs.map((d: { file: string }) => d.file), ['menu.md', 'profile.txt']);

      // New call: choosing the client previews what the agent retrieves for the instructions.
      await page.getByRole('link', { name: 'New call', exact: true }).click();
      await page.getByLabel('On behalf of').selectOption('meera-shah');
      await page.getByLabel('Instructions').fill('Ask whether they have vegetarian starters and order one for pickup.');
      const preview = page.locator('#preview');
      await preview.locator('.result', { hasText: 'Paneer tikka' }).waitFor();
      assert.match(await preview.innerText(), /Calling as Meera Shah · 2 documents/);
      await inspectPage(page, 'new-call-preview', { phone: true });

      // A call for this client: the briefing and the mid-call lookup show inline with their sources.
      await page.getByLabel('Phone number').fill('+1 415 555 0123');
      await page.getByRole('button', { name: 'Place call' }).click();
      await page.waitForURL(/\/calls\/[0-9a-f-]{36}$/);
      const briefing = page.locator('.item-sources');
      await briefing.waitFor();
      assert.match(await briefing.innerText(), /briefed with 1 passage/);
      assert.match(await briefing.innerText(), /menu\.md/);
      const lookup = page.locator('.item-lookup');
      await lookup.waitFor();
      // The profile (sharing: always) may come along from the vector list; the menu ranks first.
      assert.match(await lookup.innerText(), /Looked up “vegetarian starters”: \d passages?\nmenu\.md/);
      assert.equal(await page.locator('.item-tool', { hasText: 'lookup_context' }).count(), 0, 'the lookup shows once, as its card');
      await page.locator('.item-tool', { hasText: 'end_call' }).waitFor();
      await page.getByText('The agent ended the call').first().waitFor();
      await until('the call records', async () => (await page.locator('audio.recording').count()) > 0, 15_000);
      await inspectPage(page, 'call-with-documents', { phone: true });
    } finally {
      await b.close();
    }
  });
});
