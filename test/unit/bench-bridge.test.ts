// The bridge bench's measuring parts (bench/bridge): the timestamp tag must survive any cut of the audio
// into messages, be found exactly once, be refused when damaged, and be silence to the product's own
// barge-in detectors; the phase and loss accounting must count what it says it counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_AGE_US, monoUs, TagScanner, TAG_BYTES, writeTag, type Tag } from '../../bench/bridge/tag.js';
import { direction, Phases } from '../../bench/bridge/analyze.js';
import { FrameReceiver } from '../../bench/bridge/frame-log.js';
import type { CallTimes } from '../../bench/bridge/carrier-call.js';
import { HOLD_MUSIC_FLOOR_DBFS, LineNoise } from '../../bench/bridge/line-noise.js';
import { mulawDecode } from '../../src/media/mulaw.js';
import { SileroPreGate } from '../../src/media/silero-pre-gate.js';
import { SoundClassifier } from '../../src/media/sound-classifier.js';
import { VAD_FLOOR_DBFS_DEFAULT } from '../../src/media/silero-vad.js';
import { createInThreadDetector } from '../../src/media/vad-factory.js';

const frame = (call: number, seq: number, at = 0, t = monoUs()) => {
  const f = Buffer.alloc(160, 0xff);
  writeTag(f, call, seq, at, t);
  return f;
};

function scanAll(parts: Buffer[], nowUs?: number): Tag[] {
  const s = new TagScanner();
  const out: Tag[] = [];
  for (const p of parts) s.scan(p, (t) => out.push(t), nowUs);
  return out;
}

test('a tag reads back its call, frame number and send time', () => {
  const t = monoUs();
  const [tag] = scanAll([frame(123_456, 987_654, 0, t)], t + 2500);
  assert.equal(tag.call, 123_456);
  assert.equal(tag.seq, 987_654);
  assert.ok(Math.abs(tag.sentUs - t) <= 1, `sent ${tag.sentUs} vs ${t}`);
});

test('a tag cut across two messages at any point is found once; merged frames give one tag each', () => {
  const f = frame(7, 42, 30);
  for (let cut = 1; cut < f.length; cut++) {
    const tags = scanAll([f.subarray(0, cut), f.subarray(cut)]);
    assert.equal(tags.length, 1, `cut at ${cut}`);
    assert.equal(tags[0].seq, 42);
  }
  const merged = scanAll([Buffer.concat([frame(1, 1), frame(1, 2), frame(1, 3)])]);
  assert.deepEqual(merged.map((t) => t.seq), [1, 2, 3]);
});

test('a tag that reads as older than any bench frame (a misread the check let through) is refused', () => {
  const t = monoUs();
  assert.equal(scanAll([frame(1, 1, 0, t)], t + MAX_AGE_US - 1).length, 1);
  assert.equal(scanAll([frame(1, 1, 0, t)], t + MAX_AGE_US + 1e6).length, 0);
});

test('a damaged tag is refused', () => {
  for (let i = 3; i < TAG_BYTES; i++) {
    const f = frame(5, 9);
    f[i] = 0x00; // a loud code: not a tag symbol
    assert.equal(scanAll([f]).length, 0, `byte ${i}`);
    const g = frame(5, 9);
    g[i] ^= 0x01; // another tag symbol: the check symbol catches it
    assert.equal(scanAll([g]).length, 0, `flipped byte ${i}`);
  }
});

test('tagged caller audio is silence to the barge-in detectors (energy and Silero)', () => {
  const pcm = mulawDecode(frame(3, 1));
  assert.ok(Math.max(...pcm.map(Math.abs)) <= 124, 'quietest mu-law codes only');
  for (const kind of ['energy', 'silero'] as const) {
    const vad = createInThreadDetector(kind);
    try {
      for (let i = 1; i <= 250; i++) assert.equal(vad.pushPcm(mulawDecode(frame(3, i))), undefined, `${kind} heard speech at frame ${i}`);
      assert.equal(vad.speaking, false);
    } finally {
      vad.close();
    }
  }
});

