import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { KnowledgeBase } from '../../src/knowledge/index.js';
import { ftsMatchExpression } from '../../src/knowledge/fts-query.js';
import { makeDocx, makePdf } from '../fixtures/documents.js';

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'cw-kb-'));
  const clientsDir = join(root, 'clients');
  for (const id of ['ana', 'ben']) {
    mkdirSync(join(clientsDir, id), { recursive: true });
    writeFileSync(join(clientsDir, id, 'profile.txt'), `Full Name: ${id}\n`);
  }
  const db = openDatabase(join(root, 'db.sqlite'));
  const kb = new KnowledgeBase({ db, clientsDir });
  return { root, clientsDir, db, kb, put: (client: string, file: string, data: string | Uint8Array) => writeFileSync(join(clientsDir, client, file), data) };
}

test('sync indexes PDF, DOCX, Markdown and text; indexes the profile too; skips the prompt, hidden and other files', async () => {
  const { kb, put } = setup();
  put('ana', 'insurance-card.pdf', await makePdf([['Member ID: XJ-4471-209'], ['Specialist copay is $35.']]));
  put('ana', 'medications.docx', await makeDocx([{ table: [['Medication', 'Dose'], ['Lisinopril', '10 mg']] }]));
  put('ana', 'orders.md', '# Orders\n\nOrder 4471 shipped on March 3.');
  put('ana', 'notes.txt', 'The landlord is called Mr. Okafor.');
  put('ana', 'system-prompt.txt', 'You are terse.');
  put('ana', '.hidden.txt', 'secret');
  put('ana', 'photo.jpg', 'not indexed');
  const report = await kb.syncClient('ana');
  assert.deepEqual(report.added.sort(), ['insurance-card.pdf', 'medications.docx', 'notes.txt', 'orders.md', 'profile.txt']);
  assert.deepEqual(report.failed, []);
  const docs = kb.listDocuments('ana');
  assert.deepEqual(docs.map((d) => [d.file, d.status, d.embedded]), [
    ['insurance-card.pdf', 'indexed', false],
    ['medications.docx', 'indexed', false],
    ['notes.txt', 'indexed', false],
    ['orders.md', 'indexed', false],
    ['profile.txt', 'indexed', false],
  ]);
  // The profile is searchable like a document, and marked as the profile.
  assert.deepEqual(docs.map((d) => d.profile), [false, false, false, false, true]);
  assert.equal((await kb.search('ana', 'full name', { purpose: 'review', k: 1 })).results[0]?.file, 'profile.txt');
  assert.equal(docs[0]!.pages, 2);
  assert.ok(docs.every((d) => d.chunks >= 1 && d.sha256.length === 64 && d.indexedAt));

  const copay = await kb.search('ana', 'What is the specialist copay?', { purpose: 'review' });
  assert.equal(copay.mode, 'lexical');
  assert.equal(copay.results[0]!.file, 'insurance-card.pdf');
  assert.equal(copay.results[0]!.page, 2);
  assert.match(copay.results[0]!.text, /\$35/);
  assert.ok(copay.results[0]!.score > 0);
  assert.deepEqual(copay.results[0]!.ranks, { lexical: 1 });

  const dose = await kb.search('ana', 'lisinopril dose', { purpose: 'review' });
  assert.equal(dose.results[0]!.file, 'medications.docx');
  assert.match(dose.results[0]!.text, /Medication: Lisinopril \| Dose: 10 mg/);
  // The file name is searchable context: "insurance" is only in the file name.
  assert.equal((await kb.search('ana', 'insurance', { purpose: 'review', k: 1 })).results[0]?.file, 'insurance-card.pdf');
  assert.equal((await kb.search('ana', 'terse', { purpose: 'review' })).results.length, 0, 'system-prompt.txt is not a document');
});

