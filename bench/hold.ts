/**
 * "Waiting is cheap": the AI cost of a minute on hold against a minute of conversation, per engine,
 * over real calls. The server runs as its own process (`src/main.ts`, as `npm start` runs it); the
 * Twilio, OpenAI Realtime and Gemini Live simulators run in this one. Cost is what the server bills from
 * the engines' usage events (records/pricing.ts), read back from `GET /api/calls/:id`.
 *
 * Per engine, four calls: on hold for S seconds and for 5 s (music, an announcement every 30 s, then a
 * person); talking for about S seconds and for one exchange. The cost of a minute is the difference
 * between the long and the short call over the difference in their length, which cancels what both
 * share (greeting, reminder, goodbye). Bar: a hold minute costs under 5% of a talking minute.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startTwilioSim, type CalleeScript } from '../test/sim/twilio/index.js';
import { startOpenAIRealtimeSim } from '../test/sim/openai-realtime/index.js';
import { startGeminiLiveSim } from '../test/sim/gemini-live/index.js';
import { startServerProcess } from '../test/sim/server-process.js';
import { holdAnnouncements } from '../test/sim/twilio/hold-audio.js';
import { freePort, simEnv, toGeminiScenario, toRealtimeScenario, writeDemoClient, type Conversation, type Engine as StackEngine, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_GEMINI_KEY, SIM_OPENAI_KEY } from '../test/sim/stack.js';

/** The hold bench drives the speech-to-speech engines' simulators directly (no cascade yet). */
type Engine = Exclude<StackEngine, 'cascade'>;

const GREETING = "Hi, I'm an AI assistant calling on behalf of Raju Kumar.";
const ACK = "Sure, I'll hold.";
const REMINDER = "Hi Sam, thanks. I'm calling for Raju Kumar to order one chicken biryani for pickup at seven.";
const BYE = 'Perfect, thank you. Goodbye!';
const ANNOUNCEMENT = 'Your call is important to us. Please continue to hold.';
const PERSON = 'Thanks for holding, this is Sam, how can I help?';
const OKAY = 'Okay, one chicken biryani at seven.';
const LINE = 'We have the chicken biryani, the lamb one and a vegetable one, which would you like?';
const REPLY = 'The chicken biryani please, mild, with an extra raita on the side.';
const ANNOUNCE_EVERY_MS = 30_000;
export const HOLD_BAR = 0.05;

interface Plan {
  script: CalleeScript;
  conversation: Record<Engine, Conversation>;
}

function holdPlan(holdMs: number): Plan {
  const announcements = holdAnnouncements(holdMs, ANNOUNCEMENT, ANNOUNCE_EVERY_MS);
  const turns = [{ say: GREETING }, { say: ACK }, { say: REMINDER }, { say: BYE, call: { name: 'end_call', args: { reason: 'order placed' } } }];
  return {
    script: {
      steps: [
        { say: 'Hello?' },
        { waitForAgent: true, quietMs: 300 },
        { say: 'Please hold.' },
        { waitForAgent: true, quietMs: 300 },
        { holdMs, music: 'chords', announcement: ANNOUNCEMENT, announceEveryMs: ANNOUNCE_EVERY_MS },
        { pauseMs: 400 },
        { say: PERSON },
        { waitForAgent: true, quietMs: 300 },
        { say: OKAY },
        { waitForAgent: true, quietMs: 300, timeoutMs: 8000 },
      ],
    },
    conversation: {
      // OpenAI hears the lines on hold (the music's onset, each announcement, the person); Gemini nothing.
      openai: { turns, userTranscripts: ['Hello?', 'Please hold.', '(music)', ...Array(announcements).fill(ANNOUNCEMENT), PERSON, OKAY] },
      gemini: { turns, userTranscripts: ['Hello?', 'Please hold.', OKAY] },
    },
  };
}

function talkPlan(exchanges: number): Plan {
  const turns = [{ say: GREETING }, ...Array.from({ length: exchanges }, () => ({ say: REPLY })), { say: BYE, call: { name: 'end_call', args: { reason: 'order placed' } } }];
  const conversation = { turns, userTranscripts: ['Hello?', ...Array(exchanges).fill(LINE), 'That is all, thanks.'] };
  return {
    script: {
      steps: [
        { say: 'Hello?' },
        { waitForAgent: true, quietMs: 300 },
        ...Array.from({ length: exchanges }, () => [{ say: LINE }, { waitForAgent: true as const, quietMs: 300 }]).flat(),
        { say: 'That is all, thanks.' },
        { waitForAgent: true, quietMs: 300, timeoutMs: 8000 },
      ],
    },
    conversation: { openai: conversation, gemini: conversation },
  };
}

export interface HoldBenchResult {
  engine: Engine;
  /** Seconds on hold / talking in the long call of each pair, as measured on the line. */
  holdSec: number;
  talkSec: number;
  holdUsdPerMin: number;
  talkUsdPerMin: number;
  failures: string[];
}

