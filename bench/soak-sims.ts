/**
 * Hosts one protocol simulator (Twilio or OpenAI Realtime) on its own thread for the soak run, so the
 * simulators' work (callee audio, VAD, playout clocks) does not share one event loop. Answers
 * `report` with a summary per finished call and frees what it no longer needs, so a long run stays flat.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startTwilioSim, type SimCall } from '../test/sim/twilio/index.js';
import { startOpenAIRealtimeSim, type RealtimeScenario } from '../test/sim/openai-realtime/index.js';
import { indexOfInstructions, indexOfNumber, scenarioOf, scriptOf } from './soak-plan.js';

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

const { kind, accountSid, authToken, apiKey, pauseMs } = workerData as { kind: 'twilio' | 'openai'; accountSid: string; authToken: string; apiKey: string; pauseMs: number };
const port = parentPort!;
const FREE_AFTER_MS = 20_000;

if (kind === 'twilio') {
  const sim = await startTwilioSim({ accountSid, authToken, script: (p) => scriptOf(indexOfNumber(p.To ?? ''), pauseMs), idleHangupMs: 120_000 });
  const endedAt = new Map<SimCall, number>();
  const reported = new Set<SimCall>();
  const auth = 'Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64');
  const FINAL = ['completed', 'busy', 'failed', 'no-answer', 'canceled'];
  setInterval(() => {
    for (const c of sim.calls) if (!endedAt.has(c) && FINAL.includes(c.status)) endedAt.set(c, Date.now());
  }, 250).unref();
  port.postMessage({ url: sim.url });
  port.on('message', async (m: { cmd: string; n?: number }) => {
    if (m.cmd === 'failRecordings') return sim.failRecordings(m.n ?? 1);
    if (m.cmd === 'report') {
      const out: TwilioCallSummary[] = [];
      const now = Date.now();
      for (const c of sim.calls) {
        const at = endedAt.get(c);
        // Summarize once the server has had time to fetch the recording, then free the call's bulk.
        if (reported.has(c) || at === undefined || now - at < FREE_AFTER_MS) continue;
        reported.add(c);
        const stream = c.streams[0];
        out.push({ index: indexOfNumber(c.params.To ?? ''), url: c.params.Url ?? '', status: c.status, hangupBy: c.hangupBy, calleeFrames: stream?.sent.media ?? 0, agentBytes: c.agentAudioBytesReceived });
        c.log.length = 0;
        for (const s of c.streams) (s.marksEchoed.length = 0), (s.invalid.length = 0), (s.clears.length = 0);
        if (c.recordingSid) await fetch(`${sim.url}/2010-04-01/Accounts/${accountSid}/Recordings/${c.recordingSid}.json`, { method: 'DELETE', headers: { Authorization: auth } }).catch(() => undefined);
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
