import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlayoutTracker } from '../../src/media/playout-tracker.js';
import { AudioChunk } from '../../src/media/audio-chunk.js';

const audio = (n: number) => AudioChunk.fromBytes(new Uint8Array(n));

test('splits audio into chunks of at most chunkMs, each with a unique mark', () => {
  const t = new PlayoutTracker({ chunkMs: 40 });
  const chunks = t.push('i1', audio(800)); // 100 ms
  assert.deepEqual(chunks.map((c) => c.audio.length), [320, 320, 160]);
  assert.equal(new Set(chunks.map((c) => c.mark)).size, 3);
  assert.equal(t.state('i1')?.sentMs, 100);
  assert.equal(t.state('i1')?.playedMs, 0);
  assert.equal(t.pendingMs, 100);
});

test('heard position comes only from echoed marks', () => {
  const t = new PlayoutTracker({ chunkMs: 20 });
  const chunks = t.push('i1', audio(1600)); // 200 ms
  t.onMark(chunks[2].mark!);
  assert.equal(t.state('i1')?.playedMs, 60);
  assert.equal(t.pendingMs, 140);
  // An echo confirms every earlier mark too.
  t.onMark(chunks[4].mark!);
  assert.equal(t.state('i1')?.playedMs, 100);
  assert.equal(t.onMark('unknown'), undefined);
});

test('clear voids pending marks: their echoes do not count as heard', () => {
  const t = new PlayoutTracker({ chunkMs: 20, now: () => 0 });
  const a = t.push('a', audio(800)); // 100 ms = 5 chunks
  const b = t.push('b', audio(800));
  t.onMark(a[4].mark!); // all of a heard
  t.onMark(b[1].mark!); // 40 ms of b heard
  const cut = t.clear();
  assert.deepEqual(cut, [{ itemId: 'b', sentMs: 100, playedMs: 40 }]);
  assert.equal(t.hasPending, false);
  assert.equal(t.onMark(b[3].mark!), undefined);
  assert.equal(t.state('b')?.playedMs, 40);
});

test('a delta that fits one chunk passes through without re-encoding', () => {
  const t = new PlayoutTracker({ chunkMs: 40 });
  const delta = AudioChunk.fromBase64(Buffer.alloc(160, 7).toString('base64'));
  const [only] = t.push('i', delta);
  assert.equal(only.audio, delta);
  const big = t.push('i', AudioChunk.fromBase64(Buffer.alloc(400, 7).toString('base64')));
  assert.deepEqual(big.map((c) => c.audio.bytes.length), [320, 80]);
});

test('items never heard report zero', () => {
  const t = new PlayoutTracker();
  t.push('x', audio(160));
  assert.deepEqual(t.clear(), [{ itemId: 'x', sentMs: 20, playedMs: 0 }]);
});

test('marks of two trackers never collide', () => {
  const a = new PlayoutTracker({ markPrefix: 's1m' }).push('i', audio(10));
  const b = new PlayoutTracker({ markPrefix: 's2m' }).push('i', audio(10));
  assert.notEqual(a[0].mark, b[0].mark!);
});

test('per chunk, no Map entry is made or deleted: a second of audio in 20 ms deltas, echoed as it plays', () => {
  const t = new PlayoutTracker({ chunkMs: 40, markPrefix: 's1m' });
  t.push('i', audio(160));
  const set = Map.prototype.set;
  const del = Map.prototype.delete;
  let ops = 0;
  Map.prototype.set = function (this: Map<unknown, unknown>, k: unknown, v: unknown) {
    ops++;
    return set.call(this, k, v);
  };
  Map.prototype.delete = function (this: Map<unknown, unknown>, k: unknown) {
    ops++;
    return del.call(this, k);
  };
  let last;
  try {
    for (let i = 0; i < 50; i++) for (const c of t.push('i', audio(160))) last = t.onMark(c.mark!);
  } finally {
    Map.prototype.set = set;
    Map.prototype.delete = del;
  }
  assert.equal(ops, 0, 'Map operations for 50 chunks and their echoes');
  assert.deepEqual(last, { itemId: 'i', sentMs: 1020, playedMs: 1020 });
  assert.equal(t.hasPending, false);
});

test('marks echoed out of a long queue: earlier ones count as played, stale and foreign names are ignored', () => {
  const t = new PlayoutTracker({ chunkMs: 20, markPrefix: 's2m', now: () => 0 });
  const marks = Array.from({ length: 600 }, (_, i) => t.push(i < 300 ? 'a' : 'b', audio(160))[0]!.mark);
  assert.deepEqual(t.onMark(marks[299]!), { itemId: 'a', sentMs: 6000, playedMs: 6000 });
  assert.equal(t.onMark(marks[10]!), undefined, 'already confirmed');
  assert.equal(t.onMark('s1m301'), undefined, 'another stream');
  assert.equal(t.onMark('s2mx'), undefined);
  assert.deepEqual(t.pendingItems(), ['b']);
  assert.deepEqual(t.onMark(marks[449]!), { itemId: 'b', sentMs: 6000, playedMs: 3000 });
  assert.equal(t.pendingMs, 3000);
  assert.deepEqual(t.clear(), [{ itemId: 'b', sentMs: 6000, playedMs: 3000 }]);
  assert.equal(t.onMark(marks[500]!), undefined, 'void after clear');
  const again = t.push('c', audio(160))[0]!.mark;
  assert.deepEqual(t.onMark(again!), { itemId: 'c', sentMs: 20, playedMs: 20 });
});

