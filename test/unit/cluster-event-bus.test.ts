import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { openDatabase } from '../../src/store/database.js';
import { EventsRepo, type StoredEvent } from '../../src/store/events-repo.js';
import { Timeline } from '../../src/records/timeline.js';
import { LocalEventBus } from '../../src/cluster/event-bus.js';
import { RedisEventBus } from '../../src/cluster/redis-event-bus.js';
import { until } from '../e2e/helpers.js';
import { memoryLog, redisTest, TEST_REDIS_URL } from '../redis-backend.js';

/** A node: its own store and a Timeline publishing through `bus`. */
function nodeTimeline(bus: ConstructorParameters<typeof Timeline>[1], callIds: string[]) {
  const db = openDatabase(':memory:');
  const insert = db.prepare("INSERT INTO calls (id, created_at, updated_at, to_number, instructions, provider, status, carrier, stream_secret) VALUES (?, 'now', 'now', '+1', 'x', 'openai', 'talking', 'twilio', 's')");
  for (const id of callIds) insert.run(id);
  return { timeline: new Timeline(new EventsRepo(db, () => undefined), bus), db };
}

const seqs = (evs: StoredEvent[]) => evs.map((e) => e.seq);

redisTest('events appended on node A reach a subscriber on node B once each, in order, per call; then the closed signal', async () => {
  const log = memoryLog();
  const [x, y] = [randomUUID(), randomUUID()];
  const busA = new RedisEventBus(TEST_REDIS_URL!, `a-${randomUUID()}`, log);
  const busB = new RedisEventBus(TEST_REDIS_URL!, `b-${randomUUID()}`, log);
  await Promise.all([busA.ready(), busB.ready()]);
  const a = nodeTimeline(busA, [x, y]);
  const b = nodeTimeline(busB, []);
  try {
    assert.equal(b.timeline.crossNode, true);
    const onB = { [x]: [] as StoredEvent[], [y]: [] as StoredEvent[] };
    const onA: StoredEvent[] = [];
    const closedOnB: string[] = [];
    const subX = b.timeline.subscribe(x, (ev) => onB[x].push(ev));
    const subY = b.timeline.subscribe(y, (ev) => onB[y].push(ev));
    b.timeline.onClosed(x, () => closedOnB.push(x));
    const localA = a.timeline.subscribe(x, (ev) => onA.push(ev));
    await Promise.all([subX.ready, subY.ready, localA.ready]);

    for (let i = 0; i < 100; i++) {
      a.timeline.append(x, 'usage', { i });
      if (i % 3 === 0) a.timeline.append(y, 'usage', { i });
    }
    a.timeline.close(x);
    await until('the events on node B', () => onB[x].length >= 100 && onB[y].length >= 34 && closedOnB.length === 1, 5000);
    // Anything late or doubled would arrive within a few round trips.
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seqs(onB[x]), Array.from({ length: 100 }, (_, i) => i + 1));
    assert.deepEqual(seqs(onB[y]), Array.from({ length: 34 }, (_, i) => i + 1));
    assert.deepEqual(onB[x].map((e) => e.data.i), Array.from({ length: 100 }, (_, i) => i), 'the data crosses intact');
    assert.deepEqual(closedOnB, [x]);
    // Node A's own subscriber hears its events once: in-process, not again when Redis echoes them.
    assert.deepEqual(seqs(onA), Array.from({ length: 100 }, (_, i) => i + 1));

    // A closed subscription hears nothing more.
    subY.close();
    a.timeline.append(y, 'usage', { after: true });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(onB[y].length, 34);
    assert.deepEqual(log.lines, []);
  } finally {
    await busA.close();
    await busB.close();
    a.db.close();
    b.db.close();
  }
});

redisTest('when the subscribing link drops and comes back, subscribers are told to catch up from the store', async () => {
  const log = memoryLog();
  const nodeId = `gap-${randomUUID()}`;
  const bus = new RedisEventBus(TEST_REDIS_URL!, nodeId, log);
  const admin = new Redis(TEST_REDIS_URL!);
  await bus.ready();
  try {
    let gaps = 0;
    const sub = bus.subscribe(randomUUID(), () => undefined, { onGap: () => gaps++ });
    await sub.ready;
    const clients = (await admin.client('LIST')) as string;
    const id = /id=(\d+) .*name=callwright-events-sub-(\S+)/.exec(clients.split('\n').find((l) => l.includes(`name=callwright-events-sub-${nodeId}`)) ?? '')?.[1];
    assert.ok(id, 'the subscribing connection is named after the node');
    await admin.client('KILL', 'ID', id);
    await until('the gap signal', () => gaps === 1, 5000);
    sub.close();
  } finally {
    admin.disconnect();
    await bus.close();
  }
});

test('in-process bus: a subscriber of one call hears only that call, and a throwing subscriber harms no other', async () => {
  const bus = new LocalEventBus();
  const { timeline, db } = nodeTimeline(bus, ['p', 'q']);
  try {
    assert.equal(timeline.crossNode, false);
    const heard: string[] = [];
    timeline.subscribe('p', () => {
      throw new Error('broken subscriber');
    });
    timeline.subscribe('p', (ev) => heard.push(`p${ev.seq}`));
    timeline.subscribe('q', (ev) => heard.push(`q${ev.seq}`));
    let closed = 0;
    timeline.onClosed('p', () => closed++);
    timeline.append('p', 'usage', {});
    timeline.append('q', 'usage', {});
    timeline.append('p', 'usage', {});
    timeline.close('p');
    timeline.close('p');
    assert.deepEqual(heard, ['p1', 'q1', 'p2']);
    assert.equal(closed, 1, 'the closed signal is heard once');
  } finally {
    db.close();
  }
});

redisTest('a subscription Redis confirms only after the wait is a gap: the follower, who went on without it, is told to replay', async () => {
  const log = memoryLog();
  const bus = new RedisEventBus(TEST_REDIS_URL!, `late-${randomUUID()}`, log);
  await bus.ready();
  const admin = new Redis(TEST_REDIS_URL!);
  try {
    // Redis answers no command for 2.6 s: the subscription's confirmation comes after the bus's 2 s wait.
    await admin.call('CLIENT', 'PAUSE', '2600', 'ALL');
    let gaps = 0;
    const started = Date.now();
    const sub = bus.subscribe(randomUUID(), () => undefined, { onGap: () => gaps++ });
    await sub.ready;
    assert.ok(Date.now() - started < 2500, 'ready did not wait for the confirmation');
    assert.equal(gaps, 0, 'no gap yet: the confirmation has not come');
    await until('the late confirmation signals a gap', () => gaps === 1, 5000);
    // A subscription confirmed in time is no gap.
    let other = 0;
    const again = bus.subscribe(randomUUID(), () => undefined, { onGap: () => other++ });
    await again.ready;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(other, 0);
    sub.close();
    again.close();
  } finally {
    admin.disconnect();
    await bus.close();
  }
});