const noisy = (noise: LineNoise, call: number, seq: number, t = monoUs()) => {
  const f = frame(call, seq, 0, t);
  noise.fill(f, call, seq);
  return f;
};
const dbfs = (pcm: Int16Array) => 10 * Math.log10(pcm.reduce((a, s) => a + s * s, 0) / pcm.length / 32768 ** 2);

test('line noise: every frame at the level asked, its tag read back exactly, a damaged one still refused', () => {
  // The tag's own samples differ frame to frame (its time field is the clock's): at -50 dBFS they move the
  // level by up to a third of a dB (0.33 dB the worst of 258,000 frames at random times; a bar of 0.3 failed
  // once in a fresh-clone run).
  for (const [level, tolerance] of [[-50, 0.4], [-35, 0.1], [-25, 0.1]]) {
    const noise = new LineNoise(level);
    const t = monoUs();
    for (let seq = 1; seq <= 600; seq++) {
      const f = noisy(noise, 11, seq, t);
      assert.ok(Math.abs(dbfs(mulawDecode(f)) - level) < tolerance, `${level} dBFS asked, frame ${seq} at ${dbfs(mulawDecode(f)).toFixed(2)}`);
      const tags = scanAll([f], t + 1000);
      assert.equal(tags.length, 1, `frame ${seq} at ${level} dBFS`);
      assert.deepEqual([tags[0].call, tags[0].seq], [11, seq]);
      assert.ok(Math.abs(tags[0].sentUs - t) <= 1);
    }
  }
  const noise = new LineNoise(-35);
  // A stream of noisy frames cut anywhere (a bridge that re-cuts messages): every tag once, in order.
  const stream = Buffer.concat([...Array(50)].map((_, i) => noisy(noise, 2, i + 1)));
  for (const size of [1, 7, 100, 333]) {
    const parts = [...Array(Math.ceil(stream.length / size))].map((_, i) => stream.subarray(i * size, (i + 1) * size));
    assert.deepEqual(scanAll(parts).map((x) => x.seq), [...Array(50)].map((_, i) => i + 1), `cut every ${size} bytes`);
  }
  for (let i = 3; i < TAG_BYTES; i++) {
    const g = noisy(noise, 5, 9);
    g[i] ^= 0x01;
    assert.equal(scanAll([g]).length, 0, `flipped byte ${i}`);
  }
  assert.throws(() => new LineNoise(-10), /--line-noise must be a level in dBFS/);
  assert.throws(() => new LineNoise(Number.NaN), /--line-noise/);
});

test('line noise at -43 dBFS passes Silero\'s fixed floor until the pre-gate learns the line, is no speech to either detector, and no hold music', () => {
  const noise = new LineNoise(-43);
  const gate = new SileroPreGate(VAD_FLOOR_DBFS_DEFAULT);
  const silentGate = new SileroPreGate(VAD_FLOOR_DBFS_DEFAULT);
  const hold = new SoundClassifier();
  const verdicts: string[] = [];
  for (let seq = 1; seq <= 500; seq++) {
    const pcm = mulawDecode(noisy(noise, 4, seq));
    verdicts.push(gate.frame(pcm));
    // The first second crosses (the fixed floor is under the noise); the last 5 s of the 10 never do.
    if (seq <= 50) assert.equal(verdicts.at(-1), 'feed', `frame ${seq}`);
    if (seq > 250) assert.equal(verdicts.at(-1), 'gated', `frame ${seq}`);
    assert.equal(hold.push(pcm), 'silence', `the hold detector heard sound at frame ${seq}`);
    assert.equal(silentGate.frame(mulawDecode(frame(4, seq))), 'gated', 'the silent callee never crosses');
  }
  for (const kind of ['energy', 'silero'] as const) {
    const vad = createInThreadDetector(kind);
    try {
      // 20 s of one call's line, through the whole bank and round again.
      for (let seq = 1; seq <= 1000; seq++) assert.equal(vad.pushPcm(mulawDecode(noisy(noise, 4, seq))), undefined, `${kind} heard speech at frame ${seq}`);
      assert.equal(vad.speaking, false);
    } finally {
      vad.close();
    }
  }
});

