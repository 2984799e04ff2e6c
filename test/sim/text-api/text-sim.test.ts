import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { GoogleGenAI } from '@google/genai';
import { startTextSim } from './index.js';

const KEYS = { openaiKey: 'sk-test-text', geminiKey: 'gm-test-text' };
const PROMPT = ['Goal of the call: book a table', '', 'Transcript:', '[0] Agent: A table for two on Friday, please.', '[1] Callee: Booked for Friday at 8 pm, reference TB2231, deposit $20.'].join('\n');
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['summary', 'goalMet', 'fields'],
  properties: {
    summary: { type: 'string' },
    goalMet: { type: 'string', enum: ['achieved', 'partly', 'not-achieved', 'unknown'] },
    fields: {
      type: 'object',
      additionalProperties: false,
      required: ['bookingReference', 'deposit', 'bookingTime', 'bookingDate', 'notes'],
      properties: Object.fromEntries(
        (['bookingReference', 'deposit', 'bookingTime', 'bookingDate', 'notes'] as const).map((n) => [
          n,
          { type: 'object', additionalProperties: false, required: ['value', 'line', 'quote'], properties: { value: { type: [n === 'deposit' ? 'number' : 'string', 'null'] }, line: { type: ['integer', 'null'] }, quote: { type: ['string', 'null'] } } },
        ]),
      ),
    },
  },
};

function checkAnswer(text: string): void {
  const a = JSON.parse(text);
  assert.equal(a.goalMet, 'partly', 'notes has no rule, so one fact stays null');
  assert.deepEqual(a.fields.bookingReference, { value: 'TB2231', line: 1, quote: 'Booked for Friday at 8 pm, reference TB2231, deposit $20.' });
  assert.equal(a.fields.deposit.value, 20);
  assert.equal(a.fields.bookingTime.value, '8 pm');
  assert.equal(a.fields.bookingDate.value, 'Friday');
  assert.deepEqual(a.fields.notes, { value: null, line: null, quote: null });
}

test('OpenAI SDK: Responses with text.format json_schema strict, and Chat Completions with response_format', async () => {
  const sim = await startTextSim(KEYS);
  try {
    const client = new OpenAI({ apiKey: KEYS.openaiKey, baseURL: sim.openaiBaseUrl, maxRetries: 0 });
    const r = await client.responses.create({ model: 'gpt-5.4-mini', instructions: 'Report the outcome.', input: PROMPT, text: { format: { type: 'json_schema', name: 'call_outcome', schema: SCHEMA, strict: true } }, store: false });
    assert.equal(r.status, 'completed');
    checkAnswer(r.output_text);
    assert.ok((r.usage?.input_tokens ?? 0) > 0);
    assert.deepEqual(sim.requests[0]!.schema, SCHEMA);
    assert.equal(sim.requests[0]!.strict, true);

    const c = await client.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'system', content: 'Report the outcome.' }, { role: 'user', content: PROMPT }], response_format: { type: 'json_schema', json_schema: { name: 'call_outcome', schema: SCHEMA, strict: true } } });
    assert.equal(c.choices[0]!.finish_reason, 'stop');
    checkAnswer(c.choices[0]!.message.content!);
    assert.equal(sim.requests[1]!.api, 'chat-completions');
  } finally {
    await sim.close();
  }
});

test('OpenAI: strict mode refuses an open object or a missing required key, as the API does; wrong key 401; unknown model 404', async () => {
  const sim = await startTextSim(KEYS);
  try {
    const client = new OpenAI({ apiKey: KEYS.openaiKey, baseURL: sim.openaiBaseUrl, maxRetries: 0 });
    const ask = (schema: Record<string, unknown>, model = 'gpt-5.4-mini') => client.responses.create({ model, input: PROMPT, text: { format: { type: 'json_schema', name: 'x', schema, strict: true } } });
    await assert.rejects(ask({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }), (e: any) => e.status === 400 && /additionalProperties/.test(e.message));
    await assert.rejects(ask({ type: 'object', properties: { a: { type: 'string' } }, required: [], additionalProperties: false }), (e: any) => e.status === 400 && /Missing 'a'/.test(e.message));
    await assert.rejects(ask(SCHEMA, 'gpt-0'), (e: any) => e.status === 404);
    const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: sim.openaiBaseUrl, maxRetries: 0 });
    await assert.rejects(bad.responses.create({ model: 'gpt-5.4-mini', input: PROMPT, text: { format: { type: 'json_schema', name: 'x', schema: SCHEMA, strict: true } } }), (e: any) => e.status === 401);
    sim.setFailure({ status: 503, message: 'overloaded' });
    await assert.rejects(ask(SCHEMA), (e: any) => e.status === 503);
    assert.equal(sim.requests.length, 0, 'refused requests are not answered');
  } finally {
    await sim.close();
  }
});

test('Gemini SDK: generateContent with responseJsonSchema and a system instruction', async () => {
  const sim = await startTextSim(KEYS);
  try {
    const ai = new GoogleGenAI({ apiKey: KEYS.geminiKey, httpOptions: { baseUrl: sim.geminiBaseUrl } });
    const r = await ai.models.generateContent({ model: 'gemini-3.8-flash', contents: [{ role: 'user', parts: [{ text: PROMPT }] }], config: { systemInstruction: 'Report the outcome.', responseMimeType: 'application/json', responseJsonSchema: SCHEMA } });
    checkAnswer(r.text!);
    assert.deepEqual(sim.requests[0]!.schema, SCHEMA, 'the schema arrives as JSON Schema, unconverted');
    assert.match(sim.requests[0]!.prompt, /^Report the outcome\./, 'the system instruction reached the model');
    await assert.rejects(ai.models.generateContent({ model: 'gemini-3.8-flash', contents: PROMPT, config: { responseJsonSchema: SCHEMA } }), /response_mime_type/);
    const bad = new GoogleGenAI({ apiKey: 'wrong', httpOptions: { baseUrl: sim.geminiBaseUrl } });
    await assert.rejects(bad.models.generateContent({ model: 'gemini-3.8-flash', contents: PROMPT, config: { responseMimeType: 'application/json', responseJsonSchema: SCHEMA } }), /API key not valid/);
  } finally {
    await sim.close();
  }
});
