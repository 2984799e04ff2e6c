import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { MEDIA_HOSTS, type CallSide, type MediaHostKind, type SessionSpec } from '../../src/bridge/host/media-host.js';
import type { MediaTransport } from '../../src/telephony/carrier.js';
import type { EngineCapabilities, EngineListener, VoiceEngine } from '../../src/voice/engine.js';
import type { AudioChunk } from '../../src/media/audio-chunk.js';
import { defineTool, ToolRegistry, type ToolContext } from '../../src/tools/registry.js';
import { askOwnerTool } from '../../src/tools/ask-owner.js';
import { endCallTool } from '../../src/tools/end-call.js';
import type { OwnerReply } from '../../src/owner/owner-channel.js';

/** The engine seam, faked: records what the session asks of it; the test plays its events. */
class FakeEngine implements VoiceEngine {
  readonly name = 'fake';
  readonly capabilities: EngineCapabilities = { truncation: true, serverTurnDetection: true, autoReplyAfterTool: false, detectsSpeechDuringPlayback: true, cancelsInterruptedToolCalls: true, hearsBeforeAutoRespond: true, inputFormat: { encoding: 'pcmu', sampleRate: 8000 }, outputFormat: { encoding: 'pcmu', sampleRate: 8000 } };
  calls: string[] = [];
  constructor(
    readonly emit: EngineListener,
    private readonly refuse?: string,
  ) {}
  async start() {
    if (this.refuse) throw new Error(this.refuse);
  }
  pushAudio() {}
  generateReply() {
    this.calls.push('generateReply');
  }
  setAutoRespond(on: boolean) {
    this.calls.push(`autoRespond:${on}`);
  }
  interrupt() {}
  truncate() {}
  deleteItem() {}
  sendToolResult(callId: string, output: string) {
    this.calls.push(`toolResult:${callId}:${output}`);
  }
  async close() {
    this.calls.push('close');
  }
}

class FakeTransport implements MediaTransport {
  readonly streamId = 'MZ1';
  sendAudio(_a: AudioChunk, _mark: string) {}
  clear() {}
  close() {}
}

/** A tool that runs beside the store: what it was given is kept for the test. */
const seen: Array<{ clientId?: string; hangup: string }> = [];
const lookupLike = defineTool({
  name: 'look_it_up',
  description: 'test',
  args: z.object({ q: z.string() }),
  runsOnMain: true,
  async run(ctx: ToolContext, { q }) {
    const hangup = await ctx.hangupAfterPlayout().then(
      () => 'hung up',
      (e: Error) => e.message,
    );
    seen.push({ clientId: ctx.clientId, hangup });
    ctx.record?.('knowledge.lookup', { query: q });
    return { output: `found ${q}`, reply: true };
  },
});

function open(kind: MediaHostKind, o: { owner?: (q: string, signal: AbortSignal) => Promise<OwnerReply>; refuse?: string } = {}) {
  const engines: FakeEngine[] = [];
  const host = MEDIA_HOSTS[kind]({ engines: { openai: ({ onEvent }) => (engines.push(new FakeEngine(onEvent, o.refuse)), engines.at(-1)!) }, tools: new ToolRegistry([endCallTool, askOwnerTool, lookupLike]) });
  const records: Array<{ type: string; data: Record<string, unknown> }> = [];
  const ends: string[] = [];
  const side: CallSide = {
    record: (type, data) => records.push({ type, data }),
    requestEnd: (reason) => ends.push(reason),
    conversationStarted: () => records.push({ type: 'conversationStarted', data: {} }),
    transfer: async () => ({ status: 'failed', message: 'not in this test' }),
    ...(o.owner ? { askOwner: o.owner } : {}),
  };
  const spec: SessionSpec = {
    callId: 'call-1',
    clientId: 'client-1',
    engine: 'openai',
    instructions: 'Be brief.',
    hasClient: true,
    session: { greetingSilenceMs: 60_000, digitsViaCarrier: false, ...(o.owner ? { owner: { name: 'Raju', holdingLineMs: 60_000 } } : {}) },
  };
  const media = host.open(spec, side);
  return { media, records, ends, engine: () => engines[0]!, types: () => records.map((r) => r.type) };
}

/** A person answers, and the model's first response is one tool call (`t1`). */
async function toolCallInConversation(c: ReturnType<typeof open>, name: string, args: string): Promise<void> {
  await c.media.started;
  c.media.attach(new FakeTransport());
  c.media.answeredBy('human');
  c.engine().emit({ type: 'agent.responseStarted', responseId: 'r1' });
  c.engine().emit({ type: 'tool.call', responseId: 'r1', callId: 't1', name, arguments: args });
  c.engine().emit({ type: 'agent.responseDone', responseId: 'r1', status: 'completed' });
}

const tick = () => new Promise((r) => setImmediate(r));
const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await tick();
  assert.ok(ok(), what);
};