test('line noise above the hold detector\'s floor is hold music to the product (why the bench warns at -35 dBFS)', () => {
  assert.ok(HOLD_MUSIC_FLOOR_DBFS > -43 && HOLD_MUSIC_FLOOR_DBFS < -40, String(HOLD_MUSIC_FLOOR_DBFS));
  const noise = new LineNoise(-35);
  const hold = new SoundClassifier();
  const heard = [...Array(100)].map((_, i) => hold.push(mulawDecode(noisy(noise, 4, i + 1))));
  assert.equal(heard[10], 'speech', 'provisionally, until a whole second of sound');
  assert.equal(heard[99], 'music');
  // Hold, not barge-in: Silero hears no speech in it at this level either.
  const vad = createInThreadDetector('silero');
  try {
    for (let seq = 1; seq <= 1000; seq++) assert.equal(vad.pushPcm(mulawDecode(noisy(noise, 4, seq))), undefined, `Silero heard speech at frame ${seq}`);
  } finally {
    vad.close();
  }
});

const call = (c: number, postUs: number, streamingUs: number, hangupUs: number, endDoneUs: number): CallTimes => ({ call: c, postUs, streamingUs, hangupUs, endDoneUs, endedByServer: false, clears: 0, marksEchoed: 0 });

test('phases: set-up and tear-down windows are start and end (plus the tail), the rest steady', () => {
  const p = new Phases([call(0, 0, 1e6, 10e6, 10.2e6), call(1, 5e6, 6e6, 20e6, 20.1e6)], new Map([[0, 10.3e6]]));
  assert.equal(p.of(0.5e6), 'start');
  assert.equal(p.of(3e6), 'steady');
  assert.equal(p.of(5.5e6), 'start');
  assert.equal(p.of(10.5e6), 'end'); // model socket closed at 10.3 s, + 500 ms tail
  assert.equal(p.of(10.9e6), 'steady');
  assert.equal(p.of(9e6, 10.1e6), 'end');
});

test('frames lost at the end: the calls, whether the bridge ended them, and how long before the hang-up they were sent', () => {
  const recv = new FrameReceiver();
  const t0 = monoUs() - 10e6;
  // Frames 1..100 every 20 ms; nothing after frame 80 arrived; the carrier hung up at 2.4 s (due until 1.9 s: frame 96).
  for (let seq = 1; seq <= 80; seq++) recv.take({ call: 4, seq, sentUs: t0 + (seq - 1) * 20_000 });
  const phases = new Phases([call(4, t0 - 1e6, t0 - 0.5e6, t0 + 3e6, t0 + 3.1e6)], new Map());
  const sent = { calls: new Map([[4, { firstSendUs: t0, lastSeq: 100 }]]), dueUs: (): [number, number] => [t0, t0 + 1.9e6] };
  const byBridge = direction(recv.report(), { ...sent, end: () => ({ byBridge: true, hangupUs: t0 + 2.4e6 }) }, phases);
  assert.equal(byBridge.lostAtEnd, 16);
  assert.equal(byBridge.lostAtEndCalls, 1);
  assert.equal(byBridge.lostAtEndCallsEndedByBridge, 1);
  assert.equal(Math.round(byBridge.lostAtEndMaxBeforeHangupMs), 2400 - 80 * 20, 'frame 81, sent at 1.6 s');
  const byCallee = direction(recv.report(), { ...sent, end: () => ({ byBridge: false, hangupUs: t0 + 2.4e6 }) }, phases);
  assert.equal(byCallee.lostAtEndCallsEndedByBridge, 0);
});

