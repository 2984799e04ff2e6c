/**
 * G.711 mu-law codec (ITU-T G.711, bit-exact with the ITU G.191 reference and Python's audioop).
 * Both directions are table driven: a 256-entry decode table and a 65,536-entry encode table, built once,
 * so a sample costs one array read on the hot path.
 */

const BIAS = 0x84;

/**
 * G.711 works on 14-bit linear samples: a 16-bit sample is first reduced by an arithmetic shift (as the
 * ITU's G.191 reference code and Python's audioop do), then biased by 33 and split into segment and
 * mantissa. Matching that shift matters: a version that takes the magnitude of the 16-bit value first
 * differs by one code for some negative inputs.
 */
function encodeSampleSlow(sample: number): number {
  const s14 = (sample | 0) >> 2;
  const sign = s14 < 0 ? 0x80 : 0;
  let mag = s14 < 0 ? -s14 : s14;
  // G.191 clips at 8159; 8159 + 33 overflows segment 7 and encodes as its top code, as 8158 + 33 does.
  if (mag > 8158) mag = 8158;
  mag += 33;
  const exponent = Math.min(7, 31 - Math.clz32(mag) - 5);
  const mantissa = (mag >> (exponent + 1)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function decodeSampleSlow(code: number): number {
  const u = ~code & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  return sign ? -magnitude : magnitude;
}

const DECODE = new Int16Array(256);
for (let i = 0; i < 256; i++) DECODE[i] = decodeSampleSlow(i);

const ENCODE = new Uint8Array(65536);
for (let i = 0; i < 65536; i++) ENCODE[i] = encodeSampleSlow(i < 32768 ? i : i - 65536);

/** The mu-law code for silence (decodes to 0). */
export const MULAW_SILENCE = 0xff;

export function mulawDecodeSample(code: number): number {
  return DECODE[code & 0xff];
}

export function mulawEncodeSample(sample: number): number {
  return ENCODE[sample & 0xffff];
}

/** Decodes mu-law bytes to 16-bit PCM samples. */
export function mulawDecode(input: Uint8Array, out: Int16Array = new Int16Array(input.length)): Int16Array {
  for (let i = 0; i < input.length; i++) out[i] = DECODE[input[i]];
  return out;
}

/** Encodes 16-bit PCM samples to mu-law bytes. */
export function mulawEncode(input: Int16Array, out: Uint8Array = new Uint8Array(input.length)): Uint8Array {
  for (let i = 0; i < input.length; i++) out[i] = ENCODE[input[i] & 0xffff];
  return out;
}
