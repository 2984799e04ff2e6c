/**
 * The own-added-latency arithmetic (docs/cascade.md#latency) and how a turn.latency event reads in the
 * CLI and the web UI's event log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownAddedMs, type TurnLatencyReport } from '../../src/voice/cascade/latency.js';
import { renderEvent } from '../../src/cli/render-event.js';
import { describeEvent } from '../../web/src/lib/call-events.js';

/** A reply prepared at the pause: STT and LLM inside the 500 ms silence, then the TTS. */
const speculative: TurnLatencyReport = {
  itemId: 'cuser_3',
  responseId: 'cresp_4',
  speculative: true,
  silenceMs: 500,
  marks: { speechEnd: 0, endOfTurn: 480, sttFinal: 160, llmFirstToken: 470, ttsFirstAudio: 640, carrierFirstAudio: 652 },
  stages: { stt: { start: 0, end: 160 }, llm: { start: 161, end: 475 }, tts: { start: 515, end: 640 } },
  totalMs: 652,
};

test('own added latency: the time no stage and no end-of-turn silence covers, overlaps counted once', () => {
  // Covered: [0, 500] (silence, STT and LLM inside it) and [515, 640] (TTS): 652 - 625.
  assert.equal(ownAddedMs(speculative), 27);
  // Against known delays from the same starts (STT 150, LLM 300, TTS 120): the TTS's extra 5 ms is ours too.
  assert.equal(ownAddedMs(speculative, { sttMs: 150, llmMs: 300, ttsMs: 120 }), 32);
});

test('own added latency: stages one after another after the end of turn, gaps between them are ours', () => {
  const serial: TurnLatencyReport = {
    ...speculative,
    speculative: false,
    silenceMs: 300,
    marks: { speechEnd: 0, endOfTurn: 290, sttFinal: 450, llmFirstToken: 760, ttsFirstAudio: 900, carrierFirstAudio: 903 },
    stages: { stt: { start: 292, end: 450 }, llm: { start: 455, end: 770 }, tts: { start: 771, end: 900 } },
    totalMs: 903,
  };
  // Covered: [0, 300] silence, [292, 450], [455, 770], [771, 900] -> gaps 450-455 and 770-771, plus 900-903.
  assert.equal(ownAddedMs(serial), 9);
  assert.equal(ownAddedMs({ ...serial, marks: { speechEnd: 0, endOfTurn: 290 } }), undefined, 'no audio sent: no total');
});

test('a turn.latency event reads as one line: hidden in the CLI unless verbose, in the web event log', () => {
  const ev = { seq: 9, at: '2026-12-05T20:00:00.000Z', type: 'turn.latency', data: { ...speculative, ownMs: 27 } } as any;
  assert.equal(renderEvent(ev), undefined);
  const line = renderEvent(ev, true)!.text;
  assert.match(line, /652 ms from the end of speech to the first audio sent \(own 27 ms; end of turn 480 ms, STT 160 ms, LLM first token 309 ms, TTS first audio 125 ms, prepared at the pause\)/);
  assert.equal(describeEvent(ev), line);
  const silent = { ...ev, data: { ...speculative, marks: { speechEnd: 0, endOfTurn: 480 }, stages: {}, totalMs: undefined } };
  assert.match(describeEvent(silent), /no audio sent/);
});