test('coalescing: 20 ms deltas get a mark every 40 ms (25 a second, not 50); an echo confirms the unmarked chunks before it; the heard position stays within 40 ms', () => {
  const t = new PlayoutTracker({ chunkMs: 40, markPrefix: 's1m', now: () => 0 });
  const sent: Array<{ audio: number; mark?: string }> = [];
  for (let i = 0; i < 50; i++) for (const c of t.push('i', audio(160), true)) sent.push({ audio: c.audio.length, mark: c.mark });
  const marks = sent.filter((s) => s.mark).map((s) => s.mark!);
  assert.equal(sent.length, 50, 'every delta goes out as it came');
  assert.equal(marks.length, 25, 'marks per second of audio');
  // The callee has heard 330 ms when barging in: the last echo says 320 ms (8 marks of 40 ms).
  for (const m of marks.slice(0, 8)) t.onMark(m);
  assert.equal(t.state('i')!.playedMs, 320);
  const [cut] = t.clear();
  assert.ok(Math.abs(cut!.playedMs - 330) <= 40, `heard ${cut!.playedMs} ms of 330`);
  // The tail: audio after the last mark is confirmed by a mark sent on its own.
  const t2 = new PlayoutTracker({ chunkMs: 40 });
  const chunks = t2.push('j', audio(160), true);
  assert.equal(chunks[0]!.mark, undefined);
  assert.equal(t2.hasPending, true);
  const tail = t2.markTail()!;
  assert.ok(tail);
  assert.equal(t2.markTail(), undefined, 'once');
  assert.deepEqual(t2.onMark(tail), { itemId: 'j', sentMs: 20, playedMs: 20 });
  assert.equal(t2.hasPending, false);
});

/**
 * A carrier that plays at real time and echoes each mark `echoMs` after playback reaches it; the agent's
 * audio, 20 ms deltas with a mark every 40 ms, arrives in a burst (all at t=0) or at real-time pace. The
 * callee barges in at `cutAt`: what the tracker says was heard against what was played by then.
 */
function cutAt(cutAt: number, o: { pacing: 'burst' | 'realtime'; echoMs: number; deltas?: number }): { heard: number; played: number } {
  let now = 0;
  const t = new PlayoutTracker({ chunkMs: 40, markPrefix: 's1m', now: () => now });
  const deltas = o.deltas ?? 50;
  // Each mark with the time playback reaches it; audio starts playing when it arrives (no gap in a burst).
  const events: Array<{ at: number; run: () => void }> = [];
  let sentMs = 0;
  for (let i = 0; i < deltas; i++) {
    const sendAt = o.pacing === 'burst' ? 0 : i * 20;
    events.push({
      at: sendAt,
      run: () => {
        for (const c of t.push('i', audio(160), true)) {
          sentMs += 20;
          const name = c.mark;
          if (name) events.push({ at: sentMs + o.echoMs, run: () => t.onMark(name) });
        }
      },
    });
  }
  for (;;) {
    events.sort((a, b) => a.at - b.at);
    const next = events[0];
    if (!next || next.at > cutAt) break;
    events.shift();
    now = next.at;
    next.run();
  }
  now = cutAt;
  const [cut] = t.clear();
  return { heard: cut?.playedMs ?? deltas * 20, played: Math.min(cutAt, deltas * 20) };
}

test('barge-in accuracy: the heard position is within 40 ms of what was played, burst or real-time, echoes late or not', () => {
  for (const pacing of ['burst', 'realtime'] as const) {
    for (const echoMs of [0, 5, 15, 35]) {
      let worst = 0;
      for (let at = 100; at < 990; at += 7) {
        const { heard, played } = cutAt(at, { pacing, echoMs });
        assert.ok(heard <= played, `${pacing}, echo ${echoMs} ms, cut at ${at}: heard ${heard} > played ${played}`);
        worst = Math.max(worst, played - heard);
      }
      // From the marks alone it would be up to 40 ms plus the echo's delay; the clock since the last echo
      // leaves only the delay (and the whole millisecond).
      assert.ok(worst <= Math.min(40, echoMs + 1), `${pacing}, echo ${echoMs} ms: worst ${worst} ms`);
    }
  }
});

test('barge-in accuracy: a mark not yet echoed bounds the estimate, however long since the last echo (the carrier stalled)', () => {
  let now = 0;
  const t = new PlayoutTracker({ chunkMs: 40, markPrefix: 's1m', now: () => now });
  const marks = [];
  for (let i = 0; i < 10; i++) for (const c of t.push('i', audio(160), true)) if (c.mark) marks.push(c.mark);
  now = 40;
  t.onMark(marks[0]!);
  now = 5000;
  assert.deepEqual(t.clear(), [{ itemId: 'i', sentMs: 200, playedMs: 79 }]);
  // No echo yet: nothing is known to have played, whatever the clock says.
  const u = new PlayoutTracker({ chunkMs: 40, now: () => now });
  u.push('j', audio(1600), true);
  now = 9000;
  assert.deepEqual(u.clear(), [{ itemId: 'j', sentMs: 200, playedMs: 0 }]);
});
