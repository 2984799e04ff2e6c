import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { csvField, csvLine, CsvError, parseCsv } from '../../src/campaigns/csv.js';

const fields = (text: string) => parseCsv(text).map((r) => r.fields);

test('RFC 4180: quoted commas, doubled quotes, line breaks in quotes, CRLF and LF, a BOM, blank lines skipped, lines counted', () => {
  const text = '\ufeffphone,name,note\r\n+14155550151,"Lee, Jr.","said ""hi""\nthen left"\r\n\r\n+14155550152,Bob,\n';
  assert.deepEqual(parseCsv(text), [
    { line: 1, fields: ['phone', 'name', 'note'] },
    { line: 2, fields: ['+14155550151', 'Lee, Jr.', 'said "hi"\nthen left'] },
    { line: 5, fields: ['+14155550152', 'Bob', ''] },
  ]);
  assert.deepEqual(fields('a,b'), [['a', 'b']], 'no newline at the end');
  assert.deepEqual(fields('a\n""\nb\n'), [['a'], ['b']], 'a record of one empty field is a blank line');
});

test('malformed CSV names the line', () => {
  assert.throws(() => parseCsv('a,b\n1,"open\n2,3\n'), (e: unknown) => e instanceof CsvError && e.line === 2 && /not closed/.test(e.message));
  assert.throws(() => parseCsv('a\n"x"y\n'), /line 2: text after a closing quote/);
  assert.throws(() => parseCsv('a\nx"y\n'), /line 2: a quote inside an unquoted field/);
});

test('what csvLine writes, parseCsv reads back unchanged; a formula-like cell is kept as text', () => {
  const cell = fc.string({ unit: fc.constantFrom('a', 'B', ' ', ',', '"', '\n', '\r\n', '1', 'é') }).filter((s) => !/^[=+\-@\t\r]/.test(s));
  fc.assert(
    fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 5 }), (rows) => {
      const text = rows.map((r) => csvLine(r)).join('');
      assert.deepEqual(fields(text), rows);
    }),
  );
  assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvField('+14155550151'), '+14155550151', 'a phone number stays a number');
  assert.equal(csvField('-5'), '-5');
});
