/**
 * Barge-in on speech, not noise: over real calls through the server and the simulators (both engines,
 * generating in real time while the callee makes a sound over the agent's greeting), how often line
 * noise and backchannels cut the agent (false interruptions) and how often real speech does (true
 * interruptions), with how far into the speech the cut came. Also the per-frame CPU cost of the VADs,
 * which run on every frame of every live call. See docs/barge-in.md.
 *
 * "Engine VAD fired": the engine simulator's own (energy) detector took the sound for speech; before
 * this change that alone cut the agent (and so did 60 ms of energy in the bridge's own detector).
 */
import { startStack, type Engine } from '../test/sim/stack.js';
import type { CalleeStep } from '../test/sim/twilio/index.js';
import { NOISE_KINDS, noisePcm } from '../test/sim/twilio/line-noise.js';
import { BACKCHANNELS, CLIP_TEXT, SHORT_SPEECH_CLIPS, SPEECH_CLIPS, clip } from '../test/sim/twilio/clips.js';
import { mulawDecode } from '../src/media/mulaw.js';
import { createInThreadDetector } from '../src/media/vad-factory.js';
import type { VadKind } from '../src/media/voice-activity.js';
import { summarize } from './stats.js';

const LONG =
  "Hi, I'm an AI assistant calling on behalf of Raju Kumar. I'd like to place an order for pickup this evening, one chicken biryani, mild, with an extra raita on the side, and I can confirm the pickup time once we are done.";
const AFTER_MS = 800;

interface Case {
  group: 'noise' | 'backchannel' | 'speech';
  name: string;
  step: CalleeStep;
  transcript: string;
}

const CASES: Case[] = [
  ...NOISE_KINDS.map((kind): Case => ({ group: 'noise', name: kind, step: { noise: kind, durationMs: 2000 }, transcript: '' })),
  ...BACKCHANNELS.map((word): Case => ({ group: 'backchannel', name: word, step: { backchannel: word }, transcript: CLIP_TEXT[`backchannel-${word}`] })),
  ...[...SPEECH_CLIPS, ...SHORT_SPEECH_CLIPS].map((name): Case => ({ group: 'speech', name, step: { speech: name }, transcript: CLIP_TEXT[`speech-${name}`] })),
];

export interface BargeInResult {
  engine: Engine;
  vad: VadKind;
  rows: Array<{ group: Case['group']; name: string; cut: boolean; reactionMs?: number; engineVadFired: boolean }>;
}

export async function runBargeInBench(o: { engine: Engine; vad: VadKind }): Promise<BargeInResult> {
  let n = 0;
  let m = 0;
  const stack = await startStack({
    engine: o.engine,
    pacing: 'realtime',
    msPerChar: 20,
    env: { VAD_SILENCE_MS: '300', MAX_CALLS_PER_DAY: '0', BARGE_IN_VAD: o.vad },
    script: () => {
      const c = CASES[n++ % CASES.length];
      return { answeredBy: 'human', steps: [{ say: 'Hello?' }, { waitAgentPlayedMs: AFTER_MS }, c.step, { pauseMs: 1500 }, { hangup: true }] };
    },
    conversation: () => {
      const c = CASES[m++ % CASES.length];
      return { turns: [{ say: LONG }, { say: 'Sure, go ahead.' }], userTranscripts: ['Hello?', c.transcript] };
    },
  });
  const rows: BargeInResult['rows'] = [];
  try {
    // One call at a time: the simulators pair each call's script with its conversation by order.
    for (const [i, c] of CASES.entries()) {
      const id = await stack.placeCall();
      await stack.waitForEnd(id, 30_000);
      const clears = stack.twilio.calls[i].streams[0]?.clears ?? [];
      const engineVadFired =
        o.engine === 'openai'
          ? stack.openai.sessions[i].sent.filter((e) => e.type === 'input_audio_buffer.speech_started').length >= 2
          : stack.gemini.sessions[i].userTurns.length >= 2;
      rows.push({ group: c.group, name: c.name, cut: clears.length > 0, reactionMs: clears[0] ? clears[0].segmentPlayedMs - AFTER_MS : undefined, engineVadFired });
    }
  } finally {
    await stack.close();
  }
  return { engine: o.engine, vad: o.vad, rows };
}

/** Prints the figures; returns whether Silero met the bar (no false interruption, every speech clip cut). */
export function printBargeIn(r: BargeInResult): boolean {
  const of = (g: Case['group']) => r.rows.filter((x) => x.group === g);
  const cuts = (g: Case['group']) => of(g).filter((x) => x.cut);
  const fired = (g: Case['group']) => of(g).filter((x) => x.engineVadFired).length;
  const reaction = summarize(cuts('speech').map((x) => x.reactionMs ?? NaN));
  const pass = cuts('noise').length === 0 && cuts('backchannel').length === 0 && cuts('speech').length === of('speech').length;
  const list = (g: Case['group']) => cuts(g).map((x) => x.name).join(', ');
  console.log(
    `\nbarge-in [${r.engine}, ${r.vad} VAD]: agent greeting generated in real time, a sound ${AFTER_MS} ms into it\n` +
      `  false interruptions, line noise:  ${cuts('noise').length}/${of('noise').length}${list('noise') ? ` (${list('noise')})` : ''}   engine VAD fired on ${fired('noise')}/${of('noise').length}\n` +
      `  false interruptions, backchannel: ${cuts('backchannel').length}/${of('backchannel').length}${list('backchannel') ? ` (${list('backchannel')})` : ''}   engine VAD fired on ${fired('backchannel')}/${of('backchannel').length}\n` +
      `  true interruptions, speech:       ${cuts('speech').length}/${of('speech').length}, cut after p50 ${reaction.p50} ms / max ${reaction.max} ms of speech` +
      (r.vad === 'silero' ? ` ${pass ? 'PASS' : 'FAIL'}` : ''),
  );
  return r.vad !== 'silero' || pass;
}

/** CPU per 20 ms caller frame of each VAD, over a minute of speech, noise and silence. */
export function runVadCost(): void {
  const parts: Int16Array[] = [];
  for (const name of SPEECH_CLIPS) parts.push(mulawDecode(clip(`speech-${name}`)));
  for (const kind of NOISE_KINDS) parts.push(noisePcm(kind, 3000));
  parts.push(new Int16Array(8000 * 5));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const one = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    one.set(p, at);
    at += p.length;
  }
  console.log('\nVAD cost per 20 ms caller frame (one core; the budget is 20 000 µs per call):');
  for (const kind of ['silero', 'energy'] as VadKind[]) {
    const vad = createInThreadDetector(kind);
    const frames = Math.floor(one.length / 160);
    const times: number[] = [];
    // About a minute of audio, several times over; the first pass warms up.
    for (let pass = 0; pass < 4; pass++) {
      for (let f = 0; f < frames; f++) {
        const t0 = process.hrtime.bigint();
        vad.pushPcm(one.subarray(f * 160, f * 160 + 160));
        if (pass > 0) times.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }
    vad.close();
    const s = summarize(times);
    console.log(
      `  ${kind.padEnd(6)}: mean ${s.mean.toFixed(1)} µs, p50 ${s.p50.toFixed(1)} µs, p99 ${s.p99.toFixed(1)} µs, max ${s.max.toFixed(0)} µs over ${s.n} frames` +
        ` (${((s.mean / 20_000) * 100).toFixed(2)}% of a core per call)`,
    );
  }
}
