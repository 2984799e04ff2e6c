import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentSpeech } from '../../src/bridge/agent-speech.js';
import { PlayoutTracker } from '../../src/media/playout-tracker.js';
import { AudioChunk } from '../../src/media/audio-chunk.js';
import type { MediaTransport } from '../../src/telephony/carrier.js';

const delta = () => AudioChunk.fromBytes(new Uint8Array(160)); // 20 ms of mu-law

function setup() {
  const sends: string[] = [];
  const transport: MediaTransport = {
    streamId: 'MZ1',
    sendAudio: (_a, mark) => {
      sends.push('media');
      if (mark) sends.push(`mark ${mark}`);
    },
    sendMark: (mark) => sends.push(`mark ${mark}`),
    clear: () => sends.push('clear'),
    close: () => undefined,
  };
  const tracker = new PlayoutTracker({ chunkMs: 40, markPrefix: 's1m' });
  const records: Array<{ type: string; data: Record<string, unknown> }> = [];
  const speech = new AgentSpeech({
    engine: { deleteItem: () => undefined, interrupt: () => undefined, truncate: () => undefined, capabilities: { truncation: true } } as never,
    audio: { toEngine: (a: AudioChunk) => a, toCarrier: (a: AudioChunk) => a },
    dtmf: { onCut: () => undefined, onPlayoutChanged: () => undefined } as never,
    record: (type, data) => records.push({ type, data }),
    transport: () => transport,
    tracker: () => tracker,
  });
  return { sends, tracker, speech, records };
}

test('a second of agent audio in 20 ms deltas: 50 media messages and 25 marks (not 50); the last mark goes when the words are complete; the line is written once all of it was heard', () => {
  const { sends, tracker, speech, records } = setup();
  for (let i = 0; i < 50; i++) speech.play({ type: 'agent.audio', responseId: 'r1', itemId: 'i1', audio: delta() });
  assert.equal(sends.filter((s) => s === 'media').length, 50);
  const marks = sends.filter((s) => s.startsWith('mark')).map((s) => s.slice(5));
  assert.equal(marks.length, 25, 'ws sends for marks per second of audio');
  for (const m of marks.slice(0, -1)) speech.played(tracker.onMark(m)!);
  speech.transcript({ type: 'agent.transcript', responseId: 'r1', itemId: 'i1', text: 'Hello there.', audioMs: 1000 });
  assert.equal(records.length, 0, 'not written before all of it was heard');
  assert.equal(sends.filter((s) => s.startsWith('mark')).length, 25, 'no tail mark: the last delta carried one');
  speech.played(tracker.onMark(marks.at(-1)!)!);
  assert.equal(tracker.state('i1')!.playedMs, 1000);
  assert.equal(tracker.hasPending, false);
  assert.equal(records.at(-1)?.type, 'transcript');
});

test('an odd delta at the end of a turn gets its mark on its own once no more audio comes', async () => {
  const s2 = setup();
  for (let i = 0; i < 3; i++) s2.speech.play({ type: 'agent.audio', responseId: 'r1', itemId: 'i1', audio: delta() });
  assert.deepEqual(s2.sends, ['media', 'media', 'mark s1m2', 'media']);
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(s2.sends, ['media', 'media', 'mark s1m2', 'media', 'mark s1m3']);
  s2.tracker.onMark('s1m3');
  assert.equal(s2.tracker.hasPending, false);
});
