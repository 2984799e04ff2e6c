import type { DocumentKind } from '../sniff.js';
import { parseDocx } from './docx.js';
import { parseMarkdown } from './markdown.js';
import { parsePdf } from './pdf.js';
import { parseText } from './text.js';
import type { ParsedDocument } from './types.js';

export { ParseError, type ParsedDocument } from './types.js';

/** Extracts the text of a document of a known (already sniffed) kind. */
export async function parseDocument(kind: DocumentKind, bytes: Uint8Array, limits: { maxPages?: number } = {}): Promise<ParsedDocument> {
  switch (kind) {
    case 'pdf':
      return parsePdf(bytes, limits.maxPages);
    case 'docx':
      return parseDocx(bytes);
    case 'markdown':
      return parseMarkdown(bytes);
    case 'text':
      return parseText(bytes);
  }
}
