/**
 * Hosts one protocol simulator (Twilio or OpenAI Realtime) on its own thread for the soak run, so the
 * simulators' work (callee audio, VAD, playout clocks) does not share one event loop. Answers
 * `report` with a summary per finished call and frees what it no longer needs, so a long run stays flat,
 * and `health` with how well its event loop keeps up.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { startTwilioSim, type SimCall } from '../test/sim/twilio/index.js';
import { startOpenAIRealtimeSim, type RealtimeScenario } from '../test/sim/openai-realtime/index.js';
import { indexOfInstructions, indexOfNumber, scenarioOf, scriptOf } from './soak-plan.js';
import { monitorLoop, type LoopHealth } from './loop-health.js';
import type { EncodeDone, EncodeJob } from './soak-mp3.js';

export interface TwilioCallSummary {
  index: number;
  url: string;
  status: string;
  hangupBy: string | null;
  calleeFrames: number;
  agentBytes: number;
}
export interface AiSessionSummary {
  index: number;
  appends: number;
  agentBytes: number;
  /** The provider drop planned for this call happened (a response was cut by the socket going away). */
  dropped: boolean;
  /** Responses the AI started, and those it finished (a cancelled one is said only as far as it was heard). */
  responses: number;
  completedResponses: number;
  /** Transcripts the simulator sent: what the callee said (input transcription) and what the AI said. */
  calleeTranscripts: number;
  agentTranscripts: number;
}

/** The Twilio thread's MP3 encodings (on their own thread), since the previous health sample. */
export interface Mp3Health {
  encodes: number;
  encodeTotalMs: number;
  encodeMaxMs: number;
  /** Longest time from a download's request to its MP3 being ready (queueing included). */
  waitMaxMs: number;
}
export type SimHealth = LoopHealth & { mp3?: Mp3Health };

const { kind, accountSid, authToken, apiKey, pauseMs } = workerData as { kind: 'twilio' | 'openai'; accountSid: string; authToken: string; apiKey: string; pauseMs: number };
const port = parentPort!;
const FREE_AFTER_MS = 20_000;
/** A recording the server never downloaded is deleted this long after its call ended. */
const RECORDING_KEPT_MS = 180_000;
const loop = monitorLoop();

/** MP3s are encoded on a thread of their own, so the simulator's REST API and media never wait for lamejs. */
function mp3Encoder(): { encode: (left: Uint8Array, right: Uint8Array, channels: 1 | 2) => Promise<Uint8Array>; health: () => Mp3Health; pending: () => number } {
  const worker = new Worker(new URL('./soak-mp3.mjs', import.meta.url));
  worker.unref();
  const waiting = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void; at: number }>();
  let next = 0;
  let h: Mp3Health = { encodes: 0, encodeTotalMs: 0, encodeMaxMs: 0, waitMaxMs: 0 };
  worker.on('message', (m: EncodeDone) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    h.encodes++;
    h.encodeTotalMs += m.encodeMs;
    h.encodeMaxMs = Math.max(h.encodeMaxMs, m.encodeMs);
    h.waitMaxMs = Math.max(h.waitMaxMs, performance.now() - w.at);
    if (m.mp3) w.resolve(m.mp3);
    else w.reject(new Error(`mp3 encoder: ${m.error}`));
  });
  worker.on('error', (e) => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  });
  return {
    encode: (left, right, channels) =>
      new Promise((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject, at: performance.now() });
        worker.postMessage({ id, left, right, channels } satisfies EncodeJob);
      }),
    pending: () => waiting.size,
    health: () => {
      const out = h;
      h = { encodes: 0, encodeTotalMs: 0, encodeMaxMs: 0, waitMaxMs: 0 };
      return out;
    },
  };
}

/**
 * One MP3 per recording length (whole seconds, channels), encoded from the first call of that length and
 * served for every later one. A carrier encodes recordings on its own machines; encoding 7 calls' audio a
 * second here took ~1.8 of this 2-core machine's cores away from the server under test, so recordings came
 * minutes late and the run measured the simulator instead of the product. The server still downloads a
 * file of each call's true length and size; what is in it is checked by the e2e tests, not here.
 */
function sameLengthMp3s(encode: (left: Uint8Array, right: Uint8Array, channels: 1 | 2) => Promise<Uint8Array>) {
  const byLength = new Map<string, Promise<Uint8Array>>();
  return (left: Uint8Array, right: Uint8Array, channels: 1 | 2): Promise<Uint8Array> => {
    const key = `${channels}:${Math.round(Math.max(left.length, right.length) / 8000)}`;
    let mp3 = byLength.get(key);
    if (!mp3) {
      mp3 = encode(left, right, channels);
      byLength.set(key, mp3);
      // A failed encoding is not kept: the next call of that length encodes again.
      mp3.catch(() => byLength.get(key) === mp3 && byLength.delete(key));
    }
    return mp3;
  };
}