test('incremental: unchanged files are not re-indexed, changed ones are, removed ones lose their chunks', async () => {
  const { kb, put, clientsDir } = setup();
  put('ana', 'a.md', 'The gate code is 4512.');
  put('ana', 'b.txt', 'The dentist is Dr. Rivera.');
  await kb.syncClient('ana');
  const before = kb.listDocuments('ana');

  const again = await kb.syncClient('ana');
  assert.deepEqual(again.unchanged.sort(), ['a.md', 'b.txt', 'profile.txt']);
  assert.deepEqual([again.added, again.updated, again.removed], [[], [], []]);
  assert.deepEqual(kb.listDocuments('ana').map((d) => d.indexedAt), before.map((d) => d.indexedAt));

  put('ana', 'a.md', 'The gate code changed to 9981.');
  const changed = await kb.syncClient('ana');
  assert.deepEqual(changed.updated, ['a.md']);
  assert.deepEqual(changed.unchanged, ['b.txt', 'profile.txt']);
  const a = kb.listDocuments('ana').find((d) => d.file === 'a.md')!;
  assert.equal(a.id, before.find((d) => d.file === 'a.md')!.id, 'same file keeps its id');
  assert.notEqual(a.sha256, before.find((d) => d.file === 'a.md')!.sha256);
  assert.equal((await kb.search('ana', '4512', { purpose: 'review' })).results.length, 0, 'old text is gone');
  assert.match((await kb.search('ana', 'gate code', { purpose: 'review' })).results[0]!.text, /9981/);

  rmSync(join(clientsDir, 'ana', 'b.txt'));
  const removed = await kb.syncClient('ana');
  assert.deepEqual(removed.removed, ['b.txt']);
  assert.equal((await kb.search('ana', 'dentist Rivera', { purpose: 'review' })).results.length, 0);
  assert.deepEqual(kb.listDocuments('ana').map((d) => d.file), ['a.md', 'profile.txt']);
});

test('deleteDocument removes the file and its chunks; unknown ids and other clients\' ids are refused', async () => {
  const { kb, put, clientsDir } = setup();
  put('ana', 'a.md', 'Parking is behind the building.');
  put('ben', 'b.md', 'Ben parks on the street.');
  await kb.syncAll();
  const [doc, profile] = kb.listDocuments('ana');
  const [benDoc] = kb.listDocuments('ben');
  await assert.rejects(kb.deleteDocument('ana', profile!.id), (err: Error & { status?: number; field?: string }) => err.status === 409 && err.field === 'docId' && /profile/.test(err.message));
  assert.equal(existsSync(join(clientsDir, 'ana', 'profile.txt')), true, 'the profile is not deleted');
  assert.equal(await kb.deleteDocument('ana', benDoc!.id), false, 'a document of another client');
  assert.equal(await kb.deleteDocument('ana', 'nope'), false);
  assert.equal(await kb.deleteDocument('ana', doc!.id), true);
  assert.equal(existsSync(join(clientsDir, 'ana', 'a.md')), false);
  assert.deepEqual(kb.listDocuments('ana').map((d) => d.file), ['profile.txt']);
  assert.equal((await kb.search('ana', 'parking building', { purpose: 'review' })).results.length, 0);
  assert.equal((await kb.syncClient('ana')).added.length, 0, 'the file is gone, so it does not come back');
  assert.equal(kb.listDocuments('ben').length, 2, 'b.md and the profile');
});

test('isolation: a client never retrieves another client\'s chunks', async () => {
  const { kb, put } = setup();
  put('ana', 'secret.md', 'Ana bank PIN reminder: ask Ana, never share. Account ends 7781.');
  put('ben', 'secret.md', 'Ben bank account ends 2290. Ben bank PIN reminder.');
  await kb.syncAll();
  for (const q of ['bank account PIN', '7781', '2290', 'Ben', 'Ana']) {
    const ana = await kb.search('ana', q, { purpose: 'review', k: 50 });
    const ben = await kb.search('ben', q, { purpose: 'review', k: 50 });
    assert.ok(ana.results.every((r) => !/2290|Ben bank/.test(r.text)), `ana saw ben's text for "${q}"`);
    assert.ok(ben.results.every((r) => !/7781|Ana bank/.test(r.text)), `ben saw ana's text for "${q}"`);
  }
  assert.equal((await kb.search('ana', '7781', { purpose: 'review' })).results.length, 1);
  assert.deepEqual((await kb.search('nobody', '7781', { purpose: 'review' })).results, []);
  assert.deepEqual((await kb.search('../ben', '2290', { purpose: 'review' })).results, []);
});

test('a file that cannot be read is marked failed with the reason; the others are indexed', async () => {
  const { kb, put } = setup();
  put('ana', 'fake.pdf', 'just text pretending to be a PDF');
  put('ana', 'broken.docx', 'PK\u0003\u0004 not really');
  put('ana', 'good.md', 'The plumber comes on Tuesday.');
  const report = await kb.syncClient('ana');
  assert.deepEqual(report.failed.map((f) => f.file).sort(), ['broken.docx', 'fake.pdf']);
  const docs = Object.fromEntries(kb.listDocuments('ana').map((d) => [d.file, d]));
  assert.equal(docs['fake.pdf']!.status, 'failed');
  assert.match(docs['fake.pdf']!.error!, /not a PDF/);
  assert.equal(docs['broken.docx']!.status, 'failed');
  assert.match(docs['broken.docx']!.error!, /DOCX/);
  assert.equal(docs['good.md']!.status, 'indexed');
  assert.equal((await kb.search('ana', 'plumber', { purpose: 'review' })).results.length, 1);
  // A failed file is not retried until it changes.
  assert.deepEqual((await kb.syncClient('ana')).failed, []);
});