export async function runHoldBench(o: { seconds: number; engines: Engine[] }): Promise<HoldBenchResult[]> {
  const plans: Record<Engine, Plan[]> = { openai: [], gemini: [] };
  let current: Plan | undefined;
  const twilio = await startTwilioSim({ accountSid: SIM_ACCOUNT_SID, authToken: SIM_AUTH_TOKEN, script: () => current!.script, idleHangupMs: 5000 });
  const openai = await startOpenAIRealtimeSim({ apiKey: SIM_OPENAI_KEY, scenario: (i) => toRealtimeScenario(plans.openai[i].conversation.openai) });
  const gemini = await startGeminiLiveSim({ apiKey: SIM_GEMINI_KEY, scenario: (i) => toGeminiScenario(plans.gemini[i].conversation.gemini) });
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-hold-bench-'));
  writeDemoClient(join(dataDir, 'clients'));
  const port = await freePort();
  const server = await startServerProcess({ ...simEnv({ port, dataDir, twilioUrl: twilio.url, openaiUrl: openai.url, geminiUrl: gemini.baseUrl }), MAX_CALLS_PER_DAY: '0', MAX_COST_PER_CALL_USD: '0', MAX_COST_PER_DAY_USD: '0' });
  const results: HoldBenchResult[] = [];
  try {
    for (const engine of o.engines) {
      const failures: string[] = [];
      /** Places one call on `plan`; returns its AI cost (USD) and the callee's line time (ms). */
      const run = async (plan: Plan, label: string) => {
        current = plan;
        plans[engine].push(plan);
        const r = await server.api('POST', '/api/calls', { to: '+14155550123', instructions: 'Order one chicken biryani for pickup at 7. My name is Raju.', clientId: 'raju', provider: engine });
        if (r.status !== 201) throw new Error(`POST /api/calls -> ${r.status} ${JSON.stringify(r.body)}`);
        const id = r.body.id as string;
        let call: any;
        for (const deadline = Date.now() + o.seconds * 1000 + 90_000; ; ) {
          call = (await server.api('GET', `/api/calls/${id}`)).body;
          if (call.status === 'ended' && call.cost) break;
          if (Date.now() > deadline) throw new Error(`${label}: the call did not end`);
          await new Promise((res) => setTimeout(res, 250));
        }
        if (call.endReason !== 'agent-hangup') failures.push(`${label}: ended ${call.endReason}`);
        const sim = twilio.calls.at(-1)!;
        const lineMs = sim.streams.reduce((a, s) => a + s.sent.media * 20, 0);
        const usd = (call.cost.lines as Array<{ source: string; amount: number }>).filter((l) => l.source === 'usage').reduce((a, l) => a + l.amount, 0);
        return { usd, lineMs };
      };
      const holdLong = await run(holdPlan(o.seconds * 1000), `${engine} hold ${o.seconds} s`);
      const holdShort = await run(holdPlan(5000), `${engine} hold 5 s`);
      const talkLong = await run(talkPlan(Math.max(2, Math.round(o.seconds / 10))), `${engine} talk`);
      const talkShort = await run(talkPlan(1), `${engine} talk, one exchange`);
      const perMin = (a: { usd: number; lineMs: number }, b: { usd: number; lineMs: number }) => (a.usd - b.usd) / ((a.lineMs - b.lineMs) / 60_000);
      results.push({
        engine,
        holdSec: (holdLong.lineMs - holdShort.lineMs) / 1000,
        talkSec: (talkLong.lineMs - talkShort.lineMs) / 1000,
        holdUsdPerMin: perMin(holdLong, holdShort),
        talkUsdPerMin: perMin(talkLong, talkShort),
        failures,
      });
    }
  } finally {
    await server.stop();
    await Promise.all([twilio.close(), openai.close(), gemini.close()]);
  }
  return results;
}

/** Prints the figures and PASS/FAIL against the bar; returns whether every engine passed. */
export function printHold(results: HoldBenchResult[]): boolean {
  let ok = true;
  for (const r of results) {
    const share = r.holdUsdPerMin / r.talkUsdPerMin;
    const pass = r.failures.length === 0 && share < HOLD_BAR;
    ok &&= pass;
    console.log(
      `\nhold cost [${r.engine}]: AI cost per minute, from the billed usage (music with an announcement every ${ANNOUNCE_EVERY_MS / 1000} s)\n` +
        `  on hold $${r.holdUsdPerMin.toFixed(5)}/min (${r.holdSec.toFixed(0)} s), talking $${r.talkUsdPerMin.toFixed(5)}/min (${r.talkSec.toFixed(0)} s): ` +
        `${(share * 100).toFixed(1)}% of a talking minute (bar < ${HOLD_BAR * 100}%) ${pass ? 'PASS' : 'FAIL'}` +
        (r.failures.length ? `\n  failures: ${r.failures.join('; ')}` : ''),
    );
  }
  return ok;
}
