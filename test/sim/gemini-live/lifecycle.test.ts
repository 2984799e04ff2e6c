import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leakableResources, settledTo } from '../shared/leaks.js';
import { startGeminiLiveSim } from './index.js';
import { KEY, TestClient } from './test-client.js';

test('close() during a realtime-paced turn closes clients with 1001 and leaves no sockets or timers', async () => {
  const before = leakableResources();
  const sim = await startGeminiLiveSim({ apiKey: KEY, pacing: 'realtime', scenario: () => ({ turns: [{ say: 'Long. '.repeat(50) }], goAwayAfterMs: 60_000 }) });
  const c = await TestClient.connect(sim.wsUrl);
  const c2 = await TestClient.connect(sim.wsUrl);
  assert.equal((await sim.waitForSession()).index, 0);
  assert.equal((await sim.waitForSession()).index, 1);
  await assert.rejects(sim.waitForSession(50), /no session #2/);
  c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'Greet.' }] }], turnComplete: true } });
  await c.waitForContent('modelTurn');
  await sim.close();
  assert.equal((await c.closed).code, 1001);
  assert.equal((await c2.closed).code, 1001);
  assert.equal(sim.sessions[0].turns[0].status, 'speaking');
  // The listener, both sockets and every pacing timer are gone (the timer that waits here is not counted).
  assert.deepEqual(await settledTo(before), before);
});
