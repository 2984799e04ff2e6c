/**
 * Runs in a worker thread: parsing a large PDF or DOCX is CPU work that would otherwise hold up the
 * event loop that live calls' audio runs on.
 */
import { parentPort } from 'node:worker_threads';
import { chunkPages, type ChunkOptions } from './chunk.js';
import { parseDocument, ParseError } from './parse/index.js';
import type { DocumentKind } from './sniff.js';

export interface ExtractRequest {
  id: number;
  kind: DocumentKind;
  bytes: Uint8Array;
  chunking: ChunkOptions;
}

export type ExtractResponse =
  | { id: number; ok: true; chunks: ReturnType<typeof chunkPages>; pageCount?: number }
  | { id: number; ok: false; error: string; parseError: boolean };

parentPort?.on('message', async (r: ExtractRequest) => {
  let res: ExtractResponse;
  try {
    const parsed = await parseDocument(r.kind, r.bytes);
    res = { id: r.id, ok: true, chunks: chunkPages(parsed.pages, r.chunking), pageCount: parsed.pageCount };
  } catch (err) {
    res = { id: r.id, ok: false, error: (err as Error).message, parseError: err instanceof ParseError };
  }
  parentPort!.postMessage(res);
});
