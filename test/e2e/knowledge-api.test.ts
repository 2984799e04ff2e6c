import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withStack, until } from './helpers.js';
import { SIM_API_TOKEN, type Stack } from '../sim/stack.js';
import { makeDocx, makePdf } from '../fixtures/documents.js';

async function upload(stack: Stack, clientId: string, files: Array<{ name: string; bytes: Uint8Array | string; field?: string }>, token = SIM_API_TOKEN) {
  const form = new FormData();
  for (const f of files) form.append(f.field ?? 'file', new Blob([Buffer.from(f.bytes)]), f.name);
  const res = await fetch(`${stack.baseUrl}/api/clients/${clientId}/documents`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: (await res.json()) as any };
}

const search = (stack: Stack, clientId: string, q: string, extra = '') => stack.api('GET', `/api/clients/${clientId}/search?q=${encodeURIComponent(q)}${extra}`);

test('clients: create (id from the name), conflicts, bad input, listing with counts', async () => {
  await withStack({}, async (stack) => {
    const created = await stack.api('POST', '/api/clients', { name: 'José María Núñez', profile: 'Phone: +14155550111\nDate of birth: 1980-04-02', systemPrompt: 'Be brief.' });
    assert.equal(created.status, 201);
    // The profile is indexed at once: the search box (what the agent would retrieve) finds its facts.
    assert.deepEqual(created.body, { id: 'jose-maria-nunez', name: 'José María Núñez', documents: 1, chunks: 1 });
    const dob = await search(stack, 'jose-maria-nunez', 'date of birth');
    assert.equal(dob.body.results[0]?.file, 'profile.txt');
    assert.match(dob.body.results[0].text, /1980-04-02/);
    const dir = join(stack.dataDir, 'clients', 'jose-maria-nunez');
    assert.equal(readFileSync(join(dir, 'profile.txt'), 'utf8'), 'Full Name: José María Núñez\nPhone: +14155550111\nDate of birth: 1980-04-02\n');
    assert.equal(readFileSync(join(dir, 'system-prompt.txt'), 'utf8'), 'Be brief.\n');

    assert.equal((await stack.api('POST', '/api/clients', { name: 'Someone', id: 'jose-maria-nunez' })).status, 409);
    const badId = await stack.api('POST', '/api/clients', { name: 'X', id: '../etc' });
    assert.equal(badId.status, 400);
    assert.equal(badId.body.error.field, 'id');
    assert.equal((await stack.api('POST', '/api/clients', { name: '' })).body.error.field, 'name');
    assert.equal((await stack.api('POST', '/api/clients', { name: 'two\nlines' })).body.error.field, 'name');
    assert.equal((await stack.api('POST', '/api/clients', { name: '!!!' })).body.error.field, 'id');
    const twoNames = await stack.api('POST', '/api/clients', { name: 'Ana', profile: 'Full Name: Ana Silva\nPhone: 555' });
    assert.equal(twoNames.status, 400);
    assert.equal(twoNames.body.error.field, 'profile');
    assert.match(twoNames.body.error.message, /Full Name/);
    assert.equal((await stack.api('POST', '/api/clients', { name: 'A', id: 'a' }, '')).status, 401, 'behind bearer auth');

    const up = await upload(stack, 'jose-maria-nunez', [{ name: 'notes.md', bytes: '# Notes\n\nThe gate code is 4512.' }]);
    assert.equal(up.status, 201);
    const list = await stack.api('GET', '/api/clients');
    // Counts include the profile, which is indexed like a document.
    assert.deepEqual(list.body.clients, [
      { id: 'jose-maria-nunez', name: 'José María Núñez', documents: 2, chunks: 2 },
      { id: 'raju', name: 'Raju Kumar', documents: 1, chunks: 1 },
    ]);
  });
});

