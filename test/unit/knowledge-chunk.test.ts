import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chunkPages, chunkText } from '../../src/knowledge/chunk.js';

const sentence = (i: number) => `Sentence number ${i} talks about topic ${i} in some detail here.`; // ~60 chars

test('short paragraphs are packed together up to the target, cut between paragraphs', () => {
  const paras = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}. ${sentence(i)}`);
  const text = paras.join('\n\n');
  const spans = chunkText(text, { targetChars: 250, overlapChars: 0 });
  assert.ok(spans.length > 1);
  for (const s of spans) {
    const t = text.slice(s.start, s.end);
    assert.ok(t.length <= 250, `chunk of ${t.length}`);
    assert.match(t, /^Paragraph \d+\./, 'starts at a paragraph');
    assert.match(t, /here\.$/, 'ends at a paragraph end');
  }
  // Nothing lost: every paragraph is in some chunk.
  for (const p of paras) assert.ok(spans.some((s) => text.slice(s.start, s.end).includes(p)));
});

test('a long paragraph is cut at sentence boundaries, with whole-sentence overlap', () => {
  const text = Array.from({ length: 20 }, (_, i) => sentence(i)).join(' ');
  const spans = chunkText(text, { targetChars: 300, overlapChars: 130 });
  assert.ok(spans.length >= 4);
  for (const s of spans) {
    const t = text.slice(s.start, s.end);
    assert.ok(t.length <= 300);
    assert.match(t, /^Sentence number \d+/);
    assert.match(t, /here\.$/);
  }
  for (let i = 1; i < spans.length; i++) {
    const overlap = spans[i - 1]!.end - spans[i]!.start;
    assert.ok(overlap > 0 && overlap <= 130, `overlap ${overlap} between chunk ${i - 1} and ${i}`);
  }
});

test('a run-on sentence longer than the target is cut between words', () => {
  const text = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
  const spans = chunkText(text, { targetChars: 100, overlapChars: 0 });
  for (const s of spans) {
    const t = text.slice(s.start, s.end);
    assert.ok(t.length <= 100);
    assert.match(t, /^word\d+( word\d+)*$/, 'whole words only');
  }
  assert.equal(spans.map((s) => text.slice(s.start, s.end)).join(' '), text);
});

test('a heading is not left at the end of a chunk; the chunks under it carry it', () => {
  const body = (n: number) => Array.from({ length: 3 }, (_, i) => sentence(n * 10 + i)).join(' ');
  const text = `Insurance\n\n${body(1)}\n\nPharmacy\n\n${body(2)}\n\n${body(3)}`;
  const spans = chunkText(text, { targetChars: 230, overlapChars: 0 });
  for (const s of spans) assert.doesNotMatch(text.slice(s.start, s.end), /(Insurance|Pharmacy)$/);
  const third = spans.find((s) => text.slice(s.start, s.end).startsWith(body(3).slice(0, 30)));
  assert.equal(third?.heading, 'Pharmacy');
});

test('chunks keep page, position and document offsets; they never cross pages', () => {
  const pages = [
    { page: 1, text: 'Member ID: XJ-4471-209.' },
    { page: 2, text: 'Deductible: $500.\n\nCopay: $35.' },
  ];
  const chunks = chunkPages(pages, { targetChars: 500, overlapChars: 100 });
  assert.deepEqual(
    chunks.map((c) => [c.position, c.page, c.text]),
    [
      [0, 1, 'Member ID: XJ-4471-209.'],
      [1, 2, 'Deductible: $500.\n\nCopay: $35.'],
    ],
  );
  const docText = pages.map((p) => p.text).join('\n\n');
  for (const c of chunks) assert.equal(docText.slice(c.startChar, c.endChar), c.text);
});

test('property: every non-space character of the text is in some chunk, chunks are in order and bounded', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.lorem({ maxCount: 30, mode: 'sentences' }), fc.constant('\n\n'), fc.string({ maxLength: 80 })), { maxLength: 30 }), (parts) => {
      const text = parts.join(' ');
      const spans = chunkText(text, { targetChars: 200, overlapChars: 60 });
      const covered = new Uint8Array(text.length);
      let lastStart = -1;
      for (const s of spans) {
        assert.ok(s.start > lastStart, 'progress');
        lastStart = s.start;
        assert.ok(s.end - s.start <= 200, `length ${s.end - s.start}`);
        covered.fill(1, s.start, s.end);
      }
      for (let i = 0; i < text.length; i++) if (!/\s/.test(text[i]!)) assert.equal(covered[i], 1, `char ${i} not covered`);
    }),
    { numRuns: 300 },
  );
});

test('property: no chunk is contained in its predecessor (overlap never produces a repeat)', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.lorem({ maxCount: 12, mode: 'sentences' }), fc.constant('\n\n')), { maxLength: 40 }), (parts) => {
      const text = parts.join(' ');
      const spans = chunkText(text, { targetChars: 200, overlapChars: 80 });
      for (let i = 1; i < spans.length; i++) assert.ok(spans[i]!.end > spans[i - 1]!.end, `chunk ${i} adds nothing`);
    }),
    { numRuns: 300 },
  );
});
