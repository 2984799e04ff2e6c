import mammoth from 'mammoth';
import { decodeEntities } from './html-text.js';
import { tableToText } from './table.js';
import { ParseError, type ParsedDocument } from './types.js';

/**
 * DOCX via mammoth (the document's own structure as simple HTML), then that HTML to text: one block per
 * paragraph, heading or list item, and tables as one readable line per row.
 */
export async function parseDocx(bytes: Uint8Array): Promise<ParsedDocument> {
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) })).value;
  } catch (err) {
    throw new ParseError(`cannot read DOCX: ${(err as Error).message}`);
  }
  return { pages: [{ page: null, text: mammothHtmlToText(html) }] };
}

interface TableState {
  rows: string[][];
  headerRow: boolean;
  row?: string[];
  rowAllHeader: boolean;
  cell?: string;
}

const BLOCK = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'li']);

/** Mammoth's HTML is regular (it escapes all text), so a tag/text scan is exact for it. */
export function mammothHtmlToText(html: string): string {
  const blocks: string[] = [];
  const tables: TableState[] = [];
  let current = '';
  const flush = () => {
    const t = current.replace(/[ \t]+/g, ' ').trim();
    if (t) blocks.push(t);
    current = '';
  };
  const cellOf = () => {
    const t = tables.at(-1);
    return t && t.cell !== undefined ? t : undefined;
  };
  const append = (s: string) => {
    const t = cellOf();
    if (t) t.cell += s;
    else current += s;
  };

  for (const m of html.matchAll(/<(\/?)([a-zA-Z0-9]+)[^>]*>|([^<]+)/g)) {
    const [, closing, rawName, text] = m;
    if (text !== undefined) {
      append(decodeEntities(text));
      continue;
    }
    const name = rawName!.toLowerCase();
    const t = tables.at(-1);
    if (name === 'table') {
      if (!closing) {
        if (!cellOf()) flush();
        tables.push({ rows: [], headerRow: false, rowAllHeader: true });
      } else if (t) {
        tables.pop();
        const header = t.headerRow ? t.rows[0] : undefined;
        const text = tableToText(header, header ? t.rows.slice(1) : t.rows);
        if (cellOf()) append(` ${text} `);
        else if (text) blocks.push(text);
      }
    } else if (name === 'tr' && t) {
      if (!closing) {
        t.row = [];
        t.rowAllHeader = true;
      } else if (t.row) {
        if (t.rows.length === 0 && t.rowAllHeader && t.row.length) t.headerRow = true;
        t.rows.push(t.row);
        t.row = undefined;
      }
    } else if ((name === 'td' || name === 'th') && t) {
      if (!closing) {
        t.cell = '';
        if (name === 'td') t.rowAllHeader = false;
      } else if (t.cell !== undefined) {
        (t.row ??= []).push(t.cell);
        t.cell = undefined;
      }
    } else if (name === 'br') {
      append(cellOf() ? ' ' : '\n');
    } else if (BLOCK.has(name)) {
      if (cellOf()) append(' ');
      else if (closing) flush();
      else {
        flush();
        if (name === 'li') current = '- ';
      }
    }
  }
  flush();
  return blocks.join('\n\n');
}
