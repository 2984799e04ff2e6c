import { open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { MultipartFile } from '@fastify/multipart';
import { safeUploadName } from '../knowledge/client-files.js';
import { KnowledgeError } from '../knowledge/index.js';
import { kindFromName, type DocumentKind } from '../knowledge/sniff.js';
import { findCentralDirectory, parseCentralDirectory, ZIP_TAIL_BYTES } from '../knowledge/zip-entries.js';

export type UploadOutcome = { ok: true; name: string } | { ok: false; file: string; error: string; status: number };

/**
 * Stores one uploaded file part in `dir` without ever holding it whole: the part is streamed to a hidden
 * temp file in the same folder, its type is checked on the bytes as they pass, and it is renamed into
 * place only when complete and of the claimed type. Past `maxBytes` busboy stops delivering the part
 * (and discards the rest of it); the temp file is deleted and the file is refused with a 413 naming it.
 */
export async function storeUploadPart(part: MultipartFile, dir: string, maxBytes: number): Promise<UploadOutcome> {
  const refuse = async (status: number, error: string): Promise<UploadOutcome> => {
    part.file.resume(); // the rest of this part is read and dropped, so the next part can be reached
    return { ok: false, file: part.filename, error, status };
  };
  if (part.fieldname !== 'file') return refuse(400, `${part.filename}: files go in fields named "file", not "${part.fieldname}"`);
  let name: string;
  try {
    name = safeUploadName(part.filename);
  } catch (err) {
    if (err instanceof KnowledgeError) return refuse(err.status, err.message);
    throw err;
  }
  const sniffer = new StreamSniffer(kindFromName(name)!);
  const tmp = join(dir, `.upload-${randomBytes(6).toString('hex')}.tmp`);
  const out = await open(tmp, 'wx', 0o600);
  let moved = false;
  try {
    for await (const chunk of part.file) {
      sniffer.push(chunk as Buffer);
      await out.write(chunk as Buffer);
    }
    await out.close();
    if (part.file.truncated) return { ok: false, file: part.filename, error: `${part.filename} is larger than the upload limit of ${formatBytes(maxBytes)} (UPLOAD_MAX_BYTES)`, status: 413 };
    const problem = sniffer.end() ?? (sniffer.kind === 'docx' ? await docxDirectoryProblem(tmp) : undefined);
    if (problem) return { ok: false, file: part.filename, error: `${name}: ${problem}`, status: 415 };
    await rename(tmp, join(dir, name));
    moved = true;
    return { ok: true, name };
  } finally {
    await out.close().catch(() => {});
    if (!moved) await rm(tmp, { force: true });
  }
}

/**
 * Content sniffing on a stream (the same rules as sniff.ts, which needs the whole file): PDF by the
 * `%PDF-` header in the first KB, DOCX by the zip signature (its central directory is read from the
 * stored file afterwards), text by the absence of NUL bytes and valid UTF-8, decoded incrementally.
 */
class StreamSniffer {
  private head = Buffer.alloc(0);
  private problem: string | undefined;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(readonly kind: DocumentKind) {}

  push(chunk: Buffer): void {
    if (this.problem) return;
    if (this.head.length < 1024) this.head = Buffer.concat([this.head, chunk.subarray(0, 1024 - this.head.length)]);
    if (this.kind === 'markdown' || this.kind === 'text') {
      if (chunk.includes(0)) this.problem = 'not text (contains NUL bytes)';
      else {
        try {
          this.utf8.decode(chunk, { stream: true });
        } catch {
          this.problem = 'not UTF-8 text';
        }
      }
    }
  }

  end(): string | undefined {
    if (this.problem) return this.problem;
    switch (this.kind) {
      case 'pdf':
        return this.head.toString('latin1').includes('%PDF-') ? undefined : 'not a PDF (no %PDF- header)';
      case 'docx':
        return this.head.length >= 4 && this.head.readUInt32LE(0) === 0x04034b50 ? undefined : 'not a DOCX (not a zip archive)';
      default:
        try {
          this.utf8.decode(); // a sequence cut off at the end
          return undefined;
        } catch {
          return 'not UTF-8 text';
        }
    }
  }
}

/** A DOCX must have word/document.xml: read from the zip's central directory, at the end of the stored file. */
async function docxDirectoryProblem(file: string): Promise<string | undefined> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const tailLen = Math.min(size, ZIP_TAIL_BYTES);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, size - tailLen);
    const cd = findCentralDirectory(tail, size);
    if (!cd || cd.size > 64 * 1024 * 1024) return 'not a DOCX (not a zip archive)';
    const dir = Buffer.alloc(cd.size);
    await fh.read(dir, 0, cd.size, cd.offset);
    const entries = parseCentralDirectory(dir, cd.count);
    if (!entries) return 'not a DOCX (not a zip archive)';
    if (!entries.some((e) => e.name === 'word/document.xml')) return 'not a DOCX (the zip has no word/document.xml)';
    return undefined;
  } finally {
    await fh.close();
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KB`;
  return `${n} bytes`;
}
