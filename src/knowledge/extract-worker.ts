/**
 * Runs in a child process (see extractor.ts): parsing a large PDF or DOCX is CPU work that would
 * otherwise hold up the event loop that live calls' audio runs on, and memory that must not be the
 * server's. The process runs with a heap limit; the checks that can be made before parsing (declared
 * DOCX sizes, page count) are made here, so a zip bomb or a huge PDF fails with a reason, and one that
 * gets past them still only takes this process down.
 */
import { chunkPages, type ChunkOptions } from './chunk.js';
import { parseDocument, ParseError } from './parse/index.js';
import type { DocumentKind } from './sniff.js';
import { docxInflationProblem, zipEntries } from './zip-entries.js';

export interface ExtractRequest {
  id: number;
  kind: DocumentKind;
  bytes: Uint8Array;
  chunking: ChunkOptions;
  maxPages: number;
  maxUncompressedBytes: number;
}

export type ExtractResponse =
  | { id: number; ok: true; chunks: ReturnType<typeof chunkPages>; pageCount?: number }
  | { id: number; ok: false; error: string; parseError: boolean };

/** Parses one document within the caps; what the worker (or the in-process fallback) runs. */
export async function extractWithin(r: Omit<ExtractRequest, 'id'>): Promise<{ chunks: ReturnType<typeof chunkPages>; pageCount?: number }> {
  if (r.kind === 'docx') {
    const entries = zipEntries(r.bytes);
    if (!entries) throw new ParseError('cannot read DOCX: not a readable zip archive');
    const problem = docxInflationProblem(entries, r.maxUncompressedBytes);
    if (problem) throw new ParseError(problem);
  }
  const parsed = await parseDocument(r.kind, r.bytes, { maxPages: r.maxPages });
  return { chunks: chunkPages(parsed.pages, r.chunking), pageCount: parsed.pageCount };
}

/** Set by the extractor in the child's environment: imported anywhere else, this module only exports. */
export const PARSER_CHILD_ENV = 'CALLWRIGHT_PARSER_CHILD';

if (process.env[PARSER_CHILD_ENV] === '1' && process.send) {
  process.on('message', async (r: ExtractRequest) => {
    let res: ExtractResponse;
    try {
      res = { id: r.id, ok: true, ...(await extractWithin(r)) };
    } catch (err) {
      res = { id: r.id, ok: false, error: (err as Error).message, parseError: err instanceof ParseError };
    }
    process.send!(res);
  });
}
