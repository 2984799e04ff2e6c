import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSharing, ruleFor, withRule } from '../../src/knowledge/sharing.js';

test('sharing.txt: rules per file, a default, comments; the profile keeps its own default', () => {
  const r = parseSharing('# rules\n\ndefault: never\nInsurance Card.pdf: always\nnotes: 2024.md: when-asked-and-relevant\r\n');
  assert.deepEqual(r.errors, []);
  assert.equal(ruleFor(r, 'insurance card.PDF', false), 'always', 'file names compare case-insensitively');
  assert.equal(ruleFor(r, 'notes: 2024.md', false), 'when-asked-and-relevant', 'the last colon separates');
  assert.equal(ruleFor(r, 'other.md', false), 'never', 'the default applies to unlisted documents');
  assert.equal(ruleFor(r, 'profile.txt', true), 'always', 'the profile is not under the documents default');
  const empty = parseSharing('');
  assert.equal(ruleFor(empty, 'x.md', false), 'when-asked-and-relevant');
  assert.equal(ruleFor(empty, 'profile.txt', true), 'always');
});

test('sharing.txt: each line that cannot be read is reported by number and shares nothing', () => {
  const r = parseSharing('a.md: alwys\nno rule here\nb.md: always\nb.md: never\ndefault: sometimes\n../c.md: always\n: always\n');
  assert.deepEqual(r.errors.map((e) => e.line), [1, 2, 4, 5, 6, 7]);
  assert.match(r.errors[0]!.error, /a\.md: "alwys" must be one of always, when-asked-and-relevant, never/);
  assert.match(r.errors[1]!.error, /expected "<file>: <rule>"/);
  assert.match(r.errors[2]!.error, /listed twice/);
  assert.equal(ruleFor(r, 'a.md', false), 'never', 'a typo fails closed');
  assert.equal(ruleFor(r, 'b.md', false), 'never', 'a file listed twice fails closed');
  assert.equal(ruleFor(r, 'z.md', false), 'never', 'an unreadable default fails closed');
});

test('withRule replaces the file\'s line in place, keeps the rest, or appends one', () => {
  const text = '# keep me\nA.md: never\nb.md: always\n';
  assert.equal(withRule(text, 'a.md', 'always'), '# keep me\na.md: always\nb.md: always\n');
  assert.equal(withRule(text, 'c.md', 'never'), '# keep me\nA.md: never\nb.md: always\nc.md: never\n');
  const fresh = withRule('', 'x.pdf', 'never');
  assert.match(fresh, /^# .*\nx\.pdf: never\n$/);
  assert.equal(ruleFor(parseSharing(fresh), 'x.pdf', false), 'never');
});
