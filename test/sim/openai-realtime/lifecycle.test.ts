import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leakableResources, settledTo } from '../shared/leaks.js';
import { startOpenAIRealtimeSim } from './index.js';
import { TestClient } from './test-client.js';

test('close() during a realtime-paced response closes clients with 1001 and leaves no sockets or timers', async () => {
  const before = leakableResources();
  const sim = await startOpenAIRealtimeSim({ apiKey: 'k', pacing: 'realtime', scenario: () => ({ turns: [{ say: 'Long. '.repeat(50) }] }) });
  const c = await TestClient.connect(sim.url, 'k');
  const c2 = await TestClient.connect(sim.url, 'k');
  assert.equal((await sim.waitForSession()).index, 0);
  assert.equal((await sim.waitForSession()).index, 1);
  await assert.rejects(sim.waitForSession(50), /no session #2/);
  c.send({ type: 'response.create' });
  await c.waitFor('response.output_audio.delta');
  await sim.close();
  assert.equal((await c.closed).code, 1001);
  assert.equal((await c2.closed).code, 1001);
  assert.equal(sim.sessions[0].responses[0].status, 'in_progress');
  // The listener, both sockets and every pacing timer are gone (the timer that waits here is not counted).
  assert.deepEqual(await settledTo(before), before);
});
