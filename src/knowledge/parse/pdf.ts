import { ParseError, type ParsedDocument } from './types.js';

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfjs: Promise<PdfJs> | undefined;

/** pdf.js is large; it is loaded the first time a PDF is parsed, not at start-up. */
function loadPdfJs(): Promise<PdfJs> {
  return (pdfjs ??= import('pdfjs-dist/legacy/build/pdf.mjs'));
}

interface TextItem {
  str: string;
  hasEOL: boolean;
  transform: number[];
  height: number;
}

/**
 * PDF text per page with pdf.js (the legacy build runs on Node 20). Lines come from the text items'
 * positions; a vertical gap larger than a line and a half starts a new paragraph, so the chunker can
 * split where the author did.
 */
export async function parsePdf(bytes: Uint8Array, maxPages = Infinity): Promise<ParsedDocument> {
  const { getDocument } = await loadPdfJs();
  // pdf.js takes ownership of (detaches) the buffer it is given: hand it a copy.
  const task = getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, disableFontFace: true, useSystemFonts: false, verbosity: 0 });
  let doc;
  try {
    doc = await task.promise;
  } catch (err) {
    await task.destroy().catch(() => {});
    throw new ParseError(`cannot read PDF: ${(err as Error).message}`);
  }
  // Checked before any page is read: pages are what fill memory, and the count is in the document's catalog.
  if (doc.numPages > maxPages) {
    await doc.destroy().catch(() => {});
    throw new ParseError(`the PDF has ${doc.numPages} pages, more than the cap of ${maxPages} (PARSER_MAX_PAGES)`);
  }
  try {
    const pages: ParsedDocument['pages'] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      pages.push({ page: n, text: pageText(content.items.filter((i): i is TextItem & typeof i => 'str' in i) as TextItem[]) });
      page.cleanup();
    }
    return { pages, pageCount: doc.numPages };
  } catch (err) {
    throw new ParseError(`cannot read PDF: ${(err as Error).message}`);
  } finally {
    await doc.destroy().catch(() => {});
  }
}

function pageText(items: TextItem[]): string {
  let out = '';
  let lastY: number | undefined;
  let lastHeight = 0;
  for (const item of items) {
    if (!item.str) continue; // pdf.js marks line ends with empty items; lines are found by position below
    const y = item.transform[5]!;
    const height = item.height || Math.abs(item.transform[3]!) || lastHeight;
    if (lastY !== undefined) {
      const lineHeight = Math.max(height, lastHeight);
      const drop = Math.abs(lastY - y);
      if (drop > lineHeight * 1.6) out += '\n\n';
      else if (drop > lineHeight * 0.5) out += '\n';
      else if (!/\s$/.test(out) && !/^\s/.test(item.str)) out += ' ';
    }
    out += item.str;
    lastY = y;
    lastHeight = height;
  }
  return out.replace(/[ \t]+\n/g, '\n').trim();
}
