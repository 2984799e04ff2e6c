import { sqliteStore } from '../../src/store/sql/sql-store.js';
/**
 * Issue 18: the transcript is rendered once per call. The end of a call renders it into
 * DATA_DIR/transcripts/<id>.txt; the outcome rewrites that file with the outcome on top from the same text
 * (CallOutcomes.compute's `transcriptText`), reading the call's timeline again only when it has no text
 * (an outcome worked out after a restart).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CallOutcomes } from '../../src/outcome/call-outcomes.js';
import { withOutcomeText } from '../../src/outcome/payload.js';
import { renderTranscriptText } from '../../src/records/transcript.js';
import { openDatabase } from '../../src/store/database.js';
import { CallsRepo, newCallRow } from '../../src/store/calls-repo.js';
import { OutcomesRepo } from '../../src/store/outcomes-repo.js';
import type { StoredEvent } from '../../src/store/events-repo.js';

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-outcome-once-'));
  const db = openDatabase(join(dir, 'db.sqlite'));
  const calls = new CallsRepo(sqliteStore(db));
  const row = newCallRow({ to: '+14155550123', from: '+14155550100', clientId: null, clientName: null, instructions: 'Ask the opening hours.', provider: 'openai', carrier: 'twilio', carrierCallId: null, direction: 'outbound' }, new Date());
  calls.insert(row);
  const transcriptPath = join(dir, `${row.id}.txt`);
  calls.update(row.id, { status: 'ended', endReason: 'callee-hangup', endedAt: new Date().toISOString(), transcriptPath });
  const events: StoredEvent[] = [{ seq: 1, at: new Date().toISOString(), type: 'transcript', data: { speaker: 'callee', text: 'We open at nine.' } } as unknown as StoredEvent];
  let eventReads = 0;
  const repo = new OutcomesRepo(sqliteStore(db));
  const outcomes = new CallOutcomes(
    { repo, notComputedReason: 'no text model is configured' },
    {
      call: (id) => calls.get(id),
      events: async () => (eventReads++, events),
      record: () => {},
      recordUsage: () => {},
      log: pino({ level: 'silent' }),
      now: () => new Date(),
      transcriptsDir: dir,
    },
  );
  outcomes.register(row.id, { goal: null, schema: null });
  const rendered = renderTranscriptText((await calls.get(row.id))!, events);
  writeFileSync(transcriptPath, rendered);
  return { outcomes, callId: row.id, transcriptPath, rendered, reads: () => eventReads };
}

test('the outcome rewrites the transcript file from the text the call end rendered, without reading the timeline again', async () => {
  const s = await setup();
  // Marked, so that a fresh render (which could not contain the mark) would show in the file.
  const fromEnd = s.rendered.replace('We open at nine.', 'We open at nine. (as rendered at the end)');
  const outcome = await s.outcomes.compute(s.callId, { transcriptText: fromEnd });
  assert.equal(outcome?.status, 'not-computed');
  assert.equal(readFileSync(s.transcriptPath, 'utf8'), withOutcomeText(fromEnd, outcome));
  assert.equal(s.reads(), 0, 'the call was not rendered a second time');
});

test('with no rendered text (after a restart) the transcript is rendered from the timeline, once', async () => {
  const s = await setup();
  const outcome = await s.outcomes.compute(s.callId);
  assert.equal(readFileSync(s.transcriptPath, 'utf8'), withOutcomeText(s.rendered, outcome));
  assert.equal(s.reads(), 1);
});