for (const kind of Object.keys(MEDIA_HOSTS) as MediaHostKind[]) {
  test(`${kind} host: the engine connects in the host, and what the session records reaches the main side in order`, async () => {
    const c = open(kind);
    await c.media.started;
    await until('engine.ready recorded', () => c.types().includes('engine.ready'));
    assert.deepEqual(c.records.find((r) => r.type === 'engine.ready')?.data, { engine: 'fake' });
    assert.ok(c.media.attach(new FakeTransport()), 'the stream joins the session');
    c.media.answeredBy('human');
    await until('the greeting asked for', () => c.engine().calls.includes('generateReply'));
    assert.deepEqual(c.engine().calls, ['autoRespond:true', 'generateReply']);
    await until('the conversation started on the main side', () => c.types().includes('conversationStarted'));
    await c.media.shutdown();
    assert.ok(c.engine().calls.includes('close'), 'shutdown resolves once the engine is closed');
  });

  test(`${kind} host: an engine that cannot connect is recorded and ends the call as a provider error`, async () => {
    const c = open(kind, { refuse: '401 invalid key' });
    await c.media.started;
    await until('the end asked for', () => c.ends.length > 0);
    assert.deepEqual(c.ends, ['provider-error']);
    assert.deepEqual(c.records.find((r) => r.type === 'error')?.data, { source: 'fake', fatal: true, code: 'connect_failed', message: '401 invalid key' });
    assert.ok(!c.types().includes('engine.ready'));
  });

  test(`${kind} host: a limit's wrap-up ends a call with no conversation at once, and is recorded with its data once there is one`, async () => {
    const a = open(kind);
    await a.media.started;
    a.media.wrapUp('cost-limit', 'Say goodbye.', 5_000, { costUsd: 0.5 });
    await until('the end asked for', () => a.ends.length > 0);
    assert.deepEqual(a.ends, ['cost-limit']);
    assert.ok(!a.types().includes('wrapup.requested'));

    const b = open(kind);
    await b.media.started;
    b.media.attach(new FakeTransport());
    b.media.answeredBy('human');
    b.media.wrapUp('cost-limit', 'Say goodbye.', 5_000, { costUsd: 0.5, limitUsd: 0.4 });
    await until('wrapup.requested recorded', () => b.types().includes('wrapup.requested'));
    assert.deepEqual(b.records.find((r) => r.type === 'wrapup.requested')?.data, { reason: 'cost-limit', graceMs: 5_000, costUsd: 0.5, limitUsd: 0.4 });
    assert.deepEqual(b.ends, []);
  });

  test(`${kind} host: a tool marked runsOnMain runs on the main side with the call's client; driving the call is refused there`, async () => {
    seen.length = 0;
    const c = open(kind);
    await toolCallInConversation(c, 'look_it_up', '{"q":"member id"}');
    await until('the result sent to the engine', () => c.engine().calls.some((x) => x.startsWith('toolResult:t1')));
    assert.deepEqual(c.engine().calls.find((x) => x.startsWith('toolResult:t1')), 'toolResult:t1:found member id');
    assert.deepEqual(seen, [{ clientId: 'client-1', hangup: 'look_it_up runs on the main side and cannot hang up' }]);
    assert.deepEqual(c.records.find((r) => r.type === 'knowledge.lookup')?.data, { query: 'member id' });
    await c.media.shutdown();
  });

  test(`${kind} host: ask_owner's question crosses to the main side, stays open when the engine withdraws the tool call, and is aborted there when the call ends`, async () => {
    const asked: Array<{ question: string; signal: AbortSignal }> = [];
    const c = open(kind, { owner: (question, signal) => new Promise((resolve) => (asked.push({ question, signal }), signal.addEventListener('abort', () => resolve({ status: 'cancelled' })))) });
    await toolCallInConversation(c, 'ask_owner', '{"question":"Is extra spicy OK?"}');
    await until('the question asked on the main side', () => asked.length === 1);
    assert.equal(asked[0]!.question, 'Is extra spicy OK?');
    assert.equal(asked[0]!.signal.aborted, false);
    c.engine().emit({ type: 'tool.cancelled', callIds: ['t1'] });
    await until('owner.detached recorded', () => c.types().includes('owner.detached'));
    assert.equal(asked[0]!.signal.aborted, false, 'its answer is still relayed if it comes');
    c.media.beginEnd();
    await until('the question withdrawn on the main side', () => asked[0]!.signal.aborted);
    await c.media.shutdown();
  });
}

test('checked host: a message that is not plain data fails where it is sent, and nothing arrives before a later turn', async () => {
  const c = open('checked');
  assert.deepEqual(c.records, [], 'nothing is delivered in the turn it was sent');
  await c.media.started;
  assert.throws(() => c.media.wrapUp('cost-limit', 'Say goodbye.', 5_000, { check: () => 0 }), /could not be cloned/);
  await c.media.shutdown();
});