test('any query text is a valid full-text query (hostile input never throws)', async () => {
  const { kb, put } = setup();
  put('ana', 'a.md', 'Order AND NEAR "quoted" column:value prefix* stars ^caret {braces} (parens) - minus + plus');
  await kb.syncClient('ana');
  for (const q of ['"', '""', 'AND', 'OR NOT', 'NEAR(a b, 2)', 'text:foo', '*', 'a*', '^x', '{text}: x', '(((', "'; DROP TABLE kb_chunks; --", '\u0000', '   ', 'ünïcödé ✓ 😀', 'x'.repeat(5000)]) {
    await kb.search('ana', q, { purpose: 'review' });
  }
  assert.equal((await kb.search('ana', 'column:value AND "quoted', { purpose: 'review' })).results.length, 1);
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 200 }), async (q) => {
      await kb.search('ana', q, { purpose: 'review' });
    }),
    { numRuns: 300 },
  );
  assert.equal(ftsMatchExpression('the of and'), '"the" OR "of" OR "and"');
  assert.equal(ftsMatchExpression('What is the gate "code"?'), '"gate" OR "code"');
  assert.equal(ftsMatchExpression('!!! ***'), undefined);
});

test('uploads: names cannot escape the folder, hide, or replace the profile; wrong content is refused; good files are stored', async () => {
  const { kb, clientsDir, root } = setup();
  const text = Buffer.from('The spare key is under the mat.');
  const { documents, errors } = await kb.addDocuments('ana', [
    { name: '../../escape.txt', bytes: text },
    { name: '..\\..\\win.txt', bytes: text },
    { name: '.hidden.txt', bytes: text },
    { name: 'profile.txt', bytes: text },
    { name: 'PROFILE.TXT', bytes: text },
    { name: 'bad\u0000name.txt', bytes: text },
    { name: 'evil\nname.txt', bytes: text },
    { name: '..', bytes: text },
    { name: 'script.sh', bytes: text },
    { name: 'fake.pdf', bytes: text },
    { name: 'good.md', bytes: text },
  ]);
  assert.deepEqual(documents.map((d) => d.file).sort(), ['escape.txt', 'good.md', 'win.txt']);
  assert.deepEqual(errors.map((e) => e.file), ['.hidden.txt', 'profile.txt', 'PROFILE.TXT', 'bad\u0000name.txt', 'evil\nname.txt', '..', 'script.sh', 'fake.pdf']);
  assert.equal(errors.find((e) => e.file === 'fake.pdf')!.status, 415);
  assert.equal(errors.find((e) => e.file === 'script.sh')!.status, 415);
  assert.deepEqual(readdirSync(root).sort(), ['clients', 'db.sqlite', 'db.sqlite-shm', 'db.sqlite-wal']);
  assert.deepEqual(readdirSync(join(clientsDir, 'ana')).sort(), ['escape.txt', 'good.md', 'profile.txt', 'win.txt']);
  assert.equal((await kb.search('ana', 'spare key', { purpose: 'review' })).results.length, 3);
  // Same name again replaces (and re-indexes) the file.
  const again = await kb.addDocuments('ana', [{ name: 'good.md', bytes: Buffer.from('The spare key moved to the neighbour.') }]);
  assert.equal(again.documents[0]!.id, documents.find((d) => d.file === 'good.md')!.id);
  assert.match((await kb.search('ana', 'neighbour', { purpose: 'review' })).results[0]!.text, /moved/);
});

