import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpretAnswer, locate } from '../../src/outcome/extract.js';
import { outcomeSchemaProblem, responseSchema } from '../../src/outcome/schema.js';
import { extractionInput, transcriptLines } from '../../src/outcome/prompt.js';
import { signWebhook } from '../../src/outcome/webhook.js';
import { renderOutcomeText } from '../../src/outcome/payload.js';
import { strictProblem } from '../sim/text-api/server.js';

const entries = [
  { seq: 3, at: '', offsetSec: 0, speaker: 'callee' as const, text: 'Hello, Spice Garden?' },
  { seq: 7, at: '', offsetSec: 1, speaker: 'agent' as const, text: 'One biryani for pickup, and what will it cost?', interrupted: { heardText: 'One biryani for pickup,', heardMs: 900, totalMs: 2000 } },
  { seq: 9, at: '', offsetSec: 3, speaker: 'callee' as const, text: 'That’s   $14.50. Confirmation BX4821.' },
];
const lines = transcriptLines(entries);
const schema = { type: 'object', properties: { price: { type: 'number' }, code: { type: 'string', pattern: '^[A-Z]{2}\\d{4}$' }, date: { type: 'string' } } };

test('an interrupted agent turn counts as what the callee heard; the prompt numbers each line on one line', () => {
  assert.equal(lines[1]!.text, 'One biryani for pickup,');
  const input = extractionInput('Order food', ['price'], lines);
  assert.match(input, /^\[2\] Callee: That’s \$14\.50\. Confirmation BX4821\.$/m);
  assert.doesNotMatch(input, /what will it cost/, 'unheard words are not on the call');
});

test('a quote counts when its line holds it (case, spacing, curly quotes aside); a wrong line is corrected; else none', () => {
  assert.deepEqual(locate(lines, 2, "that's $14.50."), { line: 2, seq: 9, speaker: 'callee', quote: "that's $14.50." });
  assert.equal(locate(lines, 0, 'BX4821')?.line, 2, 'the one line that holds it');
  assert.equal(locate(lines, 2, 'what will it cost'), null, 'unheard words are not a quote');
  assert.equal(locate(lines, 2, 'BX9999'), null);
  assert.equal(locate(lines, 2, ''), null);
  assert.equal(locate(lines, 2, 42), null);
});

test('the answer: facts only with a quote from the transcript; the call schema checks the facts; null stays null', () => {
  const r = interpretAnswer(
    {
      summary: ' Ordered. ',
      goalMet: 'achieved',
      fields: {
        price: { value: 14.5, line: 2, quote: '$14.50' },
        code: { value: 'bx4821', line: 2, quote: 'Confirmation BX4821' },
        date: { value: 'Friday', line: 2, quote: 'on Friday' },
      },
    },
    lines,
    schema,
  );
  assert.equal(r.summary, 'Ordered.');
  assert.equal(r.goalMet, 'achieved');
  assert.deepEqual(r.fields[0], { name: 'price', value: 14.5, citation: { line: 2, seq: 9, speaker: 'callee', quote: '$14.50' } });
  assert.equal(r.fields[1]!.value, 'bx4821');
  assert.deepEqual(r.fields[2], { name: 'date', value: null, citation: null, rejected: { value: 'Friday', line: 2, quote: 'on Friday', reason: 'the quote is not in the transcript' } });
  assert.deepEqual(r.schemaErrors, ['/code must match pattern "^[A-Z]{2}\\d{4}$"']);
  const odd = interpretAnswer({ goalMet: 'surely', fields: { price: { value: { amount: 1 }, line: 2, quote: '$14.50' } } }, lines, schema);
  assert.equal(odd.goalMet, 'unknown');
  assert.equal(odd.summary, null);
  assert.equal(odd.fields[0]!.value, null);
  assert.equal(odd.fields[0]!.rejected?.reason, 'not a string, number or boolean');
  assert.throws(() => interpretAnswer([], lines, schema), /not a JSON object/);
});

test('the response schema is strict-mode compatible (checked by the simulator\'s independent rules)', () => {
  const rs = responseSchema({ type: 'object', properties: { price: { type: 'number', description: 'total' }, size: { enum: ['S', 'M'] }, notes: { type: 'object' } } });
  assert.equal(strictProblem(rs, '(root)'), undefined);
  const f = (rs.properties as any).fields.properties;
  assert.deepEqual(f.price.properties.value, { type: ['number', 'null'], description: 'total' });
  assert.deepEqual(f.size.properties.value, { type: ['string', 'null'], enum: ['S', 'M', null] });
  assert.deepEqual(f.notes.properties.value.type, ['string', 'null'], 'a nested object is asked as text');
  assert.equal(strictProblem({ type: 'object', properties: { a: {} }, required: [] , additionalProperties: false }, '(root)')?.includes("Missing 'a'"), true);
});

test('outcome schemas: JSON Schema of an object with named facts, or a sentence saying what is wrong', () => {
  assert.equal(outcomeSchemaProblem(schema), undefined);
  assert.equal(outcomeSchemaProblem({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { a: { type: ['string', 'null'] } } }), undefined);
  assert.equal(outcomeSchemaProblem(null), 'must be a JSON Schema object');
  assert.match(outcomeSchemaProblem({ type: 'object', properties: { a: { minLength: -1 } } })!, /^is not a JSON Schema: /);
  assert.match(outcomeSchemaProblem({ type: 'object', properties: {} })!, /must list the facts/);
  assert.match(outcomeSchemaProblem({ type: 'object', properties: Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`f${i}`, {}])) })!, /more than 40/);
  assert.match(outcomeSchemaProblem({ type: 'object', properties: { a: { description: 'x'.repeat(20_001) } } })!, /longer than 20000/);
});