test('frames lost are counted only inside the window where they must arrive', () => {
  const recv = new FrameReceiver();
  const t0 = monoUs() - 10e6;
  // Frames 1..100 sent every 20 ms from t0; 3 (before the path existed), 50 and 51 (lost), 99 (after the hang-up grace) missing.
  for (let seq = 1; seq <= 100; seq++) if (![3, 50, 51, 99].includes(seq)) recv.take({ call: 4, seq, sentUs: t0 + (seq - 1) * 20_000 });
  const phases = new Phases([call(4, t0 - 1e6, t0 - 0.5e6, t0 + 3e6, t0 + 3.1e6)], new Map());
  const f = direction(recv.report(), { calls: new Map([[4, { firstSendUs: t0, lastSeq: 100 }]]), dueUs: () => [t0 + 0.1e6, t0 + 1.9e6] }, phases);
  assert.equal(f.lost, 2);
  assert.equal(f.lostAtEnd, 0);
  assert.equal(f.due, 96 - 6 + 1); // frames 6 (first sent at or after 0.1 s) to 96 (the last sent by 1.9 s)
  assert.equal(f.all.n, 96);
  assert.equal(f.callsWithoutAudio, 0);
  const none = direction(new FrameReceiver().report(), { calls: new Map([[4, { firstSendUs: t0, lastSeq: 100 }]]), dueUs: () => [t0, t0 + 1e6] }, phases);
  assert.equal(none.callsWithoutAudio, 1);
});

test('a run is disturbed when other processes took a fifth of a core, or saturated the machine', async () => {
  const { judgeMachine } = await import('../../bench/bridge/machine.js');
  const s = (busyCores: number, ours: number) => ({ atUs: 0, busyCores, procCores: { bridge: ours }, othersCores: busyCores - ours });
  assert.equal(judgeMachine([s(1.0, 0.95), s(1.1, 1.0)], 2).disturbed, false);
  const noisy = judgeMachine([s(1.5, 1.0), s(1.4, 1.0)], 2);
  assert.equal(noisy.disturbed, true);
  assert.match(noisy.reason!, /other processes used 45% of a core/);
  // Mostly quiet, but one second where a neighbour filled the machine.
  assert.equal(judgeMachine([...Array(20)].map(() => s(1.0, 1.0)).concat([s(2.0, 1.2)]), 2).disturbed, true);
  // Saturated by the bench itself: not disturbed (the report says saturated instead).
  const own = judgeMachine([s(1.98, 1.95), s(1.99, 1.96)], 2);
  assert.equal(own.disturbed, false);
  assert.equal(own.saturatedShare, 1);
});

test('find-max: doubles until a step fails, bisects to within 10%, and reports every step it ran', async () => {
  const { findLargest, describeFindMax } = await import('../../bench/bridge/find-max.js');
  // A bridge whose p99 rises with N and crosses 20 ms at 137 calls.
  const run = async (calls: number) => ({ calls, pass: calls <= 137, p99: calls * 0.146, disturbed: false });
  const r = await findLargest(50, run);
  assert.deepEqual(r.steps.slice(0, 3).map((s) => [s.calls, s.pass]), [[50, true], [100, true], [200, false]]);
  assert.ok(r.largest <= 137 && r.largest >= 137 * 0.9 - 5, `largest ${r.largest}`);
  // Every step after the doubling lies between the last pass and the first failure.
  for (const s of r.steps.slice(3)) assert.ok(s.calls > 100 && s.calls < 200);
  assert.match(describeFindMax('baseline', r, 20), new RegExp(`^baseline: largest N with p99 under 20 ms each way and nothing lost: ${r.largest} \\(p99 at N=50: 7\\.3 ms, 100: 14\\.6 ms, 200: 29\\.2 ms \\(fail\\)`));
  // Failing at the first step: none pass.
  assert.equal((await findLargest(50, async (calls) => ({ calls, pass: false, p99: 99, disturbed: true }))).largest, 0);
  // Passing everywhere stops at the cap instead of running forever.
  const all = await findLargest(50, async (calls) => ({ calls, pass: true, p99: 1, disturbed: false }), 400);
  assert.deepEqual([all.largest, all.steps.map((s) => s.calls)], [400, [50, 100, 200, 400]]);
  await assert.rejects(findLargest(0, run), /start must be at least 1 call/);
});
