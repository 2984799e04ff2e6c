/**
 * Issue 16's multi-node kill test, on this one machine: three server processes on one PostgreSQL and one
 * Redis, HAProxy in front (deploy/haproxy.cfg), the simulators playing Twilio and OpenAI. Calls are placed
 * through the proxy, so they spread over the nodes, with the caps set low enough to matter; one node is
 * killed with -9 mid-call. Then: no number dialled twice, the caps never exceeded, every call's events
 * replayed from any node without a gap, the dead node's calls ended as `node-lost` within about a lease
 * (CALL_LEASE_SECONDS is short here) with their recordings and carrier price (their callbacks went to
 * the dead node: a survivor finds the recording in the carrier's list), and the other calls finish as
 * they would have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { until } from './helpers.js';
import { startTwilioSim, type CalleeScript } from '../sim/twilio/index.js';
import { startOpenAIRealtimeSim } from '../sim/openai-realtime/index.js';
import { freePort, simEnv, writeDemoClient, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_OPENAI_KEY, SIM_API_TOKEN } from '../sim/stack.js';
import { startServerProcess, type ServerProcess } from '../sim/server-process.js';
import { haproxyBinary, startHaproxy } from '../sim/haproxy.js';
import { freshPostgresDatabase, TEST_DATABASE_URL } from '../store-backends.js';
import { TEST_REDIS_URL } from '../redis-backend.js';

const HAPROXY = haproxyBinary();
const SKIP = !TEST_DATABASE_URL
  ? 'needs TEST_DATABASE_URL (scripts/test-postgres.sh)'
  : !TEST_REDIS_URL
    ? 'needs TEST_REDIS_URL (scripts/test-redis.sh)'
    : !HAPROXY
      ? 'needs haproxy (apt-get install haproxy)'
      : undefined;

const LEASE_S = 3;
const MAX_CONCURRENT = 5;
const MAX_PER_DAY = 9;
// A recording stays `processing` at the carrier this long after its call (Twilio: a couple of seconds).
const RECORDING_PROCESSING_MS = 2000;
// The first wave (a campaign's three numbers, dialled by whichever nodes claim them, and two calls through
// the API) lasts long enough to be live when the node dies; the later calls are short.
const CAMPAIGN = ['+14155550190', '+14155550191', '+14155550192'];
const FIRST_WAVE = new Set([...CAMPAIGN, '+14155550100', '+14155550101']);
const scriptFor = (to: string): CalleeScript => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, ...(FIRST_WAVE.has(to) ? [{ pauseMs: 6000 }] : []), { hangup: true }] });

type Ev = { seq: number; type: string; data: any };

async function api(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(base + path, { method, headers: { Authorization: `Bearer ${SIM_API_TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  try {
    return { status: r.status, body: JSON.parse(text) };
  } catch {
    return { status: r.status, body: text };
  }
}

/** The call's stored events as one node replays them (the stream of an ended call ends after `records.complete`). */
async function replay(base: string, id: string): Promise<Ev[]> {
  const r = await fetch(`${base}/api/calls/${id}/events`, { headers: { Authorization: `Bearer ${SIM_API_TOKEN}` }, signal: AbortSignal.timeout(15_000) });
  const text = await r.text();
  return [...text.matchAll(/^id: (\d+)\nevent: \S+\ndata: (.*)$/gm)].map((m) => ({ seq: Number(m[1]), ...JSON.parse(m[2]) }));
}

/** What a call's event stream has sent within 2 s (a stream still open, for a failure's message). */
async function eventsSoFar(base: string, id: string): Promise<Ev[]> {
  const r = await fetch(`${base}/api/calls/${id}/events`, { headers: { Authorization: `Bearer ${SIM_API_TOKEN}` } });
  const reader = r.body!.getReader();
  let text = '';
  const stop = setTimeout(() => void reader.cancel(), 2000);
  for (let c = await reader.read(); !c.done; c = await reader.read()) text += Buffer.from(c.value).toString('utf8');
  clearTimeout(stop);
  return [...text.matchAll(/^id: (\d+)\nevent: \S+\ndata: (.*)$/gm)].map((m) => ({ seq: Number(m[1]), ...JSON.parse(m[2]) }));
}

