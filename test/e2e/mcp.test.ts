/**
 * The MCP server, driven by the official SDK's own client over both transports: stdio (spawning
 * `callwright mcp` pointed at a running stack) and streamable HTTP (`/mcp` on the server, behind the
 * bearer token). Calls placed through MCP go through the same dial policy and caps as the REST API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINE_NAMES } from '../../src/voice/engine-names.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { FULL_CONVERSATION, GREETING, withStack } from './helpers.js';
import { SIM_API_TOKEN, type Stack } from '../sim/stack.js';

const TOOLS = ['get_call', 'hang_up', 'list_calls', 'list_clients', 'list_runbooks', 'place_call', 'search_documents', 'wait_for_call'];

/** A tool's JSON answer, or its error text (isError). */
async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ ok: boolean; value: any; text: string }> {
  const r = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content: Array<{ type: string; text: string }> };
  const text = r.content.map((c) => c.text).join('');
  return { ok: !r.isError, value: r.isError ? undefined : JSON.parse(text), text };
}

function stdioClient(stack: Stack, env: Record<string, string> = {}): { client: Client; transport: StdioClientTransport } {
  const cwd = mkdtempSync(join(tmpdir(), 'callwright-mcp-'));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [resolve('bin/callwright.js'), 'mcp'],
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd, CALLWRIGHT_URL: stack.baseUrl, CALLWRIGHT_TOKEN: SIM_API_TOKEN, ...env },
    stderr: 'pipe',
  });
  return { client: new Client({ name: 'callwright-test', version: '1.0.0' }), transport };
}

function httpClient(stack: Stack, token: string | undefined): { client: Client; transport: StreamableHTTPClientTransport } {
  const transport = new StreamableHTTPClientTransport(new URL(`${stack.baseUrl}/mcp`), { requestInit: { headers: token ? { Authorization: `Bearer ${token}` } : {} } });
  return { client: new Client({ name: 'callwright-test', version: '1.0.0' }), transport };
}

test('stdio (`callwright mcp`): place a call, wait for it to end, read it; refusals name the rule; searches keep the sharing rules', async () => {
  await withStack({ engine: 'openai', script: () => FULL_CONVERSATION.script, scenario: () => FULL_CONVERSATION.scenario }, async (stack) => {
    const { client, transport } = stdioClient(stack);
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
      const place = tools.find((t) => t.name === 'place_call')!;
      assert.match(place.description!, /dial policy and caps/, 'the description says calls are checked');
      assert.deepEqual((place.inputSchema as { required?: string[] }).required, ['to']);
      // The engines are the registry's, so a new one is offered here without touching the MCP tool.
      assert.deepEqual((place.inputSchema as any).properties.provider.enum, [...ENGINE_NAMES]);

      const placed = await call(client, 'place_call', { to: '+14155550123', instructions: 'Order one chicken biryani for pickup at 7.', clientId: 'raju', metadata: { orderId: 'A-1001', attempt: 1 } });
      assert.ok(placed.ok, placed.text);
      const ended = await call(client, 'wait_for_call', { id: placed.value.id, timeoutSec: 60 });
      assert.ok(ended.ok, ended.text);
      assert.equal(ended.value.ended, true);
      assert.equal(ended.value.endReason, 'agent-hangup');
      assert.deepEqual(ended.value.transcript.slice(0, 2).map((t: { speaker: string; text: string }) => [t.speaker, t.text]), [['callee', 'Hello?'], ['agent', GREETING]]);
      assert.deepEqual(ended.value.toolCalls.map((t: { name: string }) => t.name), ['end_call']);
      const got = await call(client, 'get_call', { id: placed.value.id });
      assert.equal(got.value.status, 'ended');
      assert.deepEqual(got.value.metadata, { orderId: 'A-1001', attempt: 1 });
      const listed = await call(client, 'list_calls', { clientId: 'raju' });
      assert.deepEqual(listed.value.calls.map((c: { id: string }) => c.id), [placed.value.id]);

      // The dial policy is the server's: an emergency number is refused, named, and never dialled.
      const refused = await call(client, 'place_call', { to: '911', instructions: 'Report a fire' });
      assert.equal(refused.ok, false);
      assert.match(refused.text, /^Refused by the dial policy or a cap \(rule: emergency\):.*\[HTTP 400\]$/);
      const badId = await call(client, 'get_call', { id: 'not-a-call' });
      assert.equal(badId.ok, false, 'input is checked against the tool schema');
      assert.equal(stack.twilio.calls.length, 1);

      const runbooks = await call(client, 'list_runbooks');
      assert.ok(runbooks.value.runbooks.some((r: { name: string; valid: boolean }) => r.name === 'order-food-pickup' && r.valid));

      // A document marked `never` reaches no model: the owner's REST search finds it, the MCP search does not.
      for (const [file, text] of [['food.md', '# Food\n\nSpice level: medium. No peanuts (allergy).\n'], ['passport.md', '# Passport\n\nPassport number: Z1234567, expires 2031.\n']]) {
        const form = new FormData();
        form.append('file', new Blob([text]), file);
        const up = await fetch(`${stack.baseUrl}/api/clients/raju/documents`, { method: 'POST', headers: { Authorization: `Bearer ${SIM_API_TOKEN}` }, body: form });
        assert.equal(up.status, 201);
      }
      const docs = (await stack.api('GET', '/api/clients/raju/documents')).body.documents as Array<{ id: string; file: string }>;
      assert.equal((await stack.api('PATCH', `/api/clients/raju/documents/${docs.find((d) => d.file === 'passport.md')!.id}`, { share: 'never' })).status, 200);
      assert.equal((await stack.api('GET', '/api/clients/raju/search?q=passport%20number')).body.results[0].file, 'passport.md');
      const hidden = await call(client, 'search_documents', { clientId: 'raju', query: 'passport number' });
      assert.ok(hidden.ok, hidden.text);
      assert.ok(!hidden.value.results.some((r: { file: string }) => r.file === 'passport.md'), hidden.text);
      const food = await call(client, 'search_documents', { clientId: 'raju', query: 'is he allergic to peanuts' });
      assert.equal(food.value.results[0].file, 'food.md');
    } finally {
      await client.close();
    }
  });
});

