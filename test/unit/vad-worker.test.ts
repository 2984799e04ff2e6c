/**
 * The VAD worker (src/media/vad-worker/): every call's Silero runs in one worker thread. What a caller of
 * the detector sees: each frame heard once, in order, with the same changes on the same frames as the
 * same detector run in this thread; barge-in verdicts on the same frames; no detector built on this
 * thread; and a worker that dies leaves the calls on it hearing by energy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInThreadDetector, createVoiceActivityDetector, vadWorker } from '../../src/media/vad-factory.js';
import { sileroBuilds } from '../../src/media/silero-vad.js';
import type { VoiceActivityDetector } from '../../src/media/voice-activity.js';
import { BargeInListener, type Cut } from '../../src/bridge/barge-in-listener.js';
import { DEFAULT_BARGE_IN } from '../../src/bridge/barge-in.js';
import { mulawDecode } from '../../src/media/mulaw.js';
import { BACKCHANNELS, SPEECH_CLIPS, clip } from '../sim/twilio/clips.js';
import { noisePcm } from '../sim/twilio/line-noise.js';
import { concatPcm as concat } from '../sim/pcm.js';

const FRAME = 160;

/** A call's caller audio: silence, words, a pause, a backchannel, hum, silence (gated and ungated frames). */
function callAudio(): Int16Array {
  const silence = (ms: number) => new Int16Array(ms * 8);
  return concat(
    silence(600),
    mulawDecode(clip(`speech-${SPEECH_CLIPS[0]}`)),
    silence(700),
    mulawDecode(clip(`backchannel-${BACKCHANNELS[0]}`)),
    noisePcm('hum', 1500),
    mulawDecode(clip(`speech-${SPEECH_CLIPS[1]}`)),
    silence(1000),
  );
}

/** Pushes every frame through one reused buffer; returns [frame, change] once all are heard. */
async function changes(vad: VoiceActivityDetector, pcm: Int16Array): Promise<Array<[number, string]>> {
  const out: Array<[number, string]> = [];
  const buf = new Int16Array(FRAME);
  let next = 0;
  for (let f = 0; (f + 1) * FRAME <= pcm.length; f++) {
    buf.set(pcm.subarray(f * FRAME, (f + 1) * FRAME));
    vad.pushFrame(buf, (c, speaking) => {
      assert.equal(f, next++, 'heard in frame order');
      if (c) out.push([f, c]);
      assert.equal(speaking, vad.speaking);
    });
  }
  await vad.drain();
  assert.equal(next, Math.floor(pcm.length / FRAME), 'every frame heard');
  vad.close();
  return out;
}

test('VAD worker: the same changes on the same frames as Silero in this thread, and no build on this thread', async () => {
  vadWorker().start();
  const builtHere = sileroBuilds();
  const pcm = callAudio();
  const inWorker = await changes(createVoiceActivityDetector('silero'), pcm);
  const builtAfter = sileroBuilds();
  assert.deepEqual(inWorker, await changes(createInThreadDetector('silero'), pcm));
  assert.ok(inWorker.length >= 4, JSON.stringify(inWorker));
  assert.equal(builtAfter, builtHere, 'no Silero detector was built on the main thread');
  // Ungated (floor -100 turns the pre-gate off) every frame crosses: still the same frames.
  assert.deepEqual(await changes(createVoiceActivityDetector('silero', { floorDbfs: -100 }), pcm), await changes(createInThreadDetector('silero', { floorDbfs: -100 }), pcm));
});

test('VAD worker: frames of calls pushed in the same turn are each heard by their own detector', async () => {
  const a = createVoiceActivityDetector('silero');
  const b = createVoiceActivityDetector('silero');
  const speech = mulawDecode(clip(`speech-${SPEECH_CLIPS[0]}`));
  const heardA: string[] = [];
  const heardB: string[] = [];
  for (let f = 0; (f + 1) * FRAME <= speech.length; f++) {
    a.pushFrame(speech.subarray(f * FRAME, (f + 1) * FRAME), (c) => c && heardA.push(c));
    b.pushFrame(new Int16Array(FRAME), (c) => c && heardB.push(c));
  }
  await Promise.all([a.drain(), b.drain()]);
  assert.equal(heardA[0], 'started');
  assert.deepEqual(heardB, [], 'the silent call heard nothing');
  a.close();
  b.close();
});