test('upload: PDF, DOCX and Markdown in one request; one bad file does not stop the others; search shows sources', async () => {
  await withStack({}, async (stack) => {
    const pdf = await makePdf([['Blue Shield PPO insurance card.', 'Member ID: XJ-4471-209.'], ['The specialist copay is $35 per visit.']]);
    const docx = await makeDocx([{ heading: 'Medications' }, { table: [['Medication', 'Dose'], ['Lisinopril', '10 mg']] }]);
    const res = await upload(stack, 'raju', [
      { name: 'insurance-card.pdf', bytes: pdf },
      { name: 'fake.pdf', bytes: 'I am not a PDF' },
      { name: 'medications.docx', bytes: docx },
      { name: 'orders.md', bytes: '# Orders\n\nOrder 4471 from Acme shipped on March 3.' },
    ]);
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.documents.map((d: any) => [d.file, d.status]), [
      ['insurance-card.pdf', 'indexed'],
      ['medications.docx', 'indexed'],
      ['orders.md', 'indexed'],
    ]);
    assert.equal(res.body.errors.length, 1);
    assert.equal(res.body.errors[0].file, 'fake.pdf');
    assert.match(res.body.errors[0].error, /fake\.pdf: not a PDF/);
    assert.equal(existsSync(join(stack.dataDir, 'clients', 'raju', 'fake.pdf')), false, 'the bad file is not stored');

    const docs = await stack.api('GET', '/api/clients/raju/documents');
    assert.deepEqual(docs.body.documents.map((d: any) => [d.file, d.status, d.embedded]), [
      ['insurance-card.pdf', 'indexed', false],
      ['medications.docx', 'indexed', false],
      ['orders.md', 'indexed', false],
      ['profile.txt', 'indexed', false],
    ]);
    assert.equal(docs.body.documents[0].pages, 2);

    const copay = await search(stack, 'raju', 'specialist copay');
    assert.equal(copay.status, 200);
    assert.equal(copay.body.query, 'specialist copay');
    assert.equal(copay.body.mode, 'lexical');
    const top = copay.body.results[0];
    assert.deepEqual([top.file, top.page], ['insurance-card.pdf', 2]);
    assert.match(top.text, /\$35/);
    assert.ok(top.score > 0 && top.chunkId && top.documentId && top.position >= 0);
    assert.match((await search(stack, 'raju', 'lisinopril dose')).body.results[0].text, /Lisinopril \| Dose: 10 mg/);
    assert.equal((await search(stack, 'raju', 'order', '&k=1')).body.results.length, 1);
    assert.equal((await search(stack, 'raju', '')).status, 400);
    assert.equal((await search(stack, 'raju', 'x', '&k=0')).body.error.field, 'k');
    // Multipart files are bound by UPLOAD_MAX_BYTES, not by the JSON body limit (256 KB).
    const large = await upload(stack, 'raju', [{ name: 'large.txt', bytes: 'Line of filler text for a large file.\n\n'.repeat(10_000) }]);
    assert.equal(large.status, 201);
    assert.ok(large.body.documents[0].bytes > 300_000 && large.body.documents[0].chunks > 500);
    const vector = await search(stack, 'raju', 'x', '&mode=vector');
    assert.equal(vector.status, 400);
    assert.match(vector.body.error.message, /embeddings provider/);
  });
});

