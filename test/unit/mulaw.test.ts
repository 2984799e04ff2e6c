import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulawDecode, mulawDecodeSample, mulawEncode, mulawEncodeSample, MULAW_SILENCE } from '../../src/media/mulaw.js';

// Independent reference: ITU-T G.191 style segment search (seg_end table), written separately from
// the implementation under test so that a shared mistake is unlikely.
const SEG_END = [0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0x7fff];
function refEncode(pcm: number): number {
  let v = pcm >> 2; // G.191 works on 14-bit magnitudes
  let mask: number;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  } else mask = 0xff;
  if (v > 8159) v = 8159;
  v += 0x84 >> 2;
  let seg = 0;
  while (seg < 8 && v > SEG_END[seg] >> 2) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0xf)) ^ mask;
}
function refDecode(u: number): number {
  u = ~u & 0xff;
  let t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

test('decodes all 256 codes exactly as G.711', () => {
  for (let c = 0; c < 256; c++) assert.equal(mulawDecodeSample(c), refDecode(c), `code ${c}`);
});

test('encodes all 65,536 16-bit inputs exactly as G.711', () => {
  for (let s = -32768; s <= 32767; s++) {
    const got = mulawEncodeSample(s);
    if (got !== refEncode(s)) assert.fail(`sample ${s}: got ${got}, want ${refEncode(s)}`);
  }
});

test('round trip of every code is the identity (except negative zero)', () => {
  for (let c = 0; c < 256; c++) {
    const back = mulawEncodeSample(mulawDecodeSample(c));
    // 0x7f (-0) decodes to 0, which encodes as 0xff (+0).
    assert.equal(back, c === 0x7f ? 0xff : c);
  }
  assert.equal(mulawDecodeSample(MULAW_SILENCE), 0);
});

test('buffer helpers match the per-sample functions', () => {
  const pcm = Int16Array.from({ length: 1000 }, (_, i) => Math.round(20000 * Math.sin(i / 7)));
  const enc = mulawEncode(pcm);
  const dec = mulawDecode(enc);
  for (let i = 0; i < pcm.length; i++) {
    assert.equal(enc[i], mulawEncodeSample(pcm[i]));
    assert.equal(dec[i], mulawDecodeSample(enc[i]));
  }
});
