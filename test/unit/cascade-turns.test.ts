/**
 * The cascade's end of turn (Silero's speech changes turned into turns, silence counted in audio time)
 * with a scripted detector and with the real Silero on the simulated callee's voice; and the per-stage
 * prices the registry adds to the price table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SileroTurnDetector } from '../../src/voice/cascade/vad/silero-turns.js';
import type { VoiceActivityDetector } from '../../src/media/voice-activity.js';
import { withCascadePrices } from '../../src/voice/cascade/index.js';
import { DEFAULT_PRICES, unitPrice } from '../../src/records/pricing.js';
import { parseSettings } from '../../src/config/settings.js';
import { speechPcm } from '../sim/twilio/callee-audio.js';

/**
 * A detector that says what it is told, frame by frame, and answers a frame only once the next macrotask
 * runs (as the VAD worker does): the events must still come on the frames they belong to.
 */
function scripted(states: boolean[]): VoiceActivityDetector {
  let last: Promise<void> = Promise.resolve();
  const d = {
    speaking: false,
    onsetMs: 0,
    pushFrame: (_pcm: Int16Array, heard: (c: 'started' | 'stopped' | undefined, speaking: boolean) => void) => {
      const now = states.shift() ?? false;
      last = new Promise<void>((resolve) =>
        setImmediate(() => {
          const change = now === d.speaking ? undefined : now ? ('started' as const) : ('stopped' as const);
          d.speaking = now;
          heard(change, now);
          resolve();
        }),
      );
    },
    drain: () => last,
    close: () => undefined,
  };
  return d;
}

const FRAME = new Int16Array(160);

test('turns: started, paused, resumed within the silence, and ended only after VAD_SILENCE_MS of audio', async () => {
  // 5 frames of speech, 10 silent (200 ms < 300), 5 of speech, then silence.
  const det = new SileroTurnDetector({ silenceMs: 300, vad: scripted([...Array(5).fill(true), ...Array(10).fill(false), ...Array(5).fill(true)]) });
  const events: Array<[number, string]> = [];
  for (let i = 0; i < 40; i++) det.hear(FRAME, (e) => e && events.push([i, e]));
  assert.deepEqual(events, [], 'nothing is heard before the detector answers');
  await det.drain();
  // Paused at frame 5; 15 silent frames (300 ms) after the second pause at frame 20 end the turn at frame 34.
  assert.deepEqual(events, [
    [0, 'speechStarted'],
    [5, 'speechPaused'],
    [15, 'speechResumed'],
    [20, 'speechPaused'],
    [34, 'turnEnded'],
  ]);
});

test('turns: the real Silero (in the VAD worker) hears the simulated callee say a sentence as one turn', async () => {
  const det = new SileroTurnDetector({ silenceMs: 500 });
  const pcm = speechPcm('Sure, what would you like to order today?');
  const all = new Int16Array(pcm.length + 8000 * 1.5);
  all.set(pcm, 4000);
  const events: string[] = [];
  for (let i = 0; i + 160 <= all.length; i += 160) det.hear(all.subarray(i, i + 160), (e) => e && events.push(e));
  await det.drain();
  det.close();
  assert.equal(events[0], 'speechStarted');
  assert.equal(events.at(-1), 'turnEnded');
  assert.equal(events.filter((e) => e === 'turnEnded').length, 1);
});

test('prices: local stages at 0 (priced, not unknown), hosted ones from the settings, PRICES_FILE entries win', () => {
  const s = parseSettings({ LLM_MODEL: 'gpt-x', LLM_PRICE_INPUT_PER_MTOK: '0.5', LLM_PRICE_OUTPUT_PER_MTOK: '2', STT_MODEL: 'whisper-x', TTS_MODEL: 'kokoro' });
  const t = withCascadePrices(DEFAULT_PRICES, s);
  assert.equal(unitPrice(t, 'llm', 'gpt-x', 'text_input'), 0.5e-6);
  assert.equal(unitPrice(t, 'llm', 'gpt-x', 'text_output'), 2e-6);
  assert.equal(unitPrice(t, 'stt', 'whisper-x', 'audio_seconds'), 0);
  assert.equal(unitPrice(t, 'tts', 'kokoro', 'characters'), 0);
  const own = withCascadePrices({ ...DEFAULT_PRICES, models: { ...DEFAULT_PRICES.models, 'llm:gpt-x': { text_input: 9, text_output: 9 } } }, s);
  assert.equal(unitPrice(own, 'llm', 'gpt-x', 'text_input'), 9e-6);
  assert.equal(unitPrice(t, 'openai', 'gpt-realtime-2.1', 'audio_input'), DEFAULT_PRICES.models['openai:gpt-realtime-2.1'].audio_input / 1e6);
});