test('stdio: a wrong token is the API\'s 401, as a tool error', async () => {
  await withStack({ engine: 'openai' }, async (stack) => {
    const { client, transport } = stdioClient(stack, { CALLWRIGHT_TOKEN: 'wrong-token-0123456789' });
    await client.connect(transport);
    try {
      const r = await call(client, 'list_calls');
      assert.equal(r.ok, false);
      assert.match(r.text, /missing or invalid API token.*\[HTTP 401\]/);
    } finally {
      await client.close();
    }
  });
});

test('streamable HTTP (/mcp): needs the bearer token; caps apply; hang up a live call; waiting is bounded', async () => {
  const script = { steps: [{ say: 'Hello?' }, { waitForAgent: true as const, quietMs: 300 }, { pauseMs: 30_000 }] };
  await withStack({ engine: 'openai', env: { MAX_CONCURRENT_CALLS: '1' }, script: () => script, scenario: () => ({ turns: [{ say: GREETING }], userTranscripts: ['Hello?'] }) }, async (stack) => {
    const anonymous = httpClient(stack, undefined);
    await assert.rejects(anonymous.client.connect(anonymous.transport), /401|Unauthorized|invalid API token/);
    const wrong = httpClient(stack, 'wrong-token-0123456789');
    await assert.rejects(wrong.client.connect(wrong.transport), /401|Unauthorized|invalid API token/);
    assert.equal((await fetch(`${stack.baseUrl}/mcp`, { headers: { Authorization: `Bearer ${SIM_API_TOKEN}` } })).status, 405, 'stateless: no GET stream');

    const { client, transport } = httpClient(stack, SIM_API_TOKEN);
    await client.connect(transport);
    try {
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), TOOLS);
      const placed = await call(client, 'place_call', { to: '+14155550123', instructions: 'Order one chicken biryani for pickup at 7.', clientId: 'raju', metadata: { orderId: 'A-1001', attempt: 1 } });
      assert.ok(placed.ok, placed.text);
      const id = placed.value.id as string;

      // Bounded: a live call is returned after timeoutSec with ended: false.
      let live = await call(client, 'wait_for_call', { id, timeoutSec: 1 });
      assert.equal(live.value.ended, false);
      for (let i = 0; i < 20 && !live.value.transcript.some((t: { speaker: string }) => t.speaker === 'agent'); i++) live = await call(client, 'wait_for_call', { id, timeoutSec: 1 });
      assert.deepEqual(live.value.transcript.map((t: { speaker: string }) => t.speaker), ['callee', 'agent'], 'the transcript so far');

      // One live call is the cap here: a second is refused by the same rule as over REST.
      const second = await call(client, 'place_call', { to: '+14155550124', instructions: 'Ask about opening hours.' });
      assert.equal(second.ok, false);
      assert.match(second.text, /rule: max-concurrent-calls.*Try again in 30 s\. \[HTTP 429\]/);

      const hung = await call(client, 'hang_up', { id });
      assert.ok(hung.ok, hung.text);
      const ended = await call(client, 'wait_for_call', { id, timeoutSec: 30 });
      assert.equal(ended.value.ended, true);
      assert.equal(ended.value.endReason, 'user-hangup');
      const again = await call(client, 'hang_up', { id });
      assert.equal(again.ok, false);
      assert.match(again.text, /already ended.*\[HTTP 409\]/);
      assert.equal(stack.twilio.calls.length, 1, 'the refused call was never dialled');
    } finally {
      await client.close();
    }
  });
});
