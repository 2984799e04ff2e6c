import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { mergeSession, defaultSession } from './config.js';
import { InputAudioBuffer } from './input-buffer.js';
import { concat, loud, silence } from './test-client.js';

const TD = { silenceDurationMs: 200, prefixPaddingMs: 300, createResponse: true, interruptResponse: true };

function run(audio: Uint8Array, chunkSizes: number[]) {
  const buf = new InputAudioBuffer({ rmsThreshold: 600, minSpeechMs: 60 });
  const events: string[] = [];
  let offset = 0;
  let i = 0;
  while (offset < audio.length) {
    const n = chunkSizes[i++ % chunkSizes.length];
    for (const ev of buf.append(audio.subarray(offset, offset + n), TD)) {
      events.push(ev.kind === 'speech_started' ? `start@${ev.onsetMs}` : `stop@${ev.endMs}`);
    }
    offset += n;
  }
  return events;
}

test('VAD timestamps: onset of the speech run and end of the silence run, in ms of appended audio', () => {
  const audio = concat(silence(400), loud(1000), silence(300), loud(40), silence(100), loud(500), silence(200));
  assert.deepEqual(run(audio, [160]), ['start@400', 'stop@1600', 'start@1840', 'stop@2540']);
});

test('VAD ignores bursts shorter than the minimum speech duration', () => {
  assert.deepEqual(run(concat(loud(40), silence(500), loud(40)), [160]), []);
});

test('VAD results do not depend on how the audio is chunked into appends', () => {
  const segment = fc.record({ speech: fc.boolean(), ms: fc.integer({ min: 1, max: 40 }).map((n) => n * 20) });
  fc.assert(
    fc.property(fc.array(segment, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 2000 }), { minLength: 1, maxLength: 5 }), (segs, chunks) => {
      const audio = concat(...segs.map((s) => (s.speech ? loud(s.ms) : silence(s.ms))));
      const reference = run(audio, [160]);
      assert.deepEqual(run(audio, chunks), reference);
      // Transitions alternate and start with speech.
      reference.forEach((e, i) => assert.ok(e.startsWith(i % 2 === 0 ? 'start' : 'stop')));
    }),
    { numRuns: 150, seed: 42 },
  );
});

test('turn_detection: same type merges, switching type starts from that type\'s defaults, null disables', () => {
  const base = defaultSession('sess_x', 'gpt-realtime', 0);
  const a = mergeSession(base, { type: 'realtime', audio: { input: { turn_detection: { type: 'server_vad', silence_duration_ms: 500 } } } });
  assert.equal(a.audio?.input?.turn_detection?.type, 'server_vad');
  assert.deepEqual({ ...a.audio?.input?.turn_detection }, { ...base.audio?.input?.turn_detection, silence_duration_ms: 500 });
  const b = mergeSession(a, { type: 'realtime', audio: { input: { turn_detection: { type: 'semantic_vad', eagerness: 'high' } } } });
  assert.deepEqual(b.audio?.input?.turn_detection, { type: 'semantic_vad', eagerness: 'high', create_response: true, interrupt_response: true });
  const c = mergeSession(b, { type: 'realtime', audio: { input: { turn_detection: null } } });
  assert.equal(c.audio?.input?.turn_detection, null);
  assert.equal(base.audio?.input?.turn_detection?.type, 'server_vad', 'merge does not mutate its input');
});
