/**
 * Editing and deleting clients through the API and the `callwright clients show|rename|delete` commands
 * (run as child processes against the real server), and the refusals at the edges: unknown fields, a
 * second name in the profile, deletion without confirmation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FULL_CONVERSATION, until, withStack } from './helpers.js';
import { SIM_API_TOKEN, type Stack } from '../sim/stack.js';

const BIN = resolve('bin/callwright.js');

function cli(stack: Stack, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'callwright-cli-'));
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args, '--url', stack.baseUrl, '--token', SIM_API_TOKEN], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, NO_COLOR: '1' }, timeout: 60_000 }, (err, stdout, stderr) =>
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('clients API and CLI: show, rename, edit the prompt, preview it, refuse bad edits, delete with the documents while calls keep their records', async () => {
  await withStack({ script: () => FULL_CONVERSATION.script, scenario: () => FULL_CONVERSATION.scenario, env: { KNOWLEDGE_WATCH: 'false' } }, async (stack) => {
    const callId = await stack.placeCall();
    await stack.waitForEnd(callId);

    const shown = await cli(stack, ['clients', 'show', 'raju']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^Raju Kumar \(raju\) · 1 document/);
    assert.match(shown.stdout, /Profile:\nPhone: \+14155550100\nPreferred pickup: evenings/);
    assert.match(shown.stdout, /System prompt:\n\(the built-in template\)/);

    const renamed = await cli(stack, ['clients', 'rename', 'raju', 'Raju K. Sharma', '--json']);
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.equal(JSON.parse(renamed.stdout).name, 'Raju K. Sharma');
    assert.equal((await stack.api('GET', '/api/clients/raju')).body.name, 'Raju K. Sharma');

    // Bad edits are refused naming the field; nothing is written.
    const unknown = await stack.api('PATCH', '/api/clients/raju', { name: 'X', voice: 'alloy' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.field, 'voice');
    const twoNames = await stack.api('PATCH', '/api/clients/raju', { profile: 'Full Name: Someone Else' });
    assert.equal(twoNames.status, 400);
    assert.equal(twoNames.body.error.field, 'profile');
    assert.equal((await stack.api('PATCH', '/api/clients/nobody', { name: 'X' })).status, 404);
    assert.equal((await stack.api('GET', '/api/clients/raju')).body.name, 'Raju K. Sharma');

    // The preview is the prompt buildSystemPrompt makes, with the edits not yet saved.
    const p = await stack.api('POST', '/api/clients/raju/prompt', { instructions: 'Book a table', systemPrompt: 'Hello from {{name}}: {{instructions}}' });
    assert.equal(p.status, 200);
    assert.ok(p.body.prompt.startsWith('Hello from Raju K. Sharma: Book a table'), p.body.prompt);
    assert.match(p.body.prompt, /# Always/);
    assert.equal((await stack.api('POST', '/api/clients/raju/prompt', { instructions: 1 })).body.error.field, 'instructions');

    // Deleting needs a confirmation away from a terminal.
    const unconfirmed = await cli(stack, ['clients', 'delete', 'raju']);
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /needs confirmation: add --yes/);
    assert.ok(existsSync(join(stack.dataDir, 'clients', 'raju')));
    const deleted = await cli(stack, ['clients', 'delete', 'raju', '--yes']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /Deleted client raju and 1 document/);
    assert.equal(existsSync(join(stack.dataDir, 'clients', 'raju')), false);
    assert.equal(stack.app.knowledge.listDocuments('raju').length, 0);
    assert.equal((await cli(stack, ['clients', 'show', 'raju'])).code, 5);
    assert.equal((await stack.api('GET', `/api/calls/${callId}`)).body.clientName, 'Raju Kumar');
  });
});

test('calls: delete refuses a live call and an unknown one; the export and the overview follow the list', async () => {
  await withStack({ script: () => ({ idleHangupMs: 60_000, steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] }), scenario: () => FULL_CONVERSATION.scenario, env: { KNOWLEDGE_WATCH: 'false' } }, async (stack) => {
    const id = await stack.placeCall();
    const live = await stack.api('DELETE', `/api/calls/${id}`);
    assert.equal(live.status, 409);
    assert.equal(live.body.error.message, 'the call is live: hang up first, then delete it');
    assert.equal((await stack.api('GET', '/api/calls/overview')).body.live.now, 1);
    assert.equal((await stack.api('DELETE', '/api/calls/00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await stack.api('GET', '/api/calls/export.csv?status=bogus')).status, 400);
    // Hang up once the agent has spoken (its usage is billed), so the deleted call has a cost to keep counting.
    // The stored timeline, not the events route: that stream stays open while the call is live.
    await until('the agent greeted', async () => (await stack.app.timeline.list(id)).some((e) => e.type === 'usage'));
    const hangup = await stack.api('POST', `/api/calls/${id}/hangup`);
    assert.equal(hangup.status, 200, JSON.stringify(hangup.body));
    assert.equal(hangup.body.endReason, 'user-hangup');
    await stack.waitForEnd(id);
    const csv = await stack.api('GET', '/api/calls/export.csv?status=live');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    assert.equal(csv.body.split('\r\n').filter(Boolean).length, 1, 'the header only: no live call');
    // A call hung up this early may have no recording yet to fetch; whatever files it has go with it.
    const before = (await stack.api('GET', `/api/calls/${id}`)).body;
    const ok = await stack.api('DELETE', `/api/calls/${id}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.files, 1 + (before.recording ? 1 : 0), 'the transcript, and the recording if there is one');
    assert.equal(existsSync(join(stack.dataDir, 'recordings', `${id}.mp3`)), false);
    assert.equal((await stack.api('GET', `/api/calls/${id}`)).status, 404);
    const o = (await stack.api('GET', '/api/calls/overview')).body;
    assert.equal(o.calls.today, 1, 'still counted towards MAX_CALLS_PER_DAY');
    assert.ok(o.spend.today > 0, 'its cost still counts towards MAX_COST_PER_DAY_USD');
  });
});