/** Feeds a barge-in listener the audio with the agent talking throughout; returns the frames it cut at. */
async function cutsAt(vad: VoiceActivityDetector, pcm: Int16Array): Promise<Array<[number, Cut]>> {
  const cuts: Array<[number, Cut]> = [];
  // Counts the frames the detector has heard: a verdict comes while its frame is being heard.
  let heard = -1;
  const counted: VoiceActivityDetector = {
    get speaking() {
      return vad.speaking;
    },
    get onsetMs() {
      return vad.onsetMs;
    },
    pushFrame: (pcm8k, then) => vad.pushFrame(pcm8k, (c, speaking) => (heard++, then(c, speaking))),
    drain: () => vad.drain(),
    close: () => vad.close(),
  };
  const ears = new BargeInListener({ ...DEFAULT_BARGE_IN, vad: counted, carriedOn: () => undefined, cut: (c) => cuts.push([heard, c]) });
  const buf = new Int16Array(FRAME);
  for (let f = 0; (f + 1) * FRAME <= pcm.length; f++) {
    buf.set(pcm.subarray(f * FRAME, (f + 1) * FRAME));
    ears.hear(buf, true);
    // Sometimes wait for the worker, sometimes not: batches of one frame and of several.
    if (f % 7 === 0) await ears.drain();
  }
  await ears.drain();
  ears.close();
  return cuts;
}

test('barge-in through the worker: the agent is cut for the same speech length as with Silero in this thread', async () => {
  const pcm = concat(new Int16Array(4000), mulawDecode(clip(`speech-${SPEECH_CLIPS[0]}`)), new Int16Array(8000));
  const inWorker = await cutsAt(createVoiceActivityDetector('silero'), pcm);
  const inThread = await cutsAt(createInThreadDetector('silero'), pcm);
  assert.ok(inThread.length > 0, 'the speech cut the agent');
  assert.deepEqual(inWorker, inThread, 'the same verdicts at the same frames');
});

test('VAD worker: a worker that dies leaves its calls hearing by energy, and the next call gets a new worker', async () => {
  const lost: string[] = [];
  const vad = createVoiceActivityDetector('silero', { onLost: (r) => lost.push(r) });
  const speech = mulawDecode(clip(`speech-${SPEECH_CLIPS[0]}`));
  // Frames in flight when the worker dies are heard (as silence), none is left unanswered.
  let heard = 0;
  for (let f = 0; f < 10; f++) vad.pushFrame(speech.subarray(f * FRAME, (f + 1) * FRAME), () => heard++);
  await vadWorker().terminate();
  await vad.drain();
  assert.equal(heard, 10);
  assert.equal(lost.length, 1, 'told once');
  assert.match(lost[0], /VAD worker exited/);
  // Loud audio after it: the energy detector's verdict (3 loud frames start it), heard at once.
  const loud = new Int16Array(FRAME).fill(6000);
  const after: string[] = [];
  for (let f = 0; f < 5; f++) vad.pushFrame(loud, (c) => c && after.push(`${f}:${c}`));
  assert.deepEqual(after, ['2:started']);
  assert.equal(vad.onsetMs, 60, "the energy detector's onset");
  vad.close();
  // A new call starts a new worker and hears by Silero again.
  const next = await changes(createVoiceActivityDetector('silero'), callAudio());
  assert.deepEqual(next, await changes(createInThreadDetector('silero'), callAudio()));
});

test('VAD worker: calls opened and talking in the same turns share one model, each heard as by its own detector', async () => {
  // Each call gets the call audio from a different point, so in any batch some calls complete a window and
  // some do not, and a restart (the pre-gate closing) falls between windows of other calls.
  const audio = callAudio();
  const calls = Array.from({ length: 12 }, (_, i) => concat(audio.subarray(i * 1_360), audio.subarray(0, i * 1_360)));
  const vads = calls.map(() => createVoiceActivityDetector('silero'));
  const heard: Array<Array<[number, string]>> = calls.map(() => []);
  const frames = Math.floor(audio.length / FRAME);
  let late: VoiceActivityDetector | undefined;
  const lateHeard: Array<[number, string]> = [];
  for (let f = 0; f < frames; f++) {
    calls.forEach((pcm, i) => vads[i]!.pushFrame(pcm.subarray(f * FRAME, (f + 1) * FRAME), (c) => c && heard[i]!.push([f, c])));
    // A call that starts while the others stream: opening it builds nothing, its first batch is theirs.
    if (f === 100) late = createVoiceActivityDetector('silero');
    if (late) late.pushFrame(audio.subarray((f - 100) * FRAME, (f - 99) * FRAME), (c) => c && lateHeard.push([f - 100, c]));
    if (f % 5 === 0) await Promise.all(vads.map((v) => v.drain()));
  }
  await Promise.all([...vads, late!].map((v) => v.drain()));
  for (let i = 0; i < calls.length; i++) {
    assert.deepEqual(heard[i], await changes(createInThreadDetector('silero'), calls[i]!.subarray(0, frames * FRAME)), `call ${i}`);
  }
  assert.ok(heard.every((h) => h.length >= 4));
  assert.deepEqual(lateHeard, await changes(createInThreadDetector('silero'), audio.subarray(0, (frames - 100) * FRAME)), 'the call opened mid-stream');
  for (const v of [...vads, late!]) v.close();
});
