import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCallSchema } from '../../src/calls/call-request.js';
import { metadataSchema, readMetadata, storeMetadata } from '../../src/calls/metadata.js';
import { ApiError, errorBody, zodError, unexpectedBodyFields } from '../../src/server/errors.js';
import { IdempotentRequests, bodyHash, canonicalJson } from '../../src/server/idempotency.js';
import { IdempotencyRepo } from '../../src/store/idempotency-repo.js';
import { storeTest } from '../store-backends.js';

const CALL = { to: '+14155550123', instructions: 'x' };

test('zodError: unknown fields are named in full, every one; other problems name their field', () => {
  const unknown = zodError(createCallSchema.safeParse({ ...CALL, voice: 'alloy', speed: 1 }).error!);
  assert.deepEqual([unknown.status, unknown.extra.code, unknown.extra.field, unknown.extra.fields], [400, 'unknown_field', 'voice', ['voice', 'speed']]);
  const nested = zodError(createCallSchema.safeParse({ ...CALL, voicemail: { action: 'hangup', foo: 1 } }).error!);
  assert.equal(nested.extra.field, 'voicemail.foo');
  assert.match(nested.message, /^unknown field "voicemail\.foo"/);
  const wrong = zodError(createCallSchema.safeParse({ ...CALL, hold: { maxMinutes: 0 } }).error!);
  assert.deepEqual([wrong.extra.code, wrong.extra.field], ['invalid_field', 'hold.maxMinutes']);
  assert.match(wrong.message, /^hold\.maxMinutes: /);
});

test('errorBody: one shape, a code from the status unless named, no undefined fields', () => {
  assert.deepEqual(errorBody(404, 'call not found'), { error: { code: 'not_found', message: 'call not found' } });
  assert.deepEqual(errorBody(403, 'no', { code: 'refused_by_policy', rule: 'emergency', field: undefined }), { error: { code: 'refused_by_policy', message: 'no', rule: 'emergency' } });
  assert.equal(unexpectedBodyFields({}), undefined);
  assert.equal(unexpectedBodyFields(undefined), undefined);
  assert.deepEqual(unexpectedBodyFields({ reason: 1 })?.extra.fields, ['reason']);
});

test('metadata: flat string/number/boolean values, limited in keys and size; stored and read back', () => {
  assert.equal(metadataSchema.safeParse({ orderId: 'A-1', n: 2, vip: false }).success, true);
  for (const bad of [{ a: { b: 1 } }, { a: [1] }, { a: null }, { 'a b': 1 }, { a: 'x'.repeat(501) }, { a: Infinity }, Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 1])), 'x', []]) {
    assert.equal(metadataSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
  // 20 keys of 500 characters each are over the 4 KB total.
  assert.equal(metadataSchema.safeParse(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'x'.repeat(500)]))).success, false);
  assert.equal(storeMetadata({}), null);
  assert.deepEqual(readMetadata(storeMetadata({ a: 1 })), { a: 1 });
  assert.deepEqual(readMetadata(null), {});
  assert.deepEqual(readMetadata('not json'), {});
});

test('canonicalJson: the same JSON whatever the key order', () => {
  assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] }), '{"a":[{"c":2,"d":1}],"b":1}');
  assert.equal(bodyHash({ to: '1', instructions: 'x' }), bodyHash({ instructions: 'x', to: '1' }));
  assert.notEqual(bodyHash({ to: '1' }), bodyHash({ to: '2' }));
});

storeTest('IdempotentRequests: once per key; duplicates wait and share the answer; refusals free the key; keys expire after the TTL', async ({ store }) => {
  let now = new Date('2026-01-01T00:00:00Z');
  const keys = new IdempotencyRepo(store);
  const idem = new IdempotentRequests(keys, () => now);
  let runs = 0;
  const place = async () => {
    runs++;
    await new Promise((r) => setTimeout(r, 5));
    return { status: 201, body: { id: `call-${runs}` } };
  };
  const answers = await Promise.all([1, 2, 3].map(() => idem.run('k1', CALL, place)));
  assert.equal(runs, 1);
  assert.deepEqual(answers.map((a) => [a.body, a.replayed]), [[{ id: 'call-1' }, false], [{ id: 'call-1' }, true], [{ id: 'call-1' }, true]]);
  await assert.rejects(idem.run('k1', { ...CALL, to: '+1' }, place), (e: unknown) => e instanceof ApiError && e.status === 422 && e.extra.code === 'idempotency_key_reused');

  // A refused request frees its key: the corrected retry runs.
  await assert.rejects(idem.run('k2', CALL, async () => Promise.reject(new ApiError(400, 'bad'))));
  assert.equal((await idem.run('k2', CALL, place)).replayed, false);

  // Stored: another instance over the same database (a restart) replays it.
  const again = await new IdempotentRequests(new IdempotencyRepo(store), () => now).run('k1', CALL, place);
  assert.deepEqual([again.body, again.replayed], [{ id: 'call-1' }, true]);

  // A key first used more than 24 h ago is forgotten: the same key places a new call.
  now = new Date('2026-01-02T00:00:01Z');
  const later = await idem.run('k1', CALL, place);
  assert.equal(later.replayed, false);
  assert.notDeepEqual(later.body, { id: 'call-1' });

  // A key claimed by a request the server no longer runs (cut short by a restart) is said so.
  assert.equal(await keys.claim('k3', bodyHash(CALL), now), true);
  assert.equal(await keys.claim('k3', bodyHash(CALL), now), false, 'a key is claimed once');
  await assert.rejects(idem.run('k3', CALL, place), (e: unknown) => e instanceof ApiError && e.status === 409 && e.extra.code === 'idempotency_key_interrupted');
  assert.throws(() => IdempotentRequests.keyOf('has space'), ApiError);
  assert.throws(() => IdempotentRequests.keyOf(['a', 'b']), ApiError);
  assert.equal(IdempotentRequests.keyOf(undefined), undefined);
});
