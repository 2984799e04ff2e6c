import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { KnowledgeBase } from '../../src/knowledge/index.js';
import { fillerQuestions, writeFillerDocuments } from '../../bench/retrieval-filler.js';

/** A client with 10,000 chunks of household paperwork (the retrieval bench's filler), indexed into a database file. */
async function bigClient(searchInProcess: boolean) {
  const root = mkdtempSync(join(tmpdir(), 'cw-search-thread-'));
  const dir = join(root, 'clients', 'ana');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'profile.txt'), 'Full Name: Ana Silva\nPhone: +1 415 555 0100\n');
  await writeFillerDocuments(dir, 10_000);
  const kb = new KnowledgeBase({ db: openDatabase(join(root, 'db.sqlite')), clientsDir: join(root, 'clients'), searchInProcess });
  await kb.syncClient('ana');
  return kb;
}

test('searches run on the search thread: a burst of lookups over 10,000 chunks does not hold the event loop, and finds what the main thread would', async () => {
  const kb = await bigClient(false);
  const reference = await bigClient(true);
  try {
    const queries = fillerQuestions(40);
    await kb.search('ana', 'warm up the thread', { purpose: 'review' });
    // Counted, not timed (a stall bar flaps on a loaded machine): other work gets turns while the lookups
    // run. On the event loop the same 40 lookups ran back to back as one synchronous block (about 80 ms)
    // and nothing else ran until all were done.
    let turns = 0;
    let pending = true;
    const other = () => {
      if (!pending) return;
      turns++;
      setImmediate(other);
    };
    setImmediate(other);
    await Promise.all(queries.map((q) => kb.search('ana', q, { purpose: 'lookup', k: 5 })));
    pending = false;
    assert.ok(turns >= 10, `other work ran ${turns} times during 40 lookups`);
    for (const q of queries.slice(0, 8)) {
      const [a, b] = await Promise.all([kb.search('ana', q, { purpose: 'lookup', k: 5 }), reference.search('ana', q, { purpose: 'lookup', k: 5 })]);
      assert.deepEqual(a, b, q);
    }
    const found = await kb.search('ana', 'Ana Silva', { purpose: 'review', k: 5 });
    assert.ok(found.results.some((r) => r.text.includes('555 0100')), 'the thread finds the profile among the filler');
  } finally {
    await kb.close();
    await reference.close();
  }
});
