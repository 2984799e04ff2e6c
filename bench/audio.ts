/**
 * Audio conversion benchmark: CPU per call-second and measured quality, for our FIR resamplers and for the
 * seed's naive methods (linear interpolation up, plain decimation down).
 *
 * CPU covers everything the bridge does per message on the hot path, on the real message shapes:
 * - caller -> Gemini: parse a Twilio `media` frame (160 mu-law bytes, base64), decode base64, mu-law ->
 *   PCM16 8 kHz -> 16 kHz, PCM16 LE bytes, base64, build a Gemini `realtimeInput` frame (640 bytes of audio);
 *   50 frames per call-second.
 * - Gemini -> caller: parse a `serverContent` frame (PCM16 24 kHz, base64), decode, 24 kHz -> 8 kHz,
 *   mu-law, cut into 160-byte frames, base64, build Twilio `media` frames; 50 frames out per call-second.
 *
 * `npm run bench` wires this in; it also runs alone: `node --import tsx bench/audio.ts`.
 */
import { pathToFileURL } from 'node:url';
import { mulawDecode, mulawEncode } from '../src/media/mulaw.js';
import {
  DOWNSAMPLE_TAPS,
  GeminiToTwilio,
  TwilioToGemini,
  UPSAMPLE_TAPS,
  Upsampler8kTo16k,
  Downsampler24kTo8k,
  decimate3,
  linearUpsample2x,
  pcm16FromBytesLE,
  pcm16ToBytesLE,
} from '../src/media/resample.js';
import { measureDownsampler, measureUpsampler, type Convert, type Quality } from '../src/media/resample-quality.js';

export interface AudioBenchOptions {
  /** Call-seconds per timed run (each row takes the best of three runs). */
  callSeconds?: number;
  /** Gemini audio chunk length; the Live API sends variable sizes, 40 ms is a typical middle. */
  geminiChunkMs?: number;
}

const STREAM_SID = 'MZ0123456789abcdef0123456789abcdef';
const CALL_SID = 'CA0123456789abcdef0123456789abcdef';

/** One second of speech-like audio: a voiced fundamental with harmonics, a formant sweep and some noise. */
function speechLike(rateHz: number): Int16Array {
  const out = new Int16Array(rateHz);
  let seed = 12345;
  for (let n = 0; n < rateHz; n++) {
    const t = n / rateHz;
    let v = 0;
    for (let h = 1; h <= 12; h++) v += (3000 / h) * Math.sin(2 * Math.PI * 140 * h * t + h);
    v += 2500 * Math.sin(2 * Math.PI * (600 + 2400 * t) * t);
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    v += 1500 * (seed / 2 ** 32 - 0.5);
    out[n] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

const b64 = (u8: Uint8Array): string => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('base64');

/** What Twilio sends us in one call-second: 50 `media` frames. */
function twilioInbound(): string[] {
  const mu = mulawEncode(speechLike(8000));
  const frames: string[] = [];
  for (let i = 0; i < 50; i++) {
    frames.push(
      JSON.stringify({
        event: 'media',
        sequenceNumber: String(i + 2),
        media: { track: 'inbound', chunk: String(i + 1), timestamp: String(i * 20), payload: b64(mu.subarray(i * 160, i * 160 + 160)) },
        streamSid: STREAM_SID,
      }),
    );
  }
  return frames;
}

/** What Gemini Live sends in one call-second of speech: `serverContent` frames of PCM16 24 kHz. */
function geminiInbound(chunkMs: number): string[] {
  const pcm = speechLike(24000);
  const per = (24000 * chunkMs) / 1000;
  const frames: string[] = [];
  for (let i = 0; i < pcm.length; i += per) {
    const data = b64(pcm16ToBytesLE(pcm.subarray(i, Math.min(pcm.length, i + per))));
    frames.push(JSON.stringify({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data } }] } } }));
  }
  return frames;
}

type Method = 'fir' | 'naive';

