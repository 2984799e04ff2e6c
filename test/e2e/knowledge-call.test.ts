import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './helpers.js';
import { SIM_API_TOKEN, type Stack } from '../sim/stack.js';
import type { CalleeScript } from '../sim/twilio/index.js';
import { makePdf } from '../fixtures/documents.js';

async function upload(stack: Stack, clientId: string, name: string, bytes: Uint8Array | string) {
  const form = new FormData();
  form.append('file', new Blob([Buffer.from(bytes)]), name);
  const res = await fetch(`${stack.baseUrl}/api/clients/${clientId}/documents`, { method: 'POST', headers: { Authorization: `Bearer ${SIM_API_TOKEN}` }, body: form });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json() as Promise<any>;
}

const CALLEE: CalleeScript = {
  steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { say: 'What is the member ID on the insurance card?' }, { waitForAgent: true, quietMs: 600 }, { say: 'Thanks, that is all.' }, { waitForAgent: true, quietMs: 300, timeoutMs: 5000 }],
};

function lookupConversation(query: string, answer: string) {
  return {
    turns: [
      { say: "Hi, I'm an AI assistant calling on behalf of Raju Kumar." },
      { call: { name: 'lookup_context', args: { query } } },
      { say: answer },
      { say: 'Goodbye!', call: { name: 'end_call', args: { reason: 'done' } } },
    ],
    userTranscripts: ['Hello?', 'What is the member ID on the insurance card?', 'Thanks, that is all.'],
  };
}

function functionOutputs(stack: Stack): string[] {
  return stack.openai.sessions[0]!.received.filter((e: any) => e.type === 'conversation.item.create' && e.item?.type === 'function_call_output').map((e: any) => String(e.item.output));
}

async function timeline(stack: Stack, id: string): Promise<Array<{ type: string; data: any }>> {
  const raw = (await stack.api('GET', `/api/calls/${id}/events`)).body as string;
  return [...raw.matchAll(/^event: (.+)\ndata: (.+)$/gm)].map((m) => ({ type: m[1]!, data: JSON.parse(m[2]!).data }));
}

