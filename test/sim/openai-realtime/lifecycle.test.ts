import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startOpenAIRealtimeSim } from './index.js';
import { TestClient } from './test-client.js';

test('close() during a realtime-paced response closes clients with 1001 and leaves no sockets or timers', async () => {
  const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
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
  // libuv releases a closed listener handle a loop turn or two after 'close' fires; give it a moment.
  const settled = performance.now() + 500;
  const active = () => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
  while (active().length > before.length && performance.now() < settled) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(active(), before);
});