if (kind === 'twilio') {
  const auth = 'Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64');
  let simUrl = '';
  // As the product would: a recording is deleted at the carrier once it has been downloaded.
  const deleteRecording = (sid: string) =>
    void fetch(`${simUrl}/2010-04-01/Accounts/${accountSid}/Recordings/${sid}.json`, { method: 'DELETE', headers: { Authorization: auth } }).catch(() => undefined);
  const downloaded = new Set<string>();
  const encoder = mp3Encoder();
  const mp3s = sameLengthMp3s(encoder.encode);
  const sim = await startTwilioSim({
    accountSid,
    authToken,
    script: (p) => scriptOf(indexOfNumber(p.To ?? ''), pauseMs),
    idleHangupMs: 120_000,
    encodeMp3: mp3s,
    onRecordingDownloaded: (sid) => {
      downloaded.add(sid);
      deleteRecording(sid);
    },
  });
  simUrl = sim.url;
  const endedAt = new Map<SimCall, number>();
  const reported = new Set<SimCall>();
  const FINAL = ['completed', 'busy', 'failed', 'no-answer', 'canceled'];
  setInterval(() => {
    for (const c of sim.calls) if (!endedAt.has(c) && FINAL.includes(c.status)) endedAt.set(c, Date.now());
  }, 250).unref();
  port.postMessage({ url: sim.url });
  port.on('message', async (m: { cmd: string; n?: number }) => {
    if (m.cmd === 'failRecordings') return sim.failRecordings(m.n ?? 1);
    if (m.cmd === 'health') return port.postMessage({ ...loop.sample(), mp3: encoder.health() } satisfies SimHealth);
    if (m.cmd === 'mp3Pending') return port.postMessage(encoder.pending());
    if (m.cmd === 'report') {
      const out: TwilioCallSummary[] = [];
      const now = Date.now();
      for (const c of sim.calls) {
        const at = endedAt.get(c);
        if (at === undefined) continue;
        // A recording the server never fetched would otherwise be kept for the rest of the run.
        if (c.recordingSid && !downloaded.has(c.recordingSid) && now - at >= RECORDING_KEPT_MS) {
          downloaded.add(c.recordingSid);
          deleteRecording(c.recordingSid);
        }
        // Summarize once the call's last webhooks are long delivered, then free what it logged.
        if (reported.has(c) || now - at < FREE_AFTER_MS) continue;
        reported.add(c);
        const stream = c.streams[0];
        out.push({ index: indexOfNumber(c.params.To ?? ''), url: c.params.Url ?? '', status: c.status, hangupBy: c.hangupBy, calleeFrames: stream?.sent.media ?? 0, agentBytes: c.agentAudioBytesReceived });
        c.log.length = 0;
        for (const s of c.streams) (s.marksEchoed.length = 0), (s.invalid.length = 0), (s.clears.length = 0);
      }
      return port.postMessage(out);
    }
    if (m.cmd === 'close') {
      await sim.close();
      port.postMessage('closed');
    }
  });
} else {
  const scenarios: RealtimeScenario[] = [];
  const sim = await startOpenAIRealtimeSim({
    apiKey,
    scenario: (i) => {
      // The call's plan is known once its instructions arrive; the simulator reads the scenario lazily.
      const s: RealtimeScenario = { ...scenarioOf(-1) };
      scenarios[i] = s;
      return s;
    },
  });
  const planned = new Set<number>();
  const closedAt = new Map<number, number>();
  const reported = new Set<number>();
  setInterval(() => {
    for (const [i, session] of sim.sessions.entries()) {
      if (planned.has(i)) continue;
      const update = session.received.find((e) => e.type === 'session.update') as { session?: { instructions?: string } } | undefined;
      if (!update?.session?.instructions) continue;
      planned.add(i);
      Object.assign(scenarios[i], scenarioOf(indexOfInstructions(update.session.instructions)));
      void session.closed.then(() => closedAt.set(i, Date.now()));
    }
  }, 50).unref();
  port.postMessage({ url: sim.url });
  port.on('message', async (m: { cmd: string }) => {
    if (m.cmd === 'health') return port.postMessage(loop.sample() satisfies SimHealth);
    if (m.cmd === 'report') {
      const out: AiSessionSummary[] = [];
      for (const [i, at] of closedAt) {
        if (reported.has(i) || Date.now() - at < 2000) continue;
        reported.add(i);
        const session = sim.sessions[i];
        const update = session.received.find((e) => e.type === 'session.update') as { session?: { instructions?: string } } | undefined;
        out.push({
          index: indexOfInstructions(update?.session?.instructions ?? ''),
          appends: session.received.filter((e) => e.type === 'input_audio_buffer.append').length,
          agentBytes: session.responses.reduce((n, r) => n + r.audioMsSent * 8, 0),
          dropped: scenarios[i].dropAfterResponses !== undefined && session.responses.length >= scenarios[i].dropAfterResponses!,
          responses: session.responses.length,
          completedResponses: session.responses.filter((r) => r.status === 'completed' && r.transcript).length,
          calleeTranscripts: session.sent.filter((e) => e.type === 'conversation.item.input_audio_transcription.completed').length,
          agentTranscripts: session.sent.filter((e) => e.type === 'response.output_audio_transcript.done').length,
        });
        session.received.length = 0;
        session.sent.length = 0;
      }
      return port.postMessage(out);
    }
    if (m.cmd === 'close') {
      await sim.close();
      port.postMessage('closed');
    }
  });
}