/** One call's caller->Gemini path: raw Twilio frame in, Gemini frame text out. */
function upPath(method: Method): (raw: string) => string {
  let convert: (mu: Uint8Array) => Int16Array;
  if (method === 'fir') {
    const t2g = new TwilioToGemini();
    convert = (mu) => t2g.push(mu);
  } else {
    // Same buffer reuse as TwilioToGemini, so the difference between the rows is the filtering.
    const state = { last: 0 };
    const pcm8k = new Int16Array(160);
    convert = (mu) => linearUpsample2x(mulawDecode(mu, pcm8k.length === mu.length ? pcm8k : undefined), state);
  }
  return (raw) => {
    const msg = JSON.parse(raw) as { event: string; media: { payload: string } };
    const pcm16k = convert(Buffer.from(msg.media.payload, 'base64'));
    // JSON.stringify rather than the project's template builders: a template string is a lazy rope whose
    // flattening would be billed to the socket write, so this is the honest upper bound.
    return JSON.stringify({ realtimeInput: { audio: { data: b64(pcm16ToBytesLE(pcm16k)), mimeType: 'audio/pcm;rate=16000' } } });
  };
}

/** One call's Gemini->caller path: raw Gemini frame in, Twilio media frames out (20 ms each). */
function downPath(method: Method): (raw: string, out: string[]) => void {
  let convert: (pcm: Int16Array) => Uint8Array;
  if (method === 'fir') {
    const g2t = new GeminiToTwilio();
    convert = (pcm) => g2t.push(pcm);
  } else {
    const state = { phase: 0, first: 0 };
    convert = (pcm) => {
      const pcm8k = decimate3(pcm, state);
      return mulawEncode(pcm8k, Buffer.allocUnsafe(pcm8k.length));
    };
  }
  const frame = new Uint8Array(160);
  let filled = 0;
  return (raw, out) => {
    const msg = JSON.parse(raw) as { serverContent?: { modelTurn?: { parts?: { inlineData?: { data?: string } }[] } } };
    for (const part of msg.serverContent?.modelTurn?.parts ?? []) {
      const data = part.inlineData?.data;
      if (data === undefined) continue;
      const mu = convert(pcm16FromBytesLE(Buffer.from(data, 'base64')));
      for (let i = 0; i < mu.length; ) {
        const n = Math.min(160 - filled, mu.length - i);
        frame.set(mu.subarray(i, i + n), filled);
        filled += n;
        i += n;
        if (filled === 160) {
          out.push(JSON.stringify({ event: 'media', streamSid: STREAM_SID, media: { payload: b64(frame) } }));
          filled = 0;
        }
      }
    }
  };
}

function cpuMicros(run: () => void): number {
  const t = process.cpuUsage();
  run();
  const d = process.cpuUsage(t);
  return d.user + d.system;
}

/** Best of three timed runs of `callSeconds`, after a warm-up, in CPU µs per call-second. */
function timeIt(callSeconds: number, oneCallSecond: () => void): number {
  for (let i = 0; i < Math.min(300, callSeconds); i++) oneCallSecond();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    best = Math.min(
      best,
      cpuMicros(() => {
        for (let i = 0; i < callSeconds; i++) oneCallSecond();
      }) / callSeconds,
    );
  }
  return best;
}

interface Row {
  direction: string;
  method: string;
  cpuUs: number;
  convertUs: number;
  q: Quality;
}

const fmt = (n: number, d: number, sign = false): string => (sign && n >= 0 ? '+' : '') + n.toFixed(d);

