/**
 * Sharing rules (always | when-asked-and-relevant | never) through the public API and a simulated
 * call: the engine simulator receives the system prompt and every tool result, so what the model
 * could ever see is exactly what it recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until, withStack } from './helpers.js';
import { SIM_API_TOKEN, type Stack } from '../sim/stack.js';
import type { CalleeScript } from '../sim/twilio/index.js';

const SECRET = 'ROUTING-0042-7781-SECRET';

async function upload(stack: Stack, clientId: string, name: string, bytes: string) {
  const form = new FormData();
  form.append('file', new Blob([Buffer.from(bytes)]), name);
  const res = await fetch(`${stack.baseUrl}/api/clients/${clientId}/documents`, { method: 'POST', headers: { Authorization: `Bearer ${SIM_API_TOKEN}` }, body: form });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as any).documents[0] as { id: string; file: string; share: string };
}

const search = (stack: Stack, q: string) => stack.api('GET', `/api/clients/raju/search?q=${encodeURIComponent(q)}`);

const CALLEE: CalleeScript = {
  steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'What is the bank routing number?' }, { waitForAgent: true, quietMs: 600 }, { say: 'And the gym?' }, { waitForAgent: true, quietMs: 600 }, { say: 'Bye.' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }],
};

function conversation() {
  return {
    turns: [
      { say: "Hi, I'm an AI assistant calling on behalf of Raju Kumar." },
      { call: { name: 'lookup_context', args: { query: 'bank account routing number' } } },
      { say: "I'll check with Raju Kumar and get back to you." },
      { call: { name: 'lookup_context', args: { query: 'gym membership number' } } },
      { say: 'It is GYM-5521.' },
      { say: 'Goodbye!', call: { name: 'end_call', args: { reason: 'done' } } },
    ],
    userTranscripts: ['Hello?', 'What is the bank routing number?', 'And the gym?', 'Bye.'],
  };
}

function functionOutputs(stack: Stack): string[] {
  return stack.openai.sessions[0]!.received.filter((e: any) => e.type === 'conversation.item.create' && e.item?.type === 'function_call_output').map((e: any) => String(e.item.output));
}

test('a `never` document reaches neither the call-start prompt nor a lookup; when-asked-and-relevant only through a relevant lookup', async () => {
  await withStack({ script: () => CALLEE, conversation }, async (stack) => {
    const bank = await upload(stack, 'raju', 'bank.md', `# Bank\n\nChecking account at Bay Credit Union, routing number ${SECRET}. Bank account for autopay.`);
    const gym = await upload(stack, 'raju', 'gym.md', '# Gym\n\nGym membership number GYM-5521 at FitLife.');
    assert.equal(bank.share, 'when-asked-and-relevant', 'the default for uploaded documents');

    // Control: before the rule, the agent could share the passage (so the assertions below can fail).
    const before = await search(stack, 'bank routing number');
    assert.equal(before.body.results[0].file, 'bank.md');
    assert.deepEqual([before.body.results[0].share, before.body.results[0].agentCanShare], ['when-asked-and-relevant', true]);

    const patched = await stack.api('PATCH', `/api/clients/raju/documents/${bank.id}`, { share: 'never' });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.document.share, 'never');
    assert.match(readFileSync(join(stack.dataDir, 'clients', 'raju', 'sharing.txt'), 'utf8'), /^bank\.md: never$/m);

    // The owner's search box still shows the passage, saying the agent cannot share it.
    const after = await search(stack, 'bank routing number');
    assert.equal(after.body.results[0].file, 'bank.md');
    assert.deepEqual([after.body.results[0].share, after.body.results[0].agentCanShare], ['never', false]);

    // Instructions that would retrieve the bank document at call start if it were `always`.
    const id = await stack.placeCall({ instructions: 'Call Bay Credit Union about the bank account routing number for autopay.' });
    const call = await stack.waitForEnd(id, 30_000);
    assert.equal(call.endReason, 'agent-hangup');

    const instructions = String(stack.openai.sessions[0]!.config.instructions);
    const outputs = functionOutputs(stack);
    assert.equal(outputs.length, 2, 'both lookups reached the engine');
    assert.doesNotMatch(instructions, new RegExp(SECRET), 'never in the prompt');
    assert.doesNotMatch(instructions, /GYM-5521/, 'when-asked-and-relevant is not pushed into the prompt');
    assert.doesNotMatch(outputs[0]!, new RegExp(SECRET), 'never in a lookup result');
    assert.match(outputs[0]!, /Nothing in the documents matches/);
    assert.match(outputs[1]!, /gym\.md:\nGym\n\nGym membership number GYM-5521/, 'a relevant lookup gets the when-asked-and-relevant passage');
    // Nor anywhere the call recorded (timeline, transcript, tool calls).
    const events = String((await stack.api('GET', `/api/calls/${id}/events`)).body);
    assert.doesNotMatch(events + JSON.stringify(call), new RegExp(SECRET));
    assert.ok(gym.id);
  });
});

test('sharing rules API: PATCH validates and names the field; sharing.txt lines that cannot be read are reported by number and share nothing', async () => {
  await withStack({}, async (stack) => {
    const doc = await upload(stack, 'raju', 'notes.md', 'The gate code is 4512.');
    const patch = (body: unknown, docId = doc.id, client = 'raju') => stack.api('PATCH', `/api/clients/${client}/documents/${docId}`, body);
    const bad = await patch({ share: 'sometimes' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'share');
    assert.match(bad.body.error.message, /share: must be one of always, when-asked-and-relevant, never/);
    const missing = await patch({});
    assert.deepEqual([missing.status, missing.body.error.field], [400, 'share']);
    const extra = await patch({ share: 'always', file: 'x.md' });
    assert.deepEqual([extra.status, extra.body.error.field], [400, 'file']);
    assert.equal((await patch({ share: 'always' }, 'nope')).status, 404);
    assert.equal((await patch({ share: 'always' }, doc.id, 'nobody')).status, 404);
    assert.equal((await patch({ share: 'always' })).status, 200);

    const docs = await stack.api('GET', '/api/clients/raju/documents');
    assert.deepEqual(
      docs.body.documents.map((d: any) => [d.file, d.share, d.profile]),
      [
        ['notes.md', 'always', false],
        ['profile.txt', 'always', true],
      ],
    );
    assert.deepEqual(docs.body.sharingErrors, []);

    // Edited by hand: a typo makes its file `never` (fail closed) and is reported with its line.
    writeFileSync(join(stack.dataDir, 'clients', 'raju', 'sharing.txt'), '# rules\nnotes.md: alwys\nprofile.txt: when-asked-and-relevant\nno colon here\n');
    const edited = await until('the watcher picks up sharing.txt', async () => {
      const r = await stack.api('GET', '/api/clients/raju/documents');
      return r.body.sharingErrors.length ? r : undefined;
    });
    assert.deepEqual(
      edited.body.sharingErrors.map((e: any) => e.line),
      [2, 4],
    );
    assert.match(edited.body.sharingErrors[0].error, /notes\.md: "alwys" must be one of/);
    assert.deepEqual(
      edited.body.documents.map((d: any) => [d.file, d.share]),
      [
        ['notes.md', 'never'],
        ['profile.txt', 'when-asked-and-relevant'],
      ],
    );
    const found = await search(stack, 'gate code');
    assert.deepEqual([found.body.results[0].file, found.body.results[0].agentCanShare], ['notes.md', false]);
  });
});

test('the profile is re-indexed when it changes (watcher), and found by the search box', async () => {
  await withStack({}, async (stack) => {
    await until('the profile is indexed at start', async () => (await search(stack, 'preferred pickup')).body.results[0]?.file === 'profile.txt');
    writeFileSync(join(stack.dataDir, 'clients', 'raju', 'profile.txt'), 'Full Name: Raju Kumar\nDate of Birth: March 14, 1968\n');
    const hit = await until('the watcher re-indexes the profile', async () => {
      const r = await search(stack, 'When was he born?');
      return /March 14, 1968/.test(r.body.results[0]?.text ?? '') ? r : undefined;
    });
    assert.equal(hit.body.results[0].file, 'profile.txt');
    assert.deepEqual([hit.body.results[0].share, hit.body.results[0].agentCanShare], ['always', true]);
  });
});