test('at call start the facts retrieved for the instructions are in the system prompt, with sources, and in the timeline', async () => {
  await withStack({ script: () => CALLEE, conversation: () => lookupConversation('x', 'ok') }, async (stack) => {
    const orders = await upload(stack, 'raju', 'orders.md', '# Orders\n\nOrder 4471 from Acme Outdoor shipped on March 3 with UPS tracking number 1Z999AA10123456784.\n\n# Returns\n\nThe return window for Acme Outdoor is 30 days.');
    // Only `always` documents are pushed into the prompt; the default (when-asked-and-relevant) is not.
    assert.equal((await stack.api('PATCH', `/api/clients/raju/documents/${orders.documents[0].id}`, { share: 'always' })).status, 200);
    await upload(stack, 'raju', 'pets.md', 'Order 4471 is not about the dog, called Biscuit, who eats twice a day.');
    const id = await stack.placeCall({ instructions: 'Call Acme Outdoor and ask where order 4471 is; give them the tracking number if they ask.' });
    await stack.waitForEnd(id, 30_000);

    const instructions = String(stack.openai.sessions[0]!.config.instructions);
    assert.match(instructions, /# Reference: excerpts from Raju Kumar's documents/);
    assert.match(instructions, /\[1\] orders\.md:\nOrders\n\nOrder 4471 from Acme Outdoor shipped on March 3 with UPS tracking number 1Z999AA10123456784\./);
    assert.match(instructions, /Full Name: Raju Kumar/, 'the profile is always there');
    assert.doesNotMatch(instructions, /Biscuit/, 'a when-asked-and-relevant document is not pushed into the prompt');
    assert.equal(instructions.split('Preferred pickup: evenings').length, 2, 'the profile is in the prompt once, not again as an excerpt');
    assert.match(instructions, /Only state facts that appear in your task, in the profile above, the reference excerpts or what lookup_context returns/);
    assert.match(instructions, /I'll check with Raju Kumar and get back to you/);
    assert.ok((stack.openai.sessions[0]!.config.tools as any[]).some((t) => t.name === 'lookup_context'));

    const retrieved = (await timeline(stack, id)).find((e) => e.type === 'knowledge.retrieved')!;
    assert.equal(retrieved.data.clientId, 'raju');
    assert.equal(retrieved.data.mode, 'lexical');
    assert.equal(retrieved.data.results[0].file, 'orders.md');
    assert.ok(retrieved.data.results[0].score > 0);
    assert.ok(retrieved.data.results.length <= 5, 'KNOWLEDGE_TOP_K');
    assert.equal(retrieved.data.results[0].text, undefined, 'the timeline names sources; the text is in the prompt');
  });
});

test('lookup_context round trip: the model asks, the client\'s document answers with its source, the timeline shows the lookup', async () => {
  await withStack({ script: () => CALLEE, conversation: () => lookupConversation('insurance member ID', 'The member ID is XJ-4471-209.') }, async (stack) => {
    const pdf = await makePdf([['Blue Shield PPO insurance card', 'Member ID: XJ-4471-209', 'Group number: 88213'], ['Specialist copay: $35']]);
    await upload(stack, 'raju', 'insurance-card.pdf', pdf);
    await stack.api('POST', '/api/clients', { id: 'ana', name: 'Ana Lee' });
    await upload(stack, 'ana', 'insurance-card.md', 'Aetna insurance card. Member ID: ANA-0000-SECRET.');

    const id = await stack.placeCall({ instructions: 'Call the clinic to confirm the appointment on Friday.' });
    const call = await stack.waitForEnd(id, 30_000);
    assert.equal(call.endReason, 'agent-hangup');

    const [output] = functionOutputs(stack);
    assert.ok(output, 'the simulator received the tool output');
    assert.match(output!, /\[1\] insurance-card\.pdf, page 1:/);
    assert.match(output!, /Member ID: XJ-4471-209/);
    assert.doesNotMatch(output!, /ANA-0000-SECRET|Aetna/, 'another client\'s documents are never searched');

    const lookup = (await timeline(stack, id)).find((e) => e.type === 'knowledge.lookup')!;
    assert.equal(lookup.data.query, 'insurance member ID');
    assert.deepEqual([lookup.data.results[0].file, lookup.data.results[0].page], ['insurance-card.pdf', 1]);
    assert.match(lookup.data.results[0].excerpt, /XJ-4471-209/);
    assert.deepEqual(call.toolCalls.map((t: any) => t.name), ['lookup_context', 'end_call']);
    assert.ok(call.transcript.some((t: any) => t.speaker === 'agent' && /XJ-4471-209/.test(t.text)));
  });
});

test('lookup_context that finds nothing tells the model to defer; a call without a client is not offered the tool', async () => {
  await withStack({ script: () => CALLEE, conversation: () => lookupConversation('passport number', "I'll check with Raju Kumar and get back to you.") }, async (stack) => {
    await upload(stack, 'raju', 'pets.md', 'The dog is called Biscuit.');
    const id = await stack.placeCall({ instructions: 'Call the clinic to confirm the appointment on Friday.' });
    await stack.waitForEnd(id, 30_000);
    const [output] = functionOutputs(stack);
    assert.match(output!, /Nothing in the documents matches "passport number"\. Do not guess/);
    const lookup = (await timeline(stack, id)).find((e) => e.type === 'knowledge.lookup')!;
    assert.deepEqual(lookup.data.results, []);

    const noClient = await stack.placeCall({ clientId: undefined, instructions: 'Ask if the shop is open.' });
    await stack.waitForEnd(noClient, 30_000);
    const tools = (stack.openai.sessions[1]!.config.tools as any[]).map((t) => t.name);
    assert.ok(tools.includes('end_call') && !tools.includes('lookup_context'));
  });
});
