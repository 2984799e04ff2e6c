import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audioPathFor } from '../../src/bridge/audio-path.js';
import { AudioChunk } from '../../src/media/audio-chunk.js';
import { TwilioToGemini, GeminiToTwilio, pcm16FromBytesLE, pcm16ToBytesLE } from '../../src/media/resample.js';
import { mulawEncode, mulawDecode } from '../../src/media/mulaw.js';
import type { EngineCapabilities } from '../../src/voice/engine.js';

const caps = (pcm: boolean): EngineCapabilities => ({
  truncation: !pcm,
  serverTurnDetection: true,
  autoReplyAfterTool: pcm,
  detectsSpeechDuringPlayback: !pcm,
  cancelsInterruptedToolCalls: pcm,
  hearsBeforeAutoRespond: !pcm,
  inputFormat: pcm ? { encoding: 'pcm16', sampleRate: 16000 } : { encoding: 'pcmu', sampleRate: 8000 },
  outputFormat: pcm ? { encoding: 'pcm16', sampleRate: 24000 } : { encoding: 'pcmu', sampleRate: 8000 },
});

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 2 - 1;
/** A tone plus deterministic noise, so no two frames are alike. */
const tone = (n: number, hz: number, rate: number, phase = 0) => Int16Array.from({ length: n }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * hz * (i + phase)) / rate) + 2000 * rand()));

test('the mu-law engine path passes audio through untouched', () => {
  const path = audioPathFor(caps(false));
  const a = AudioChunk.fromBase64(Buffer.alloc(160, 0x55).toString('base64'));
  let heard: Int16Array | undefined;
  assert.equal(path.toEngine(a, (p) => (heard = p)), a);
  assert.equal(path.toCarrier(a), a);
  assert.deepEqual([...heard!], [...mulawDecode(new Uint8Array(160).fill(0x55))]);
});

test('the transcoding path matches the reference converters frame after frame, reusing its buffers safely', () => {
  const path = audioPathFor(caps(true));
  const refUp = new TwilioToGemini();
  const refDown = new GeminiToTwilio();
  const toEngine: AudioChunk[] = [];
  const toCarrier: AudioChunk[] = [];
  const snapshot: string[] = [];
  for (let f = 0; f < 20; f++) {
    const mulaw = mulawEncode(tone(160, 440, 8000, f * 160));
    const out = path.toEngine(AudioChunk.fromBase64(Buffer.from(mulaw).toString('base64')));
    toEngine.push(out);
    snapshot.push(Buffer.from(out.bytes).toString('hex'));
    assert.equal(out.base64, Buffer.from(pcm16ToBytesLE(refUp.push(mulaw))).toString('base64'), `frame ${f} to engine`);
    const pcm24 = pcm16ToBytesLE(tone(960, 700, 24000, f * 960));
    const back = path.toCarrier(AudioChunk.fromBase64(Buffer.from(pcm24).toString('base64')));
    toCarrier.push(back);
    assert.equal(back.base64, Buffer.from(refDown.push(pcm16FromBytesLE(pcm24))).toString('base64'), `frame ${f} to carrier`);
    assert.equal(back.length, 320);
  }
  // Scratch buffers are reused frame after frame; results handed out earlier must not change.
  assert.deepEqual(toEngine.map((c) => Buffer.from(c.bytes).toString('hex')), snapshot);
  assert.equal(new Set(toCarrier.map((c) => c.base64)).size, toCarrier.length);
});