test('leaving near-zero-IDF terms out of the lexical query does not change the ranking', async () => {
  const { kb, put, db } = setup();
  const vocab = ['insurance', 'member', 'pharmacy', 'refill', 'landlord', 'lease', 'order', 'tracking', 'gate', 'code', 'dentist', 'cleaning'];
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = () => vocab[Math.floor(rnd() * vocab.length)]!;
  // "note" and "number" are in every chunk: BM25 gives them an IDF of ~0.
  for (let f = 0; f < 40; f++) put('ana', `doc${f}.txt`, Array.from({ length: 3 }, () => `Note number ${Math.floor(rnd() * 99)}: ${pick()} ${pick()} ${pick()}.`).join('\n\n'));
  await kb.syncClient('ana');
  const full = db.prepare(
    `SELECT bm25(kb_chunks_fts, 1.0, 0.5) AS raw FROM kb_chunks_fts JOIN kb_chunks c ON c.id = kb_chunks_fts.rowid WHERE kb_chunks_fts MATCH ? AND c.client_id = 'ana' ORDER BY raw LIMIT ?`,
  );
  for (let i = 0; i < 60; i++) {
    const q = `note number ${pick()} ${pick()}`;
    for (const k of [3, 10, 50]) {
      const got = (await kb.search('ana', q, { purpose: 'review', k })).results.map((r) => r.score);
      const want = (full.all(ftsMatchExpression(q), k) as Array<{ raw: number }>).map((r) => -r.raw);
      assert.equal(got.length, want.length, `"${q}" k=${k}`);
      // The same scores in the same order, up to the left-out terms' ~1e-6 contributions.
      got.forEach((g, j) => assert.ok(Math.abs(g - want[j]!) < 1e-4, `"${q}" k=${k} #${j}: ${g} vs ${want[j]}`));
    }
  }
});

test('search purposes apply the sharing rules: prompt gets `always` documents but not the profile, lookup never gets `never` and gets `when-asked-and-relevant` only when relevant', async () => {
  const { kb, put } = setup();
  put('ana', 'profile.txt', 'Full Name: Ana Diaz\nDate of Birth: June 2, 1975\nMobile: (510) 555-0190\n');
  put('ana', 'card.md', '# Insurance card\n\nMember ID AX-1234. Copay for a specialist visit $40.');
  put('ana', 'bank.md', '# Bank\n\nChecking account 99-1234-SECRET, member since 2001.');
  put('ana', 'notes.md', '# Notes\n\nThe specialist said to walk more. Member of the gym since 2019.');
  put('ana', 'sharing.txt', 'card.md: always\nbank.md: never\nfiller.md: never\n');
  // Enough other passages that BM25's IDF means something (in a handful of chunks most words are common).
  put('ana', 'filler.md', Array.from({ length: 30 }, (_, i) => `Garden note ${i}: the roses by fence ${i} need water on day ${i}, and the tomatoes in bed ${i} want more sun than shade this season.`).join('\n\n'));
  await kb.syncClient('ana');
  assert.deepEqual(kb.listDocuments('ana').map((d) => [d.file, d.share]), [
    ['bank.md', 'never'],
    ['card.md', 'always'],
    ['filler.md', 'never'],
    ['notes.md', 'when-asked-and-relevant'],
    ['profile.txt', 'always'],
  ]);
  const files = async (q: string, purpose: 'prompt' | 'lookup' | 'review') => (await kb.search('ana', q, { purpose, k: 10 })).results.map((r) => r.file);

  // The profile is found by lookups ("born" stands for the birth date field), never pushed as an excerpt.
  assert.equal((await files('When was she born?', 'lookup'))[0], 'profile.txt');
  assert.equal((await files('best number to reach her', 'lookup'))[0], 'profile.txt');
  assert.deepEqual(await files('date of birth mobile member specialist account', 'prompt'), ['card.md']);

  // `never`: the owner sees it (and that the agent cannot share it); lookups never get it.
  const review = (await kb.search('ana', 'checking account', { purpose: 'review' })).results;
  assert.deepEqual([review[0]!.file, review[0]!.share, review[0]!.agentCanShare], ['bank.md', 'never', false]);
  assert.ok(!(await files('checking account member since', 'lookup')).includes('bank.md'));

  // `when-asked-and-relevant`: a lookup that matches it well gets it; one that barely touches it does not.
  assert.ok((await files('what did the specialist say about walking', 'lookup')).includes('notes.md'));
  const q = 'insurance card AX-1234 copay for a specialist visit in dollars';
  const weak = (await kb.search('ana', q, { purpose: 'review', k: 10 })).results.find((r) => r.file === 'notes.md');
  assert.ok(weak, 'the passage that shares one word ranks');
  assert.ok(weak!.relevance > 0 && weak!.relevance < 0.25, `relevance ${weak!.relevance}`);
  assert.equal(weak!.agentCanShare, false);
  assert.ok(!(await files(q, 'lookup')).includes('notes.md'), 'below the relevance bar: not handed to the agent');

  // A hand edit of sharing.txt applies to the next search, without a sync (watcher off).
  assert.ok((await files('insurance card member ID', 'lookup')).includes('card.md'));
  put('ana', 'sharing.txt', 'card.md: never\nbank.md: never\nfiller.md: never\n# edited by hand\n');
  assert.ok(!(await files('insurance card member ID', 'lookup')).includes('card.md'));
  assert.deepEqual(await files('insurance card member ID', 'prompt'), []);
});
