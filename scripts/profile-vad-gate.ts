/**
 * CPU of the barge-in VAD path (src/media/silero-vad.ts: upsample + Silero) per call-second, with and
 * without the energy pre-gate, on a 60 s callee track that is mostly line noise with some speech: the
 * recorded clips (test/fixtures/audio) at their recorded level, between them hiss at -65 dBFS RMS (a quiet
 * line; the default floor is -45). CPU is this process's user+system time over the whole track, best of
 * a few rounds, so run it on an idle machine if the numbers are to be compared with others.
 *
 *   node --import tsx scripts/profile-vad-gate.ts [ROUNDS]
 */
import { SileroVad, VAD_FLOOR_DBFS_DEFAULT } from '../src/media/silero-vad.js';
import { mulawDecode } from '../src/media/mulaw.js';
import { BACKCHANNELS, SHORT_SPEECH_CLIPS, SPEECH_CLIPS, clip } from '../test/sim/twilio/clips.js';

const SECONDS = 60;
const rounds = Number(process.argv[2] ?? 5);

function track(): { pcm: Int16Array; speechMs: number } {
  const pcm = new Int16Array(SECONDS * 8000);
  let s = 11;
  const rms = 32768 * 10 ** (-65 / 20);
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5;
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round((rnd() + rnd() + rnd()) * 2 * rms);
  const names = [...SPEECH_CLIPS.map((n) => `speech-${n}` as const), ...SHORT_SPEECH_CLIPS.map((n) => `speech-${n}` as const), ...BACKCHANNELS.map((b) => `backchannel-${b}` as const)];
  let at = 2 * 8000;
  let speechMs = 0;
  // One clip every ~5.5 s: a callee who mostly listens, as on an agent-led call.
  for (const name of names) {
    const words = mulawDecode(clip(name));
    if (at + words.length > pcm.length) break;
    pcm.set(words, at);
    speechMs += words.length / 8;
    at += words.length + 5.5 * 8000;
  }
  return { pcm, speechMs };
}

function measure(pcm: Int16Array, floorDbfs: number | undefined): { cpuMs: number; fedShare: number } {
  let best = Infinity;
  let fed = 0;
  for (let r = 0; r < rounds; r++) {
    const vad = new SileroVad({ floorDbfs });
    const t0 = process.cpuUsage();
    for (let i = 0; i + 160 <= pcm.length; i += 160) vad.pushPcm(pcm.subarray(i, i + 160));
    const t = process.cpuUsage(t0);
    best = Math.min(best, (t.user + t.system) / 1000);
    fed = vad.samplesFed;
    vad.close();
  }
  return { cpuMs: best, fedShare: fed / (pcm.length * 2) };
}

const { pcm, speechMs } = track();
console.log(`track: ${SECONDS} s, ${(speechMs / 1000).toFixed(1)} s of recorded speech, the rest hiss at -65 dBFS`);
measure(pcm, undefined); // warm-up: model load, JIT
for (const [label, floor] of [['ungated', undefined], [`gated (${VAD_FLOOR_DBFS_DEFAULT} dBFS)`, VAD_FLOOR_DBFS_DEFAULT]] as const) {
  const { cpuMs, fedShare } = measure(pcm, floor);
  console.log(`${label.padEnd(22)} ${(cpuMs / SECONDS).toFixed(3)} ms CPU per call-second; audio fed to Silero ${(fedShare * 100).toFixed(1)}%`);
}