/** The most intervals [from, to) open at one instant. */
function maxOverlap(spans: Array<[number, number]>): number {
  const edges = spans.flatMap(([a, b]) => [[a, 1], [b, -1]] as Array<[number, number]>).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (open += d));
  return most;
}

test('three nodes behind HAProxy, one killed with -9 mid-call: its calls end as node-lost with their records, the others finish, no double dial, caps hold, events replay without gaps from any node', { skip: SKIP, timeout: 120_000 }, async () => {
  const db = await freshPostgresDatabase();
  const twilio = await startTwilioSim({ accountSid: SIM_ACCOUNT_SID, authToken: SIM_AUTH_TOKEN, recordingProcessingMs: RECORDING_PROCESSING_MS, script: (p) => scriptFor(p.To) });
  const openai = await startOpenAIRealtimeSim({ apiKey: SIM_OPENAI_KEY, msPerChar: 20, scenario: () => ({ turns: [{ say: 'Hi, an AI assistant for Raju here.' }], userTranscripts: ['Hello?'] }) });
  const run = randomBytes(3).toString('hex');
  const proxyPort = await freePort();
  // The recordings and transcripts folder every node mounts, as in production (docs/deployment.md).
  const shared = mkdtempSync(join(tmpdir(), 'callwright-shared-'));
  const nodes: Array<{ id: string; port: number; dataDir: string; server?: ServerProcess }> = [];
  for (const name of ['a', 'b', 'c']) {
    const dataDir = mkdtempSync(join(tmpdir(), `callwright-node-${name}-`));
    writeDemoClient(join(dataDir, 'clients'));
    nodes.push({ id: `kill-${run}-${name}`, port: await freePort(), dataDir });
  }
  const proxy = await (async () => {
    const envOf = (n: (typeof nodes)[number]) => ({
      ...simEnv({ port: n.port, dataDir: n.dataDir, twilioUrl: twilio.url, openaiUrl: openai.url }),
      // The carrier reaches every node through the proxy, as in production.
      PUBLIC_URL: `http://127.0.0.1:${proxyPort}`,
      NODE_ID: n.id,
      RECORDINGS_DIR: join(shared, 'recordings'),
      TRANSCRIPTS_DIR: join(shared, 'transcripts'),
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL!,
      CALL_LEASE_SECONDS: String(LEASE_S),
      MAX_CONCURRENT_CALLS: String(MAX_CONCURRENT),
      MAX_CALLS_PER_DAY: String(MAX_PER_DAY),
      VAD_SILENCE_MS: '300',
      CAMPAIGN_TICK_MS: '100',
      CAMPAIGN_LEASE_SECONDS: '5',
    });
    // The first node migrates the new database; then the others start together.
    nodes[0]!.server = await startServerProcess(envOf(nodes[0]!));
    await Promise.all(nodes.slice(1).map(async (n) => (n.server = await startServerProcess(envOf(n)))));
    return startHaproxy(HAPROXY!, proxyPort, nodes);
  })();
  const killedAt: { ms?: number } = {};
  try {
    const placed: Array<{ id: string; to: string }> = [];
    const refusals: Array<{ status: number; rule?: string }> = [];
    let number = 100;
    const place = async (): Promise<string | undefined> => {
      const to = `+14155550${number++}`;
      const r = await api(proxy.url, 'POST', '/api/calls', { to, instructions: 'Say hi.', clientId: 'raju' });
      if (r.status === 201 || r.status === 200) {
        placed.push({ id: r.body.id, to });
        return r.body.id;
      }
      refusals.push({ status: r.status, rule: r.body?.error?.rule });
      return undefined;
    };

    // The first wave: a campaign's numbers, then two calls through the API (round robin: two nodes), the concurrent cap.
    const campaign = await api(proxy.url, 'POST', '/api/campaigns', { name: 'Kill', instructions: 'Say hi.', concurrency: CAMPAIGN.length, numbers: CAMPAIGN.map((to) => ({ to })) });
    assert.equal(campaign.status, 201, JSON.stringify(campaign.body));
    const campaignCalls = await until('the campaign\'s numbers dialled', async () => {
      const c = (await api(proxy.url, 'GET', `/api/campaigns/${campaign.body.id}`)).body;
      return c.numbers.every((n: any) => n.callId) && c.numbers.map((n: any) => ({ id: n.callId as string, to: n.to as string }));
    }, 20_000);
    placed.push(...campaignCalls);
    for (let i = 0; i < MAX_CONCURRENT - CAMPAIGN.length; i++) assert.ok(await place(), `call ${i} placed: ${JSON.stringify(refusals.at(-1))}`);
    const nodeOf = (id: string) => {
      const leg = twilio.calls.find((c) => c.params.Url?.includes(id));
      return leg && /\/n\/([^/]+)\/twilio\//.exec(leg.params.Url!)?.[1];
    };
    let firstWave: any[] = [];
    await until('every call of the first wave has heard the agent', async () => {
      firstWave = await Promise.all(placed.map(async ({ id }) => (await api(proxy.url, 'GET', `/api/calls/${id}`)).body));
      return firstWave.every((c) => c.transcript?.some((t: any) => t.speaker === 'agent'));
    }, 30_000).catch((err: Error) => {
      const legLog = (id: string) => twilio.calls.find((l) => l.params.Url?.includes(id))?.log.filter((e) => /stream|fail|hangup|twiml/.test(e.type));
      throw new Error(`${err.message}: ${JSON.stringify(firstWave.map((c) => [c.id, c.status, c.endReason, c.error, c.transcript?.length, legLog(c.id)]))}`);
    });
    const byNode = new Map<string, string[]>();
    for (const { id } of placed) byNode.set(nodeOf(id)!, [...(byNode.get(nodeOf(id)!) ?? []), id]);
    assert.ok(byNode.size >= 2, `calls spread over the nodes: ${JSON.stringify([...byNode])}`);
    for (const n of byNode.keys()) assert.ok(nodes.some((x) => x.id === n), `each call is addressed to a node: ${n}`);
    // The cap holds across the nodes: one more call now is refused, whichever node the proxy picks.
    assert.equal(await place(), undefined);
    assert.deepEqual(refusals.at(-1), { status: 429, rule: 'max-concurrent-calls' });

    // A carrier request for another node's call, sent to the wrong node, is refused as misdirected.
    const [n0, n1] = nodes;
    const wrong = await fetch(`http://127.0.0.1:${n0!.port}/n/${n1!.id}/twilio/status?callId=x`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'CallSid=CA1' });
    assert.equal(wrong.status, 421);
    assert.match(((await wrong.json()) as any).error.message, new RegExp(`for node ${n1!.id}`));

    // Kill -9 the node with the most calls.
    const [victimId, victimCalls] = [...byNode].sort((x, y) => y[1].length - x[1].length)[0]!;
    const victim = nodes.find((n) => n.id === victimId)!;
    const survivors = nodes.filter((n) => n !== victim);
    const otherCalls = placed.map((p) => p.id).filter((id) => !victimCalls.includes(id));
    assert.ok(otherCalls.length > 0, 'a surviving node has calls too');
    await victim.server!.crash();
    killedAt.ms = Date.now();

    // Its calls: ended by a surviving node as node-lost within about a lease (plus one sweep period).
    const lost = await Promise.all(victimCalls.map((id) => until(`call ${id} ended as node-lost`, async () => {
      const c = (await api(proxy.url, 'GET', `/api/calls/${id}`)).body;
      return c.status === 'ended' && c;
    }, (LEASE_S + 8) * 1000)));
    const lostAfterMs = Date.now() - killedAt.ms;
    assert.ok(lostAfterMs < (LEASE_S + LEASE_S / 3 + 3) * 1000, `ended ${lostAfterMs} ms after the kill`);
    for (const c of lost) {
      assert.equal(c.endReason, 'node-lost', JSON.stringify([c.endReason, c.error]));
      assert.match(c.error, new RegExp(`node ${victimId}`));
      assert.deepEqual(c.transcript.slice(0, 2).map((t: any) => t.speaker), ['callee', 'agent'], 'what was said before the kill is kept');
    }

    // The other calls finish as scripted (the callee hangs up).
    for (const id of otherCalls) {
      const c = await until(`call ${id} ended`, async () => {
        const r = (await api(proxy.url, 'GET', `/api/calls/${id}`)).body;
        return r.status === 'ended' && r;
      }, 30_000);
      assert.equal(c.endReason, 'callee-hangup', `a surviving node's call is untouched: ${JSON.stringify([c.endReason, c.error])}`);
    }

    // The campaign settles on the surviving nodes: the numbers whose call died with the node are
    // interrupted (not dialled again), the others answered.
    let lastCampaign: any;
    const settled = await until('the campaign completed', async () => {
      const c = (lastCampaign = (await api(proxy.url, 'GET', `/api/campaigns/${campaign.body.id}`)).body);
      return c.status === 'completed' && c;
    }, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(lastCampaign)} victim ${victimId}: ${JSON.stringify(victimCalls)}`);
    });
    for (const n of settled.numbers) {
      assert.equal(n.attempts, 1, JSON.stringify(n));
      assert.equal(n.outcome, victimCalls.includes(n.callId) ? 'interrupted' : 'answered', JSON.stringify(n));
      if (victimCalls.includes(n.callId)) assert.equal(n.endReason, 'node-lost');
    }

    // The daily cap: the rest of the day's calls are placed (waiting while the concurrent cap is full), then refused.
    while (placed.length < MAX_PER_DAY) {
      if (!(await place())) {
        assert.equal(refusals.at(-1)!.rule, 'max-concurrent-calls', JSON.stringify(refusals.at(-1)));
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    const second = placed.slice(MAX_CONCURRENT).map((p) => p.id);
    assert.ok(second.length > 0);
    for (const id of second) {
      const c = await until(`call ${id} ended`, async () => {
        const r = (await api(proxy.url, 'GET', `/api/calls/${id}`)).body;
        return r.status === 'ended' && r;
      }, 30_000);
      assert.equal(c.endReason, 'callee-hangup');
      assert.ok(survivors.some((n) => n.id === nodeOf(id)), 'no call goes to the dead node');
    }
    // The dead node's recordings: their callbacks went to it and got 503 from the proxy, so a survivor
    // found each in the carrier's list once no longer processing and fetched it into the shared folder,
    // from which both survivors serve it. The carrier's price is in too.
    for (const id of victimCalls) {
      const leg = twilio.calls.find((l) => l.params.Url?.includes(id))!;
      // The carrier sends the callback once the recording is processed, which can be after the second
      // wave of calls has ended: wait for its first try.
      const callbacks = await until(`call ${id}: its recording callback tried`, async () => {
        const tried = leg.log.filter((e) => e.type === 'webhook' && e.kind === 'recording');
        return tried.length > 0 && tried;
      }, 30_000);
      assert.ok(callbacks.every((e) => e.status !== 200), `call ${id}: its recording callback never reached a node: ${JSON.stringify(callbacks)}`);
      const c = await until(`call ${id}: its recording fetched by a survivor`, async () => {
        const r = (await api(proxy.url, 'GET', `/api/calls/${id}`)).body;
        return r.recording && r;
      }, 40_000).catch(async (err: Error) => {
        const events = (await eventsSoFar(`http://127.0.0.1:${survivors[0]!.port}`, id)).filter((e) => /error|recording|records|price|status/.test(e.type));
        throw new Error(`${err.message}: ${JSON.stringify({ events, carrier: [leg.status, leg.recordingStatus, leg.log.filter((e) => /webhook|ended|rest/.test(e.type))] })}`);
      });
      assert.ok(c.cost.lines.some((l: any) => l.source === 'carrier'), `call ${id}: the carrier's price: ${JSON.stringify(c.cost.lines)}`);
      for (const n of survivors) {
        const r = await fetch(`http://127.0.0.1:${n.port}${c.recording.url}`, { headers: { Authorization: `Bearer ${SIM_API_TOKEN}` } });
        const bytes = (await r.arrayBuffer()).byteLength;
        assert.equal(r.status, 200, `call ${id}: its recording from node ${n.id}`);
        assert.equal(r.headers.get('content-type'), 'audio/mpeg');
        assert.ok(bytes > 1000, `call ${id}: ${bytes} bytes of recording`);
      }
    }

    // Nothing live now: the next call is refused by the day's count (the dead node's calls included).
    assert.equal(await place(), undefined);
    assert.deepEqual(refusals.at(-1), { status: 429, rule: 'max-calls-per-day' });

    // No number was dialled twice, and every dial is one of the calls the API accepted.
    const dialled = twilio.calls.map((c) => c.params.To);
    assert.equal(new Set(dialled).size, dialled.length, `a number dialled twice: ${dialled}`);
    assert.deepEqual([...dialled].sort(), placed.map((p) => p.to).sort());

    // The concurrent cap was never exceeded, by the records (created to ended) nor at the carrier.
    const rows = await Promise.all(placed.map(async (p) => (await api(proxy.url, 'GET', `/api/calls/${p.id}`)).body));
    assert.ok(maxOverlap(rows.map((r) => [Date.parse(r.createdAt), Date.parse(r.endedAt)])) <= MAX_CONCURRENT, 'calls live at once, by the records');
    assert.ok(maxOverlap(twilio.calls.map((c) => [c.dateCreated.getTime(), (c.endTime ?? new Date()).getTime()])) <= MAX_CONCURRENT, 'carrier legs at once');

    // Every call's events, replayed from each surviving node: 1..n without a gap, the same on both, ended.
    for (const { id } of placed) {
      const [one, two] = await Promise.all(survivors.map((n) => replay(`http://127.0.0.1:${n.port}`, id)));
      assert.deepEqual(one!.map((e) => e.seq), one!.map((_, i) => i + 1), `call ${id}: no gap`);
      assert.deepEqual(two!.map((e) => [e.seq, e.type]), one!.map((e) => [e.seq, e.type]), `call ${id}: the same from either node`);
      assert.equal(one!.filter((e) => e.type === 'records.complete').length, 1, `call ${id}: its records complete, once`);
      if (victimCalls.includes(id)) {
        assert.ok(one!.some((e) => e.type === 'status' && e.data.reason === 'node-lost' && e.data.node === victimId), 'the end is on the timeline');
        assert.ok(one!.some((e) => e.type === 'recording'), `call ${id}: the recording fetched, on the timeline`);
        assert.deepEqual(one!.find((e) => e.type === 'records.complete')!.data, {}, `call ${id}: nothing missing`);
      }
      assert.equal(one!.filter((e) => e.type === 'status' && e.data.status === 'ended').length, 1, `call ${id} ended once`);
    }
  } finally {
    await proxy.close();
    await Promise.all(nodes.map((n) => n.server?.crash()));
    await Promise.all([twilio.close(), openai.close()]);
    await db.drop();
    rmSync(shared, { recursive: true, force: true });
  }
});
