import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument, ParseError } from '../../src/knowledge/parse/index.js';
import { kindFromName, sniffMismatch } from '../../src/knowledge/sniff.js';
import { makeDocx, makePdf } from '../fixtures/documents.js';

test('a multi-page PDF is read page by page, with page numbers and paragraph breaks', async () => {
  const pdf = await makePdf([
    ['Blue Shield PPO insurance card', 'Member ID: XJ-4471-209. Group number 88213.'],
    ['Coverage summary', 'The annual deductible is $500 and the specialist copay is $35 per visit.'],
    ['Claims go to PO Box 272540, Chico, CA.'],
  ]);
  assert.equal(sniffMismatch('pdf', pdf), undefined);
  const doc = await parseDocument('pdf', pdf);
  assert.equal(doc.pageCount, 3);
  assert.deepEqual(doc.pages.map((p) => p.page), [1, 2, 3]);
  assert.match(doc.pages[0]!.text, /Member ID: XJ-4471-209/);
  assert.match(doc.pages[1]!.text, /specialist copay is \$35/);
  assert.doesNotMatch(doc.pages[0]!.text, /deductible/);
  assert.match(doc.pages[0]!.text, /insurance card\n\nMember ID/, 'paragraph gap becomes a blank line');
});

test('a long PDF paragraph wraps over lines but stays one paragraph', async () => {
  const long = 'The pharmacy on Elm Street fills the lisinopril prescription every thirty days and calls when it is ready for pickup, usually in the afternoon.';
  const doc = await parseDocument('pdf', await makePdf([[long]]));
  assert.equal(doc.pages[0]!.text.replace(/\n/g, ' '), long);
  assert.doesNotMatch(doc.pages[0]!.text, /\n\n/);
});

test('a DOCX keeps headings, paragraphs and tables (rows labelled by the header row)', async () => {
  const docx = await makeDocx([
    { heading: 'Medications' },
    { paragraph: 'Taken every morning with water.' },
    { table: [['Medication', 'Dose', 'Prescriber'], ['Lisinopril', '10 mg', 'Dr. Patel'], ['Metformin', '500 mg', 'Dr. Okafor']] },
    { paragraph: 'Allergic to penicillin.' },
  ]);
  assert.equal(sniffMismatch('docx', docx), undefined);
  const doc = await parseDocument('docx', docx);
  assert.equal(doc.pages.length, 1);
  assert.equal(doc.pages[0]!.page, null);
  const text = doc.pages[0]!.text;
  assert.match(text, /^Medications\n\nTaken every morning with water\./);
  assert.match(text, /Medication: Lisinopril \| Dose: 10 mg \| Prescriber: Dr\. Patel/);
  assert.match(text, /Medication: Metformin \| Dose: 500 mg \| Prescriber: Dr\. Okafor/);
  assert.match(text, /Allergic to penicillin\.$/);
});

test('Markdown becomes plain text: headings kept, markup dropped, tables as rows', async () => {
  const md = '\ufeff# Orders\n\nOrder **#4471** from [Acme](https://acme.example) shipped `March 3`.\n\n- Item: desk lamp\n- Status: delivered\n\n| Order | Total |\n|---|---|\n| 4471 | $42.10 |\n';
  const doc = await parseDocument('markdown', Buffer.from(md));
  assert.equal(doc.pages[0]!.text, 'Orders\n\nOrder #4471 from Acme shipped March 3.\n\n- Item: desk lamp\n- Status: delivered\n\nOrder: 4471 | Total: $42.10');
});

test('text files: UTF-8 with a BOM and CRLF line endings', async () => {
  const doc = await parseDocument('text', Buffer.from('\ufeffCafé hours\r\nOpen at 9.\r\n'));
  assert.equal(doc.pages[0]!.text, 'Café hours\nOpen at 9.\n');
});

test('sniffing: the bytes must be what the extension says', async () => {
  assert.equal(kindFromName('Card.PDF'), 'pdf');
  assert.equal(kindFromName('notes.markdown'), 'markdown');
  assert.equal(kindFromName('photo.jpg'), undefined);
  assert.match(sniffMismatch('pdf', Buffer.from('hello'))!, /not a PDF/);
  assert.match(sniffMismatch('docx', Buffer.from('%PDF-1.7'))!, /not a zip/);
  assert.match(sniffMismatch('text', Buffer.from([0x68, 0x00, 0x69]))!, /NUL/);
  assert.match(sniffMismatch('text', Buffer.from([0xff, 0xfe, 0x41]))!, /UTF-8/);
  assert.match(sniffMismatch('markdown', await makePdf([['x']]))!, /not|NUL/);
  // A zip that is not a Word document.
  const zipNoWord = Buffer.from('UEsDBAoAAAAAAAAAIQAAAAAAAAAAAAAAAAAFAAAAYS50eHRQSwECFAAKAAAAAAAAACEAAAAAAAAAAAAAAAAABQAAAAAAAAAAAAAAAAAAAAAAYS50eHRQSwUGAAAAAAEAAQAzAAAAIwAAAAAA', 'base64');
  assert.match(sniffMismatch('docx', zipNoWord)!, /no word\/document\.xml/);
});

test('a corrupt PDF or DOCX is a ParseError with the reason, not a crash', async () => {
  await assert.rejects(parseDocument('pdf', Buffer.from('%PDF-1.7\nthis is not really a pdf')), (e: Error) => e instanceof ParseError && /cannot read PDF/.test(e.message));
  await assert.rejects(parseDocument('docx', Buffer.from('PK\u0003\u0004 broken')), (e: Error) => e instanceof ParseError && /cannot read DOCX/.test(e.message));
});
