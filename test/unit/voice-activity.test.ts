import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVoiceActivityDetector } from '../../src/media/vad-factory.js';
import type { VoiceActivityDetector } from '../../src/media/voice-activity.js';
import { mulawDecode } from '../../src/media/mulaw.js';
import { noisePcm, NOISE_KINDS } from '../sim/twilio/line-noise.js';
import { BACKCHANNELS, SPEECH_CLIPS, clip } from '../sim/twilio/clips.js';
import { speechPcm } from '../sim/twilio/callee-audio.js';

/**
 * Feeds 20 ms frames then a second of silence, through one reused buffer as the bridge does; returns ms
 * heard as speech and the changes seen, once every frame has been heard (Silero answers from its worker).
 */
async function listen(vad: VoiceActivityDetector, pcm: Int16Array): Promise<{ speechMs: number; changes: string[] }> {
  let speechMs = 0;
  const changes: string[] = [];
  const all = new Int16Array(pcm.length + 8000);
  all.set(pcm);
  const frame = new Int16Array(160);
  let next = 0;
  for (let i = 0; i + 160 <= all.length; i += 160) {
    frame.set(all.subarray(i, i + 160));
    const at = i;
    vad.pushFrame(frame, (c, speaking) => {
      assert.equal(at, next, 'frames are heard in order');
      next += 160;
      if (c) changes.push(c);
      if (speaking && at < pcm.length) speechMs += 20;
    });
  }
  await vad.drain();
  assert.equal(next, Math.floor(all.length / 160) * 160, 'every frame heard');
  vad.close();
  return { speechMs, changes };
}

test('Silero: line noise is not speech; the energy detector it replaces took most of it for speech', async () => {
  let energyMs = 0;
  for (const kind of NOISE_KINDS) {
    const pcm = noisePcm(kind, 3000);
    assert.equal((await listen(createVoiceActivityDetector('silero'), pcm)).speechMs, 0, kind);
    energyMs += (await listen(createVoiceActivityDetector('energy'), pcm)).speechMs;
  }
  assert.ok(energyMs > 3 * 2500, `energy VAD heard ${energyMs} ms of speech in the noise`);
});

test('Silero: recorded speech is speech (all but the pauses between words), then stops', async () => {
  for (const name of SPEECH_CLIPS) {
    const pcm = mulawDecode(clip(`speech-${name}`));
    const { speechMs, changes } = await listen(createVoiceActivityDetector('silero'), pcm);
    assert.ok(speechMs >= 0.7 * (pcm.length / 8), `${name}: ${speechMs} of ${pcm.length / 8} ms`);
    assert.equal(changes.at(0), 'started');
    assert.equal(changes.at(-1), 'stopped');
  }
});

test('Silero: backchannels are short speech; the simulated callee\'s voice is speech throughout', async () => {
  for (const word of BACKCHANNELS) {
    const { speechMs } = await listen(createVoiceActivityDetector('silero'), mulawDecode(clip(`backchannel-${word}`)));
    assert.ok(speechMs > 0 && speechMs < 700, `${word}: ${speechMs} ms`);
  }
  const pcm = speechPcm('Sorry, who is this?', 1500);
  assert.ok((await listen(createVoiceActivityDetector('silero'), pcm)).speechMs >= 1300);
});

test('Silero: onsetMs covers the speech heard before it says started', async () => {
  const vad = createVoiceActivityDetector('silero');
  assert.ok(vad.onsetMs > 0 && vad.onsetMs <= 150, String(vad.onsetMs));
  vad.close();
  let heard = false;
  vad.pushFrame(new Int16Array(160).fill(8000), () => (heard = true));
  await vad.drain();
  assert.equal(heard, false, 'a closed detector hears nothing');
});
