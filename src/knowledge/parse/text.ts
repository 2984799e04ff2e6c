import { ParseError, type ParsedDocument } from './types.js';

/** Decodes UTF-8 text (a BOM is dropped) and normalises line endings. */
export function decodeText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ParseError('not valid UTF-8 text');
  }
  return text.replace(/\r\n?/g, '\n');
}

export function parseText(bytes: Uint8Array): ParsedDocument {
  return { pages: [{ page: null, text: decodeText(bytes) }] };
}