test('the signature: HMAC-SHA256 over "<t>.<body>", hex, as t=...,v1=... (a known vector)', () => {
  // Computed independently: printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec-test-0123456789'
  assert.equal(signWebhook('whsec-test-0123456789', '{"a":1}', 1_700_000_000), 't=1700000000,v1=ba8ec7f38c4e076a99176a1bf98ae9f2f3f4e18412b46a5913ddcf5685932c6a');
});

test('the .txt block: pending, not computed, and a computed outcome with quotes', () => {
  const base = { goal: 'Order food', summary: null, goalMet: null, fields: [], webhook: { status: 'not-configured' as const, attempts: 0 } };
  assert.equal(renderOutcomeText(undefined), '');
  assert.match(renderOutcomeText({ ...base, status: 'pending' }), /Not known yet/);
  assert.match(renderOutcomeText({ ...base, status: 'not-computed', reason: 'OUTCOME_PROVIDER is none' }), /Not computed: OUTCOME_PROVIDER is none/);
  const txt = renderOutcomeText({ ...base, status: 'computed', goalMet: 'partly', summary: 'Ordered.', fields: [{ name: 'price', value: 14.5, citation: { line: 2, seq: 9, speaker: 'callee', quote: '$14.50' } }, { name: 'date', value: null, citation: null }] });
  assert.match(txt, /Goal met: partly\n {2}Summary: Ordered\.\n {2}price: 14\.5 {2}\(Callee: "\$14\.50"\)\n {2}date: \(not stated\)/);
});

test('settings: a webhook needs its secret; auto picks the call provider\'s key, else the other, else says why not', async () => {
  const { parseSettings, SettingsError } = await import('../../src/config/settings.js');
  const { outcomeDeps } = await import('../../src/outcome/setup.js');
  const { createExtractor } = await import('../../src/outcome/providers/registry.js');
  assert.throws(() => outcomeDeps(parseSettings({ CALL_WEBHOOK_URL: 'http://127.0.0.1:9/hook' }), undefined as never), (e: unknown) => e instanceof SettingsError && /CALL_WEBHOOK_SECRET: is required/.test(e.message));
  assert.throws(() => parseSettings({ CALL_WEBHOOK_SECRET: 'short' }), /CALL_WEBHOOK_SECRET: must be at least 16/);
  assert.throws(() => parseSettings({ CALL_WEBHOOK_URL: 'ftp://x' }), /CALL_WEBHOOK_URL: must be a URL/);
  const pick = (env: Record<string, string>) => {
    const r = createExtractor(parseSettings(env));
    return 'extractor' in r ? `${r.extractor.provider} ${r.extractor.model}` : r.reason;
  };
  assert.equal(pick({}), 'no text model is configured (set OPENAI_API_KEY or GEMINI_API_KEY)');
  assert.equal(pick({ GEMINI_API_KEY: 'g' }), 'gemini gemini-3.8-flash');
  assert.equal(pick({ GEMINI_API_KEY: 'g', OPENAI_API_KEY: 'o' }), 'openai gpt-5.4-mini');
  assert.equal(pick({ GEMINI_API_KEY: 'g', OPENAI_API_KEY: 'o', AI_PROVIDER: 'gemini' }), 'gemini gemini-3.8-flash');
  assert.equal(pick({ OPENAI_API_KEY: 'o', OUTCOME_MODEL: 'gpt-5.5' }), 'openai gpt-5.5');
  assert.equal(pick({ OPENAI_API_KEY: 'o', OUTCOME_PROVIDER: 'none' }), 'OUTCOME_PROVIDER is none');
  assert.equal(pick({ OPENAI_API_KEY: 'o', OUTCOME_PROVIDER: 'gemini' }), 'OUTCOME_PROVIDER is gemini but GEMINI_API_KEY is not set');
  // The cascade keeps calls off cloud models: its own LLM extracts the outcome even when a cloud key is set.
  assert.equal(pick({ AI_PROVIDER: 'cascade' }), 'llm qwen3:8b');
  assert.equal(pick({ AI_PROVIDER: 'cascade', OPENAI_API_KEY: 'o', GEMINI_API_KEY: 'g', LLM_MODEL: 'llama3.2' }), 'llm llama3.2');
  assert.equal(pick({ AI_PROVIDER: 'cascade', OPENAI_API_KEY: 'o', OUTCOME_PROVIDER: 'openai' }), 'openai gpt-5.4-mini');
  assert.equal(pick({ OPENAI_API_KEY: 'o', OUTCOME_PROVIDER: 'llm', OUTCOME_MODEL: 'qwen3:14b' }), 'llm qwen3:14b');
  assert.throws(() => parseSettings({ OUTCOME_PROVIDER: 'ollama' }), /OUTCOME_PROVIDER/);
});

test('a runbook whose outcome is not JSON Schema is invalid, the problem named by line and field', async () => {
  const { parseRunbook } = await import('../../src/runbooks/parse-runbook.js');
  const text = '---\ntitle: Order\ngoal: Order food\noutcome:\n  type: object\n  properties:\n    price:\n      type: money\n---\nOrder food.\n';
  const r = parseRunbook('order', 'order.md', text);
  assert.equal(r.ok, false);
  const p = (r as { problems: Array<{ line?: number; field?: string; message: string }> }).problems;
  assert.equal(p.length, 1);
  assert.equal(p[0]!.field, 'outcome');
  assert.equal(p[0]!.line, 5);
  assert.match(p[0]!.message, /^is not a JSON Schema: .*type/);
});