test('upload limits: too large is 413 naming the limit, wrong content 415 naming the file, hostile names stay inside the folder', async () => {
  await withStack({ env: { UPLOAD_MAX_BYTES: '2048' } }, async (stack) => {
    const big = await upload(stack, 'raju', [{ name: 'big.txt', bytes: 'x'.repeat(5000) }]);
    assert.equal(big.status, 413);
    assert.match(big.body.error.message, /big\.txt is larger than the upload limit of 2 KB \(UPLOAD_MAX_BYTES\)/);

    const wrong = await upload(stack, 'raju', [{ name: 'scan.docx', bytes: await makePdf([['hello']]) }]);
    assert.equal(wrong.status, 415);
    assert.match(wrong.body.error.message, /scan\.docx: not a DOCX/);
    const binary = await upload(stack, 'raju', [{ name: 'notes.txt', bytes: new Uint8Array([0x68, 0x00, 0xff]) }]);
    assert.equal(binary.status, 415);
    assert.match(binary.body.error.message, /notes\.txt/);

    const hostile = await upload(stack, 'raju', [
      { name: '../../../escape.txt', bytes: 'escaped?' },
      { name: 'profile.txt', bytes: 'Full Name: Mallory' },
      { name: '.bashrc.txt', bytes: 'hidden' },
      { name: 'ok.md', bytes: 'fine' },
      { name: 'other-field.md', bytes: 'x', field: 'attachment' },
      { name: 'big.md', bytes: 'y'.repeat(3000) },
    ]);
    assert.equal(hostile.status, 201);
    assert.deepEqual(hostile.body.documents.map((d: any) => d.file).sort(), ['escape.txt', 'ok.md']);
    assert.deepEqual(hostile.body.errors.map((e: any) => e.file).sort(), ['.bashrc.txt', 'big.md', 'other-field.md', 'profile.txt']);
    assert.deepEqual(readdirSync(join(stack.dataDir, 'clients', 'raju')).sort(), ['escape.txt', 'ok.md', 'profile.txt']);
    assert.match(readFileSync(join(stack.dataDir, 'clients', 'raju', 'profile.txt'), 'utf8'), /Raju Kumar/);
    assert.ok(!readdirSync(stack.dataDir).includes('escape.txt'));

    const none = await fetch(`${stack.baseUrl}/api/clients/raju/documents`, { method: 'POST', headers: { Authorization: `Bearer ${SIM_API_TOKEN}`, 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(none.status, 415);
    assert.equal((await upload(stack, 'raju', [{ name: 'x.md', bytes: 'x' }], 'wrong-token-0123456789')).status, 401);
  });
});

test('delete removes the document, its file and its chunks; unknown clients and documents are 404', async () => {
  await withStack({}, async (stack) => {
    const res = await upload(stack, 'raju', [{ name: 'a.md', bytes: 'The spare key is under the blue flowerpot.' }]);
    const id = res.body.documents[0].id;
    assert.equal((await search(stack, 'raju', 'spare key')).body.results.length, 1);
    assert.equal((await stack.api('DELETE', `/api/clients/raju/documents/nope`)).status, 404);
    const del = await stack.api('DELETE', `/api/clients/raju/documents/${id}`);
    assert.equal(del.status, 204);
    const left = (await stack.api('GET', '/api/clients/raju/documents')).body.documents;
    assert.deepEqual(left.map((d: any) => d.file), ['profile.txt']);
    assert.deepEqual((await search(stack, 'raju', 'spare key')).body.results, []);
    // The profile is edited in the client's folder: the API does not delete it.
    const profileDel = await stack.api('DELETE', `/api/clients/raju/documents/${left[0].id}`);
    assert.equal(profileDel.status, 409);
    assert.equal(profileDel.body.error.field, 'docId');
    assert.equal(existsSync(join(stack.dataDir, 'clients', 'raju', 'profile.txt')), true);
    assert.equal(existsSync(join(stack.dataDir, 'clients', 'raju', 'a.md')), false);
    assert.equal((await stack.api('DELETE', `/api/clients/raju/documents/${id}`)).status, 404);

    for (const [method, path] of [
      ['GET', '/api/clients/ghost/documents'],
      ['GET', '/api/clients/ghost/search?q=x'],
      ['DELETE', `/api/clients/ghost/documents/${id}`],
      ['GET', '/api/clients/..%2Fetc/documents'],
    ] as const) {
      const r = await stack.api(method, path);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.match(r.body.error.message, /client/);
    }
    assert.equal((await upload(stack, 'ghost', [{ name: 'a.md', bytes: 'x' }])).status, 404);
  });
});

test('isolation through the API: one client\'s search never returns another client\'s documents', async () => {
  await withStack({}, async (stack) => {
    await stack.api('POST', '/api/clients', { id: 'ana', name: 'Ana Lee' });
    await upload(stack, 'ana', [{ name: 'bank.md', bytes: 'Ana bank account ends in 7781.' }]);
    await upload(stack, 'raju', [{ name: 'bank.md', bytes: 'Raju bank account ends in 2290.' }]);
    const ana = await search(stack, 'ana', 'bank account ends', '&k=50');
    const raju = await search(stack, 'raju', 'bank account ends', '&k=50');
    assert.deepEqual(ana.body.results.map((r: any) => r.text), ['Ana bank account ends in 7781.']);
    assert.deepEqual(raju.body.results.map((r: any) => r.text), ['Raju bank account ends in 2290.']);
    assert.deepEqual((await search(stack, 'ana', '2290')).body.results, []);
  });
});

test('files changed in CLIENTS_DIR while running are picked up by the watcher (new file, changed file, new client)', async () => {
  await withStack({}, async (stack) => {
    const dir = join(stack.dataDir, 'clients', 'raju');
    writeFileSync(join(dir, 'pharmacy.txt'), 'The pharmacy on Elm Street closes at 6 pm.');
    await until('the watcher indexes a new file', async () => (await search(stack, 'raju', 'pharmacy closes')).body.results.length === 1);
    const before = (await stack.api('GET', '/api/clients/raju/documents')).body.documents[0];
    assert.equal(before.status, 'indexed');

    writeFileSync(join(dir, 'pharmacy.txt'), 'The pharmacy on Elm Street now closes at 9 pm.');
    await until('the watcher re-indexes a changed file', async () => /9 pm/.test((await search(stack, 'raju', 'pharmacy closes')).body.results[0]?.text ?? ''));

    mkdirSync(join(stack.dataDir, 'clients', 'newbie'));
    writeFileSync(join(stack.dataDir, 'clients', 'newbie', 'profile.txt'), 'Full Name: New Bie');
    writeFileSync(join(stack.dataDir, 'clients', 'newbie', 'notes.md'), 'Newbie prefers morning calls.');
    await until('a new client folder is watched too', async () => (await search(stack, 'newbie', 'morning calls')).body.results.length === 1);
  });
});

test('at start-up the index catches up with CLIENTS_DIR (without the watcher); KNOWLEDGE_WATCH=false disables watching', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-'));
  mkdirSync(join(dataDir, 'clients', 'raju'), { recursive: true });
  writeFileSync(join(dataDir, 'clients', 'raju', 'car.md'), 'The car is a blue 2014 Honda Civic.');
  await withStack({ dataDir, env: { KNOWLEDGE_WATCH: 'false' } }, async (stack) => {
    await until('start-up sync indexes the existing file', async () => (await search(stack, 'raju', 'Honda Civic')).body.results.length === 1);
    writeFileSync(join(dataDir, 'clients', 'raju', 'later.md'), 'Written while running, with watching off.');
    // Nothing to wait for but an upload: the upload's sync picks up the other file too.
    await upload(stack, 'raju', [{ name: 'upload.md', bytes: 'Uploaded.' }]);
    assert.deepEqual((await stack.api('GET', '/api/clients/raju/documents')).body.documents.map((d: any) => d.file), ['car.md', 'later.md', 'profile.txt', 'upload.md']);
  });
});

for (const provider of ['openai', 'gemini'] as const) {
  test(`with ${provider} embeddings (simulator): documents are embedded and search is hybrid`, async () => {
    await withStack({ embeddings: provider }, async (stack) => {
      const res = await upload(stack, 'raju', [{ name: 'health.md', bytes: '# Health\n\nAllergies: penicillin causes a rash.\n\nBlood type: O negative.' }, { name: 'car.md', bytes: 'The car is a blue Honda Civic.' }]);
      assert.equal(res.status, 201);
      assert.ok(res.body.documents.every((d: any) => d.embedded === true && d.status === 'indexed'));
      assert.ok(stack.embeddings!.requests.length >= 2 && stack.embeddings!.requests.every((r) => r.provider === provider && r.dimensions === 512));
      const hybrid = await search(stack, 'raju', 'is she allergic to penicillin');
      assert.equal(hybrid.body.mode, 'hybrid');
      assert.match(hybrid.body.results[0].text, /penicillin/);
      assert.deepEqual(hybrid.body.results[0].ranks, { lexical: 1, vector: 1 });
      // A misspelling shares no word with the text: vectors (trigrams in the simulator) still find it.
      const vector = await search(stack, 'raju', 'penicilin', '&mode=vector&k=1');
      assert.equal(vector.body.mode, 'vector');
      assert.match(vector.body.results[0].text, /penicillin/);
      assert.deepEqual((await search(stack, 'raju', 'penicilin', '&mode=lexical')).body.results, []);
    });
  });
}

test('embeddings outage: upload still succeeds, the document says it is keyword-only, search falls back to lexical', async () => {
  await withStack({ embeddings: 'openai', env: { LOG_LEVEL: 'silent' } }, async (stack) => {
    stack.embeddings!.setFailure({ status: 400, message: 'simulated outage' });
    const res = await upload(stack, 'raju', [{ name: 'health.md', bytes: 'Allergies: penicillin.' }]);
    assert.equal(res.status, 201);
    const [doc] = res.body.documents;
    assert.deepEqual([doc.status, doc.embedded], ['indexed', false]);
    assert.match(doc.error, /embeddings failed \(openai text-embedding-3-small\).*simulated outage/);
    const r = await search(stack, 'raju', 'penicillin');
    assert.equal(r.status, 200);
    assert.equal(r.body.mode, 'lexical');
    assert.equal(r.body.results.length, 1);
    assert.equal((await search(stack, 'raju', 'penicillin', '&mode=vector')).status, 502);
  });
});
