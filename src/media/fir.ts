/**
 * FIR design helpers for the telephony resamplers: Kaiser-windowed sinc low-pass filters, designed once at
 * module load. Kaiser is used rather than an equiripple (Remez) design because its closed form is short,
 * deterministic and easy to check, and because at these lengths the extra taps it needs are cheap.
 */

/** Modified Bessel function of the first kind, order 0; the power series converges fast for beta < 20. */
export function besselI0(x: number): number {
  const q = (x * x) / 4;
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 100; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

export function kaiserWindow(length: number, beta: number): Float64Array {
  const w = new Float64Array(length);
  const half = (length - 1) / 2;
  const norm = besselI0(beta);
  for (let n = 0; n < length; n++) {
    const r = half === 0 ? 0 : (n - half) / half;
    w[n] = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / norm;
  }
  return w;
}

/**
 * Linear-phase low-pass: sinc at `cutoffHz` (the -6 dB point) times a Kaiser window, scaled to `dcGain`.
 * Odd `length` keeps the centre on a sample, so the group delay is a whole number of samples.
 * Exact symmetry is enforced (the two halves are computed once) so folded and direct convolutions agree.
 */
export function kaiserLowpass(length: number, cutoffHz: number, rateHz: number, beta: number, dcGain = 1): Float64Array {
  if (length % 2 !== 1) throw new RangeError('kaiserLowpass wants an odd length');
  const h = new Float64Array(length);
  const w = kaiserWindow(length, beta);
  const centre = (length - 1) / 2;
  const fc = cutoffHz / rateHz;
  for (let n = 0; n <= centre; n++) {
    const t = n - centre;
    const s = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    h[n] = h[length - 1 - n] = s * w[n];
  }
  let sum = 0;
  for (let n = 0; n < length; n++) sum += h[n];
  for (let n = 0; n < length; n++) h[n] *= dcGain / sum;
  return h;
}

/**
 * Half-band interpolation filter for x2 upsampling at `rateHz` (the output rate): cutoff at rateHz/4.
 * Every second tap away from the centre is exactly zero (forced, not left as ~1e-17 sin residue), so one
 * polyphase branch is a pure delay; that branch and the other are each scaled to unity DC gain, so DC in
 * gives no 8 kHz ripple out.
 */
export function kaiserHalfBand(length: number, beta: number): Float64Array {
  if (length % 4 !== 3) throw new RangeError('kaiserHalfBand wants length 4k+3 (centre tap on the delay branch)');
  const h = kaiserLowpass(length, 0.25, 1, beta, 1);
  const centre = (length - 1) / 2;
  let odd = 0;
  for (let n = 0; n < length; n++) {
    if (n === centre) continue;
    if ((n - centre) % 2 === 0) h[n] = 0;
    else odd += h[n];
  }
  for (let n = 0; n < length; n++) h[n] = n === centre ? 1 : h[n] / odd;
  return h;
}

/** |H(f)| of a real FIR at frequency `hz` for sample rate `rateHz`. */
export function firMagnitude(taps: ArrayLike<number>, hz: number, rateHz: number): number {
  const w = (2 * Math.PI * hz) / rateHz;
  let re = 0;
  let im = 0;
  for (let n = 0; n < taps.length; n++) {
    re += taps[n] * Math.cos(w * n);
    im -= taps[n] * Math.sin(w * n);
  }
  return Math.hypot(re, im);
}