export async function runAudioBench(options: AudioBenchOptions = {}): Promise<void> {
  const callSeconds = options.callSeconds ?? 2000;
  const chunkMs = options.geminiChunkMs ?? 40;
  const twilio = twilioInbound();
  const gemini = geminiInbound(chunkMs);
  const mu8k = mulawEncode(speechLike(8000));
  const pcm24k = speechLike(24000);
  let sink = 0;

  const measureUp = (method: Method): number => {
    const path = upPath(method);
    return timeIt(callSeconds, () => {
      for (const raw of twilio) sink += path(raw).length;
    });
  };
  const measureDown = (method: Method): number => {
    const path = downPath(method);
    const out: string[] = [];
    return timeIt(callSeconds, () => {
      for (const raw of gemini) path(raw, out);
      sink += out.length;
      out.length = 0;
    });
  };
  // The conversion alone (mu-law codec included), in the same frame sizes, to show what the rest costs.
  const convertOnlyUp = (method: Method): number => {
    const t2g = new TwilioToGemini();
    const state = { last: 0 };
    const pcm8k = new Int16Array(160);
    return timeIt(callSeconds, () => {
      for (let i = 0; i < 8000; i += 160) {
        const mu = mu8k.subarray(i, i + 160);
        sink += method === 'fir' ? t2g.push(mu).length : linearUpsample2x(mulawDecode(mu, pcm8k), state).length;
      }
    });
  };
  const convertOnlyDown = (method: Method): number => {
    const g2t = new GeminiToTwilio();
    const state = { phase: 0, first: 0 };
    const per = (24000 * chunkMs) / 1000;
    return timeIt(callSeconds, () => {
      for (let i = 0; i < 24000; i += per) {
        const pcm = pcm24k.subarray(i, i + per);
        if (method === 'fir') sink += g2t.push(pcm).length;
        else {
          const pcm8k = decimate3(pcm, state);
          sink += mulawEncode(pcm8k, Buffer.allocUnsafe(pcm8k.length)).length;
        }
      }
    });
  };

  const firUp = (): Convert => {
    const u = new Upsampler8kTo16k();
    return (x) => u.process(x);
  };
  const firDown = (): Convert => {
    const d = new Downsampler24kTo8k();
    return (x) => d.process(x);
  };
  const naiveUp = (): Convert => {
    const state = { last: 0 };
    return (x) => linearUpsample2x(x, state);
  };
  const naiveDown = (): Convert => {
    const state = { phase: 0, first: 0 };
    return (x) => decimate3(x, state);
  };

  const rows: Row[] = [
    { direction: '8k -> 16k', method: `FIR half-band ${UPSAMPLE_TAPS.length}`, cpuUs: measureUp('fir'), convertUs: convertOnlyUp('fir'), q: measureUpsampler(firUp) },
    { direction: '8k -> 16k', method: 'naive linear interp', cpuUs: measureUp('naive'), convertUs: convertOnlyUp('naive'), q: measureUpsampler(naiveUp) },
    { direction: '24k -> 8k', method: `FIR low-pass ${DOWNSAMPLE_TAPS.length}`, cpuUs: measureDown('fir'), convertUs: convertOnlyDown('fir'), q: measureDownsampler(firDown) },
    { direction: '24k -> 8k', method: 'naive decimation', cpuUs: measureDown('naive'), convertUs: convertOnlyDown('naive'), q: measureDownsampler(naiveDown) },
  ];

  console.log(
    `\nAudio conversion, Twilio mu-law 8 kHz <-> Gemini PCM16 (16 kHz in, 24 kHz out); CPU is the best of 3 runs of ${callSeconds} call-seconds,`,
  );
  console.log(`including JSON.parse/JSON.stringify and base64 (Twilio 20 ms frames in and out, Gemini ${chunkMs} ms chunks in, 20 ms out)`);
  console.log('direction   method                 CPU µs/call-s  (convert only)  passband 300-3400 Hz    worst image/alias        delay ms');
  for (const r of rows) {
    const pb = `${fmt(r.q.minGainDb, 3, true)}..${fmt(r.q.maxGainDb, 3, true)} dB`;
    const sb = `${fmt(r.q.worstStopband.db, 1)} dB @ ${r.q.worstStopband.freqHz} Hz`;
    console.log(
      `${r.direction.padEnd(11)} ${r.method.padEnd(22)} ${fmt(r.cpuUs, 1).padStart(13)}  ${('(' + fmt(r.convertUs, 1) + ')').padStart(14)}  ${pb.padEnd(22)}  ${sb.padEnd(23)}  ${fmt(r.q.delayMs, 3).padStart(8)}`,
    );
  }
  const both = (m: number): number => rows[m].cpuUs + rows[m + 2].cpuUs;
  console.log(`both directions, FIR:   ${fmt(both(0), 1)} µs CPU per call-second (bar: 1000 µs)`);
  console.log(`both directions, naive: ${fmt(both(1), 1)} µs CPU per call-second`);
  console.log(
    'bars: passband within +-0.5 dB; up: power above 4 kHz <= -60 dB re tones 100-3400 Hz; down: tones 4.75-12 kHz <= -60 dB re 1 kHz; delay <= 5 ms',
  );
  if (sink === 0) console.log(CALL_SID); // keeps the work observable so it can't be optimised away
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runAudioBench();
}
