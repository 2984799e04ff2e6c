import type { CalleeScript } from '../sim/twilio/index.js';
import type { RealtimeScenario } from '../sim/openai-realtime/index.js';
import assert from 'node:assert/strict';
import pg from 'pg';
import { stackStoreEnv, startStack, type Engine, type Stack, type StackOptions } from '../sim/stack.js';

/**
 * Every engine the behaviour suite runs on: the same calls and assertions through each engine's
 * simulator, differing only where an engine's capabilities do (docs/cascade.md lists what does not apply).
 */
export const ENGINES: readonly Engine[] = ['openai', 'gemini', 'cascade'];

/** Faster than real speech so the suite stays quick; every timing still goes through marks and VAD. */
export const FAST: Partial<StackOptions> = { msPerChar: 20, env: { VAD_SILENCE_MS: '300' } };

export const GREETING = "Hi, I'm an AI assistant calling on behalf of Raju Kumar.";
export const FULL_CONVERSATION: { script: CalleeScript; scenario: RealtimeScenario } = {
  script: {
    steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Sure, what would you like?' }, { waitForAgent: true, quietMs: 300 }, { say: 'Got it. Anything else?' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }],
  },
  scenario: {
    turns: [
      { say: GREETING },
      { say: "I'd like one chicken biryani for pickup at seven." },
      { say: "That's all, thank you. Goodbye!", call: { name: 'end_call', arguments: { reason: 'order placed' } } },
    ],
    userTranscripts: ['Hello?', 'Sure, what would you like?', 'Got it. Anything else?'],
  },
};

export async function withStack(o: StackOptions, fn: (s: Stack) => Promise<void>): Promise<void> {
  const stack = await startStack({ ...FAST, ...o, env: { ...FAST.env, ...o.env } });
  try {
    await fn(stack);
  } finally {
    await stack.close();
  }
}

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Reads an SSE stream to its `end` event; returns the parsed events, each also given to `onEvent` as it comes. */
export async function readSse(url: string, token: string, headers: Record<string, string> = {}, timeoutMs = 30_000, onEvent?: (ev: { id: number; event: string; data: any }) => void): Promise<Array<{ id: number; event: string; data: any }>> {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream', ...headers }, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok || !res.body) throw new Error(`SSE ${res.status}`);
  const out: Array<{ id: number; event: string; data: any }> = [];
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev: { id: number; event: string; data: any } = { id: 0, event: 'message', data: null };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) ev.id = Number(line.slice(4));
        else if (line.startsWith('event: ')) ev.event = line.slice(7);
        else if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6));
      }
      if (block.startsWith(':') || (!ev.data && ev.event === 'message')) continue;
      out.push(ev);
      onEvent?.(ev);
      if (ev.event === 'end') return out;
    }
  }
  return out;
}

/** How many times the call's timeline says it ended (must be exactly once, whoever ended it). */
export async function endedEvents(stack: Stack, id: string): Promise<number> {
  const events = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
  return (events.match(/"type":"status","data":\{"status":"ended"/g) ?? []).length;
}

/**
 * A call's transcript against what was said: the callee's lines exactly and in order, and one agent line for
 * every response the AI simulator spoke, each starting with that response's text (a line cut at a barge-in
 * keeps what was heard). Not a fixed turn order: on a loaded machine a greeting can start as the callee says
 * "Hello?", be cut at what was heard and be answered again (callee, agent, agent, ...), with nothing lost.
 */
export function assertTranscriptIsWhatWasSaid(
  call: { transcript: Array<{ speaker: string; text: unknown }> },
  session: { responses: Array<{ itemId?: string; audioMsSent: number; transcript: string }> },
  calleeLines: readonly string[] | undefined,
  label: string,
): void {
  const lines = call.transcript.map((t) => `${t.speaker}: ${t.text}`);
  const said = (speaker: string) => call.transcript.filter((t) => t.speaker === speaker).map((t) => String(t.text));
  assert.deepEqual(said('callee'), calleeLines, `${label}: the callee's lines: ${JSON.stringify(lines)}`);
  const agent = said('agent');
  const spoken = session.responses.filter((r) => r.itemId && r.audioMsSent > 0);
  assert.equal(agent.length, spoken.length, `${label}: one agent line per response that spoke: ${JSON.stringify(lines)}`);
  spoken.forEach((r, k) => assert.ok(agent[k]!.startsWith(r.transcript), `${label}: agent line ${k} is what the AI said ("${r.transcript}"): ${JSON.stringify(lines)}`));
}

/** The longest the event loop went without running a 1 ms timer while `work` ran. */
export async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let worst = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 5));
  last = performance.now();
  await work();
  // Let the probe run once more: a block that ended with the work is only seen at the next timer.
  await new Promise((r) => setTimeout(r, 2));
  clearInterval(probe);
  return worst;
}

/**
 * A call's timeline as recorded (GET /api/calls/:id/events, read to its end). The stream of a live call stays
 * open until the call ends, so this waits for the end; `storedTimeline` reads a live call's at once.
 */
export async function timelineOf(stack: Stack, id: string): Promise<Array<{ type: string; at: string; data: any }>> {
  const body = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
  return body
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)))
    .filter((e) => e && typeof e.type === 'string');
}

/** A call's timeline as stored now, live or not (the server's own reader, not the API's stream). */
export async function storedTimeline(stack: Stack, id: string): Promise<Array<{ type: string; data: any }>> {
  return (await stack.app.timeline.list(id)).map((e) => ({ type: e.type, data: e.data as any }));
}

/** The call's stream secret as stored: in DATA_DIR's SQLite file, or in PostgreSQL with TEST_STORE=postgres. */
export async function storedStreamSecret(stack: Stack, id: string): Promise<string> {
  const { DATABASE_URL } = await stackStoreEnv(stack.dataDir);
  if (!DATABASE_URL) return stack.app.db.prepare('SELECT stream_secret FROM calls WHERE id = ?').pluck().get(id) as string;
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  try {
    return (await c.query('SELECT stream_secret FROM calls WHERE id = $1', [id])).rows[0].stream_secret as string;
  } finally {
    await c.end();
  }
}
