import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { parseRunbook } from '../../src/runbooks/parse-runbook.js';
import { expandRunbook } from '../../src/runbooks/expand-runbook.js';
import { CallRequestError } from '../../src/calls/call-request.js';
import { ENGINE_NAMES } from '../../src/voice/engine-names.js';

const GOOD = `---
title: Order food
goal: Order {{order}} for {{name}}.
variables:
  order:
    description: What to order
  name:
    description: The name for the order
facts:
  - the usual order
mayNot:
  - add items
---

Order {{order}}. The name is {{name}}.
`;

function problems(text: string, file = 'x.md') {
  const r = parseRunbook('x', file, text);
  assert.equal(r.ok, false, 'should be refused');
  return (r as { problems: Array<{ line?: number; field?: string; message: string }> }).problems;
}

test('the shipped runbooks parse, and every one has a goal, instructions and an outcome schema', () => {
  const files = readdirSync('runbooks').filter((f) => f.endsWith('.md') && f !== 'README.md');
  assert.deepEqual(files.sort(), ['book-appointment.md', 'cancel-subscription.md', 'order-food-pickup.md']);
  for (const f of files) {
    const r = parseRunbook(f.replace(/\.md$/, ''), f, readFileSync(`runbooks/${f}`, 'utf8'));
    assert.ok(r.ok, `${f}: ${JSON.stringify(!r.ok && r.problems)}`);
    assert.ok(r.runbook.body.length > 50 && r.runbook.goal && r.runbook.outcome, f);
  }
});

test('a runbook is filled in with the call variables: goal, instructions, facts and rules', () => {
  const r = parseRunbook('order', 'order.md', GOOD);
  assert.ok(r.ok);
  const call = expandRunbook(r.runbook, { variables: { order: 'one chicken biryani', name: 'Raju' }, instructions: 'Pickup at 7.' });
  assert.equal(call.goal, 'Order one chicken biryani for Raju.');
  const text = String(call.instructions);
  assert.match(text, /^Goal: Order one chicken biryani for Raju\.\n\nOrder one chicken biryani\. The name is Raju\./);
  assert.match(text, /Facts you need.*\n- the usual order/);
  assert.match(text, /must not agree to.*\n- add items/);
  assert.match(text, /Notes for this call:\nPickup at 7\.$/);
  assert.doesNotMatch(text, /\{\{/);
});

test('a call from a runbook names a missing or unknown variable', () => {
  const r = parseRunbook('order', 'order.md', GOOD);
  assert.ok(r.ok);
  const refused = (variables: Record<string, unknown>) => {
    try {
      expandRunbook(r.runbook, { variables });
    } catch (err) {
      assert.ok(err instanceof CallRequestError);
      assert.equal(err.status, 400);
      assert.equal(err.field, 'variables');
      return err.message;
    }
    assert.fail('accepted');
  };
  assert.match(refused({ order: 'x' }), /^variables\.name: is required \(The name for the order\)/);
  assert.match(refused({ order: 'x', name: 'y', table: '4' }), /^variables\.table: the runbook "order" has no such variable/);
  assert.match(refused({ order: { a: 1 }, name: 'y' }), /^variables\.order: must be a string/);
});

test('an invalid runbook file: each problem names its line and field', () => {
  assert.deepEqual(problems('title: x\n'), [{ line: 1, message: 'a runbook starts with a front-matter block: a line "---", the YAML fields, and another "---"' }]);
  // YAML syntax: line 3 of the file (the front matter starts on line 2)
  assert.equal(problems('---\ntitle: x\ngoal: [unclosed\n---\nbody\n')[0].line, 3);
  const unknown = problems('---\ntitle: x\ngoal: y\nmaybe: 1\n---\nbody\n');
  assert.deepEqual(unknown, [{ line: 4, message: 'unknown field maybe' }]);
  const missing = problems('---\ntitle: x\n---\nbody\n');
  assert.equal(missing[0].field, 'goal');
  const badVar = problems('---\ntitle: x\ngoal: y\nvariables:\n  who:\n    required: true\n---\nbody\n');
  assert.deepEqual(badVar.map((p) => [p.line, p.field]), [[6, 'variables.who.description']]);
  const placeholder = problems('---\ntitle: x\ngoal: y\n---\n\nline one\nCall {{whom}} now.\n');
  assert.deepEqual(placeholder.map((p) => [p.line, p.message]), [[7, '{{whom}} is not one of the runbook\'s variables (none declared)']]);
  const dtmf = problems('---\ntitle: x\ngoal: y\ndtmf: 12x\n---\nbody\n');
  assert.deepEqual(dtmf.map((p) => [p.line, p.field]), [[4, 'dtmf']]);
  const outcome = problems('---\ntitle: x\ngoal: y\noutcome: not a schema\n---\nbody\n');
  assert.deepEqual(outcome.map((p) => [p.line, p.field]), [[4, 'outcome']]);
  const noBody = problems('---\ntitle: x\ngoal: y\n---\n\n');
  assert.match(noBody[0].message, /no instructions/);
});

test('a YAML runbook holds its instructions in a field', () => {
  const r = parseRunbook('y', 'y.yaml', 'title: x\ngoal: y\ninstructions: |\n  Say hello.\n');
  assert.ok(r.ok);
  assert.equal(r.runbook.body, 'Say hello.');
  const bad = problems('title: x\ngoal: y\ninstructions: 3\n', 'y.yaml');
  assert.deepEqual(bad.map((p) => [p.line, p.field]), [[3, 'instructions']]);
});

test("a runbook's provider is any engine this build has (the registry's names), and only those", () => {
  for (const engine of ENGINE_NAMES) {
    const r = parseRunbook('p', 'p.yaml', `title: x\ngoal: y\nprovider: ${engine}\ninstructions: Say hello.\n`);
    assert.ok(r.ok, engine);
    assert.equal(r.runbook.provider, engine);
  }
  assert.deepEqual(problems('title: x\ngoal: y\nprovider: siri\ninstructions: Say hello.\n', 'p.yaml').map((p) => [p.line, p.field]), [[3, 'provider']]);
});
