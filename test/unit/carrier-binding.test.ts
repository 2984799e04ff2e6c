import { sqliteStore } from '../../src/store/sql/sql-store.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openDatabase } from '../../src/store/database.js';
import { CallsRepo, type CallRow } from '../../src/store/calls-repo.js';
import { EventsRepo } from '../../src/store/events-repo.js';
import { Timeline } from '../../src/records/timeline.js';
import { parseSettings } from '../../src/config/settings.js';
import { CallRuntime, type CallServiceDeps } from '../../src/calls/call-runtime.js';
import { bindCarrierCallId } from '../../src/calls/carrier-binding.js';
import type { CallStatus } from '../../src/calls/state.js';

const SID_A = 'CA' + 'a'.repeat(32);
const SID_B = 'CA' + 'b'.repeat(32);

function setup() {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'callwright-bind-')), 'db.sqlite'));
  const calls = new CallsRepo(sqliteStore(db));
  const timeline = new Timeline(new EventsRepo(db, () => undefined));
  const deps = { settings: parseSettings({}), db, calls, timeline, log: pino({ level: 'silent' }) } as unknown as CallServiceDeps;
  const rt = new CallRuntime(deps, {} as never);
  const add = (id: string, status: CallStatus, carrierCallId: string | null = null) => {
    const now = new Date().toISOString();
    calls.insert({
      id, createdAt: now, updatedAt: now, to: '+14155550123', from: null, clientId: null, clientName: null, instructions: 'x', provider: 'openai',
      status, endReason: null, answeredBy: null, carrier: 'twilio', carrierCallId, streamSecret: 's', answeredAt: null, endedAt: null,
      carrierDurationSec: null, carrierPrice: null, carrierPriceUnit: null, recordingSid: null, recordingPath: null, transcriptPath: null, error: null, direction: 'outbound',
    } satisfies CallRow);
  };
  // As stored and served (JSON): an event read back before its batch is written is the object as appended.
  const events = async (id: string) => (await timeline.list(id)).map((e) => ({ type: e.type, data: JSON.parse(JSON.stringify(e.data)) as Record<string, unknown> }));
  return { rt, calls, add, events };
}

test('a signed callback binds the CallSid of a call whose dial is in flight, once', async () => {
  const { rt, calls, add, events } = setup();
  add('c1', 'dialing');
  assert.equal(bindCarrierCallId(rt, 'c1', SID_A, 'callback'), 'bound');
  assert.equal((await calls.get('c1'))!.carrierCallId, SID_A);
  // The dial response arriving afterwards with the same id is no news.
  assert.equal(bindCarrierCallId(rt, 'c1', SID_A, 'dial-response'), 'same');
  assert.equal(bindCarrierCallId(rt, 'c1', SID_A, 'callback'), 'same');
  assert.deepEqual(await events('c1'), [{ type: 'carrier.dialed', data: { carrierCallId: SID_A, learnedFrom: 'callback' } }]);
});

test('a bound CallSid never changes: a conflicting one is refused and recorded', async () => {
  const { rt, calls, add, events } = setup();
  add('c1', 'talking', SID_A);
  assert.equal(bindCarrierCallId(rt, 'c1', SID_B, 'callback'), 'refused');
  assert.equal(bindCarrierCallId(rt, 'c1', SID_B, 'dial-response'), 'refused');
  assert.equal((await calls.get('c1'))!.carrierCallId, SID_A);
  const errors = (await events('c1')).filter((e) => e.type === 'error');
  assert.equal(errors.length, 2);
  assert.equal(errors[0].data.code, 'carrier_id_conflict');
  assert.match(String(errors[0].data.message), new RegExp(`${SID_B}.*${SID_A}`));
});

test('a callback cannot bind a call that is not dialling, is ending, or an id another call holds', async () => {
  const { rt, calls, add } = setup();
  add('queued', 'queued');
  add('ended', 'ended');
  add('ending', 'dialing');
  add('holder', 'talking', SID_A);
  add('other', 'dialing');
  rt.ending.set('ending', new Promise(() => undefined));
  assert.equal(bindCarrierCallId(rt, 'queued', SID_B, 'callback'), 'refused');
  assert.equal(bindCarrierCallId(rt, 'ended', SID_B, 'callback'), 'refused');
  assert.equal(bindCarrierCallId(rt, 'ending', SID_B, 'callback'), 'refused');
  assert.equal(bindCarrierCallId(rt, 'other', SID_A, 'callback'), 'refused');
  assert.equal(bindCarrierCallId(rt, 'nope', SID_B, 'callback'), 'refused');
  for (const id of ['queued', 'ended', 'ending', 'other']) assert.equal((await calls.get(id))!.carrierCallId, null, id);
  // The dial response still binds a call that ended meanwhile, so that what was placed can be hung up.
  assert.equal(bindCarrierCallId(rt, 'ended', SID_B, 'dial-response'), 'bound');
});
