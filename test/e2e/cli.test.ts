/**
 * The `callwright` command, run as a child process (bin/callwright.js, as `npx callwright` runs it)
 * against the real server and the simulators: placing a call and following it live to the end, JSON
 * output, exit codes, token discovery, Ctrl-C, and the clients/docs/runbooks commands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { at, runCli, startCli } from './cli-process.js';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FULL_CONVERSATION, GREETING, until, withStack } from './helpers.js';
import { SIM_API_TOKEN } from '../sim/stack.js';

const cli = runCli;

test('callwright call places the call and follows it live to the end: status, both sides, tool calls, cost, files', async () => {
  await withStack({ engine: 'openai', script: () => FULL_CONVERSATION.script, scenario: () => FULL_CONVERSATION.scenario }, async (stack) => {
    const r = await cli(['call', '+14155550123', 'Order one chicken biryani for pickup at 7', '--client', 'raju', ...at(stack)]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    const id = /^Call ([0-9a-f-]{36}) to \+14155550123/m.exec(out)?.[1];
    assert.ok(id, out);
    // In the order they happened, as the call went on.
    const order = ['status: dialing', 'status: ringing', 'status: answered', 'Callee: Hello?', `Agent:  ${GREETING}`, 'Callee: Sure, what would you like?', 'tool: end_call({"reason":"order placed"})', 'status: ended (agent-hangup)', `Call ${id}: ended (agent-hangup)`, 'Cost $', `transcript: callwright calls transcript ${id}`];
    let from = 0;
    for (const s of order) {
      const i = out.indexOf(s, from);
      assert.ok(i >= 0, `"${s}" after offset ${from} in:\n${out}`);
      from = i;
    }
    assert.match(out, new RegExp(`recording:  callwright calls recording ${id} -o call\\.mp3`));
    const call = (await stack.api('GET', `/api/calls/${id}`)).body;
    assert.equal(call.clientId, 'raju');
    assert.equal(call.instructions, 'Order one chicken biryani for pickup at 7');

    // The same call afterwards: shown, its transcript and recording downloaded.
    const show = await cli(['calls', 'show', id!, ...at(stack)]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /Agent: +I'd like one chicken biryani for pickup at seven\./);
    const dir = mkdtempSync(join(tmpdir(), 'callwright-files-'));
    const transcript = await cli(['calls', 'transcript', id!, '-o', join(dir, 't.txt'), ...at(stack)]);
    assert.equal(transcript.code, 0, transcript.stderr);
    assert.match(readFileSync(join(dir, 't.txt'), 'utf8'), /Callee: Got it\. Anything else\?/);
    const rec = await cli(['calls', 'recording', id!, '-o', join(dir, 'call.mp3'), ...at(stack)]);
    assert.equal(rec.code, 0, rec.stderr);
    const mp3 = readFileSync(join(dir, 'call.mp3'));
    assert.ok(mp3.length > 1000 && (mp3.subarray(0, 3).toString() === 'ID3' || (mp3[0] === 0xff && (mp3[1]! & 0xe0) === 0xe0)), 'an MP3 file');
  });
});

test('--json gives scripts one JSON document; the token and URL are found with no flags on the server machine', async () => {
  await withStack({ engine: 'openai', script: () => FULL_CONVERSATION.script, scenario: () => FULL_CONVERSATION.scenario }, async (stack) => {
    // As on the server's machine: ./data/api-token written by the server, PORT in .env.
    const home = mkdtempSync(join(tmpdir(), 'callwright-home-'));
    mkdirSync(join(home, 'data'));
    writeFileSync(join(home, 'data', 'api-token'), SIM_API_TOKEN + '\n');
    writeFileSync(join(home, '.env'), `PORT=${stack.port}\n`);
    const r = await cli(['call', '+14155550123', 'Order one chicken biryani for pickup at 7', '--client', 'raju', '--json'], {}, home);
    assert.equal(r.code, 0, r.stderr);
    const call = JSON.parse(r.stdout);
    assert.equal(call.status, 'ended');
    assert.equal(call.endReason, 'agent-hangup');
    assert.deepEqual(call.transcript.map((t: { speaker: string }) => t.speaker).slice(0, 2), ['callee', 'agent']);
    assert.equal(typeof call.cost.total, 'number');

    const list = await cli(['calls', 'list', '--json'], {}, home);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout).calls.map((c: { id: string }) => c.id), [call.id]);
    // The environment wins over the data dir: a wrong CALLWRIGHT_TOKEN is used, and refused.
    const bad = await cli(['calls', 'list', '--json'], { CALLWRIGHT_TOKEN: 'not-the-token-0123456789' }, home);
    assert.equal(bad.code, 4);
    assert.equal(JSON.parse(bad.stdout).error.status, 401);
  });
});

test('exit codes: refused by the dial policy (3), bad token (4), not found (5), bad input (2), unreachable (6), not reached (7)', async () => {
  await withStack({ engine: 'openai', script: () => ({ result: 'busy', steps: [] }) }, async (stack) => {
    const refused = await cli(['call', '911', 'Report a fire', ...at(stack)]);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /^callwright: refused \(emergency\): .*emergency numbers are never dialled/m);
    const refusedJson = await cli(['call', '911', 'Report a fire', '--json', ...at(stack)]);
    assert.equal(refusedJson.code, 3);
    assert.deepEqual(JSON.parse(refusedJson.stdout).error, { code: 'refused_by_policy', message: JSON.parse(refusedJson.stdout).error.message, status: 400, field: 'to', rule: 'emergency' });
    assert.equal(stack.twilio.calls.length, 0, 'nothing was dialled');

    const badToken = await cli(['calls', 'list', '--url', stack.baseUrl, '--token', 'wrong-token-0123456789']);
    assert.equal(badToken.code, 4);
    assert.match(badToken.stderr, /missing or invalid API token[\s\S]*token from: --token/);
    const noToken = await cli(['runbooks', 'list', '--url', stack.baseUrl]);
    assert.equal(noToken.code, 4, 'no token anywhere: the server says 401');
    assert.match(noToken.stderr, /token from: none/);

    const missing = await cli(['calls', 'show', '00000000-0000-4000-8000-000000000000', ...at(stack)]);
    assert.equal(missing.code, 5);
    const badInput = await cli(['call', '+14155550123', '', ...at(stack)]);
    assert.equal(badInput.code, 2);
    assert.match(badInput.stderr, /instructions: is required/);
    const badEngine = await cli(['call', '+14155550123', 'x', '--engine', 'siri', ...at(stack)]);
    assert.equal(badEngine.code, 2, 'a usage error is found before the server is asked');
    assert.match(badEngine.stderr, /Allowed choices are openai, gemini, cascade/);

    const busy = await cli(['call', '+14155550123', 'Order one chicken biryani', ...at(stack)]);
    assert.equal(busy.code, 7, busy.stdout + busy.stderr);
    assert.match(busy.stdout, /ended \(busy\)/);
  });
  const down = await cli(['calls', 'list', '--url', 'http://127.0.0.1:9', '--token', SIM_API_TOKEN]);
  assert.equal(down.code, 6);
  assert.match(down.stderr, /cannot reach Callwright at http:\/\/127\.0\.0\.1:9/);
});

test('Ctrl-C while following asks whether to hang up; yes hangs up and the summary follows', async () => {
  const script = { steps: [{ say: 'Hello?' }, { waitForAgent: true as const, quietMs: 300 }, { pauseMs: 30_000 }] };
  await withStack({ engine: 'openai', script: () => script, scenario: () => ({ turns: [{ say: GREETING }], userTranscripts: ['Hello?'] }) }, async (stack) => {
    const p = startCli(['call', '+14155550123', 'Order one chicken biryani', '--client', 'raju', ...at(stack)]);
    try {
      await until('the agent speaking', () => p.out().includes('Agent:'), 20_000);
      p.signal('SIGINT');
      await until('the question', () => p.err().includes('Hang up the call?'), 10_000);
      p.write('y\n');
    } catch (err) {
      p.signal('SIGKILL');
      throw err;
    }
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /status: ended \(user-hangup\)/);
    assert.match(r.stdout, /Call [0-9a-f-]{36}: ended \(user-hangup\)/);
  });
});

test('clients, docs and runbooks commands: create and list a client, upload, list and search its documents, list runbooks', async () => {
  await withStack({ engine: 'openai' }, async (stack) => {
    const dir = mkdtempSync(join(tmpdir(), 'callwright-docs-'));
    writeFileSync(join(dir, 'profile.txt'), 'Phone: +14155550199\n');
    const created = await cli(['clients', 'create', 'Asha Rao', '--id', 'asha', '--profile', join(dir, 'profile.txt'), '--json', ...at(stack)]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).id, 'asha');
    const again = await cli(['clients', 'create', 'Asha Rao', '--id', 'asha', ...at(stack)]);
    assert.equal(again.code, 2, 'a second client with the id: 409');
    const clients = await cli(['clients', 'list', ...at(stack)]);
    assert.match(clients.stdout, /^asha +Asha Rao/m);

    writeFileSync(join(dir, 'food.md'), '# Food\n\nSpice level: medium. No peanuts (allergy).\n');
    const up = await cli(['docs', 'upload', 'asha', join(dir, 'food.md'), ...at(stack)]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^food\.md: indexed, 1 chunk/m);
    const list = await cli(['docs', 'list', 'asha', '--json', ...at(stack)]);
    assert.deepEqual(JSON.parse(list.stdout).documents.map((d: { file: string }) => d.file).sort(), ['food.md', 'profile.txt']);
    const search = await cli(['docs', 'search', 'asha', 'is he allergic to peanuts', ...at(stack)]);
    assert.equal(search.code, 0, search.stderr);
    assert.match(search.stdout, /^1\. food\.md/m);
    assert.match(search.stdout, /No peanuts \(allergy\)/);

    const runbooks = await cli(['runbooks', 'list', ...at(stack)]);
    assert.equal(runbooks.code, 0, runbooks.stderr);
    assert.match(runbooks.stdout, /^order-food-pickup  Order food for pickup/m);
    assert.match(runbooks.stdout, /--var pickup_time=…/);
  });
});

test('--meta labels the call (shown with --json and in the summary); --idempotency-key makes running the command again return the same call', async () => {
  await withStack({ engine: 'openai', script: () => ({ result: 'busy', steps: [] }) }, async (stack) => {
    const args = ['call', '+14155550123', 'Order one chicken biryani', '--meta', 'orderId=A-1001', '--meta', 'attempt=2', '--meta', 'vip=true', '--idempotency-key', 'order-A-1001', '--json', ...at(stack)];
    const first = await cli(args);
    assert.equal(first.code, 7, first.stderr);
    const call = JSON.parse(first.stdout);
    assert.deepEqual(call.metadata, { orderId: 'A-1001', attempt: 2, vip: true });
    const again = await cli(args);
    assert.equal(JSON.parse(again.stdout).id, call.id, 'the same call');
    assert.equal(stack.twilio.calls.length, 1, 'dialled once');
    const shown = await cli(['calls', 'show', call.id, ...at(stack)]);
    assert.match(shown.stdout, /metadata: orderId=A-1001 attempt=2 vip=true/);
    const unknown = await cli(['call', '+14155550123', 'x', '--meta', 'a=1', '--idempotency-key', 'order-A-1001', '--json', ...at(stack)]);
    assert.equal(unknown.code, 2, 'the same key with another request is a usage error');
    assert.equal(JSON.parse(unknown.stdout).error.code, 'idempotency_key_reused');
  });
});
