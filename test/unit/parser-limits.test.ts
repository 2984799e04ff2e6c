import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { KnowledgeBase } from '../../src/knowledge/index.js';
import { Extractor } from '../../src/knowledge/extractor.js';
import { DEFAULT_CHUNKING } from '../../src/knowledge/chunk.js';
import { makeDocx, makePdf } from '../fixtures/documents.js';
import { makeRepetitiveDocx } from '../fixtures/zip.js';

const MB = 1024 * 1024;
const PARAGRAPH = 'The quarterly statement lists every payment made from the joint account.';
// About 170 MB of XML once inflated, 0.6 MB on disk.
const BOMB_PARAGRAPHS = 2_000_000;
// About 85 MB once inflated: under the default inflation cap, far over a 64 MB heap once parsed.
const HEAVY_PARAGRAPHS = 1_000_000;

test('a DOCX whose document.xml would inflate past the cap fails before anything is inflated; the next document parses', async () => {
  const ex = new Extractor({ limits: { maxUncompressedBytes: 8 * MB } });
  try {
    const bomb = makeRepetitiveDocx(PARAGRAPH, BOMB_PARAGRAPHS);
    assert.ok(bomb.length < 2 * MB);
    const t0 = performance.now();
    await assert.rejects(ex.extract('docx', bomb, DEFAULT_CHUNKING), /word\/document\.xml would inflate to \d+ bytes, more than the 8388608-byte cap \(PARSER_MAX_UNCOMPRESSED_BYTES\)/);
    assert.ok(performance.now() - t0 < 5000, 'refused from the zip directory, not by inflating');
    const ok = await ex.extract('docx', await makeDocx([{ heading: 'Medications' }, { paragraph: 'Lisinopril 10 mg daily.' }]), DEFAULT_CHUNKING);
    assert.match(ok.chunks.map((c) => c.text).join(' '), /Lisinopril/);
  } finally {
    await ex.close();
  }
});

test('a DOCX within the size caps whose parse outgrows the heap limit: that document fails, the parser process restarts for the next', async () => {
  const ex = new Extractor({ limits: { memoryMb: 64 } });
  try {
    // Declared honestly (under the default 200 MB inflation cap): only the heap limit stops it.
    const heavy = makeRepetitiveDocx(PARAGRAPH, HEAVY_PARAGRAPHS);
    const next = ex.extract('markdown', Buffer.from('# Notes\n\nThe gate code is 4512.'), DEFAULT_CHUNKING); // queued behind it
    await assert.rejects(ex.extract('docx', heavy, DEFAULT_CHUNKING), /ran out of memory on this file \(PARSER_MEMORY_MB=64\)/);
    assert.match((await next).chunks[0]!.text, /gate code is 4512/);
  } finally {
    await ex.close();
  }
});

test('a PDF with more pages than PARSER_MAX_PAGES fails with the count; a file over PARSER_MAX_FILE_BYTES fails unread', async () => {
  const ex = new Extractor({ limits: { maxPages: 10, maxFileBytes: 64 * 1024 } });
  try {
    const pdf = await makePdf(Array.from({ length: 30 }, (_, i) => [`Page ${i + 1} of the lease.`]));
    await assert.rejects(ex.extract('pdf', pdf, DEFAULT_CHUNKING), /the PDF has 30 pages, more than the cap of 10 \(PARSER_MAX_PAGES\)/);
    await assert.rejects(ex.extract('text', Buffer.alloc(65 * 1024, 'a'), DEFAULT_CHUNKING), /more than the parser's cap of 65536 \(PARSER_MAX_FILE_BYTES\)/);
    const small = await makePdf([['Member ID: XJ-4471-209']]);
    assert.equal((await ex.extract('pdf', small, DEFAULT_CHUNKING)).pageCount, 1);
  } finally {
    await ex.close();
  }
});

test('through the knowledge base: the bomb and the huge PDF are failed with the reason, the other documents index', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cw-limits-'));
  const dir = join(root, 'clients', 'ana');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'profile.txt'), 'Full Name: Ana\n');
  writeFileSync(join(dir, 'bomb.docx'), makeRepetitiveDocx(PARAGRAPH, HEAVY_PARAGRAPHS));
  writeFileSync(join(dir, 'liar.docx'), makeRepetitiveDocx(PARAGRAPH, BOMB_PARAGRAPHS, { declaredSize: 4096 }));
  writeFileSync(join(dir, 'lease.pdf'), await makePdf(Array.from({ length: 30 }, (_, i) => [`Page ${i + 1}.`])));
  writeFileSync(join(dir, 'notes.md'), '# Notes\n\nThe gate code is 4512.');
  writeFileSync(join(dir, 'meds.docx'), await makeDocx([{ paragraph: 'Lisinopril 10 mg daily.' }]));
  // 256 MB: under Node 24 the parser child alone (tsx, pdf.js) outgrows 128 MB before it reads a page.
  const kb = new KnowledgeBase({ db: openDatabase(join(root, 'db.sqlite')), clientsDir: join(root, 'clients'), parserLimits: { memoryMb: 256, maxPages: 10 } });
  try {
    await kb.syncClient('ana');
    const docs = Object.fromEntries(kb.listDocuments('ana').map((d) => [d.file, d]));
    assert.equal(docs['bomb.docx']!.status, 'failed');
    assert.match(docs['bomb.docx']!.error!, /ran out of memory/);
    // Lying about the size in the directory does not help: the inflater checks it (after inflating, within the heap limit).
    assert.equal(docs['liar.docx']!.status, 'failed');
    assert.match(docs['liar.docx']!.error!, /size mismatch|ran out of memory/);
    assert.equal(docs['lease.pdf']!.status, 'failed');
    assert.match(docs['lease.pdf']!.error!, /30 pages/);
    assert.equal(docs['notes.md']!.status, 'indexed');
    assert.equal(docs['meds.docx']!.status, 'indexed');
    assert.equal((await kb.search('ana', 'Lisinopril', { purpose: 'review' })).results.length, 1);
  } finally {
    await kb.close();
  }
});
