/**
 * Content sniffing: the bytes must be what the file name says. Pure functions over the bytes; no
 * parser runs on a file that fails here.
 */

export type DocumentKind = 'pdf' | 'docx' | 'markdown' | 'text';

const KIND_BY_EXTENSION: Record<string, DocumentKind> = { '.pdf': 'pdf', '.docx': 'docx', '.md': 'markdown', '.markdown': 'markdown', '.txt': 'text' };

export const INDEXED_EXTENSIONS = Object.keys(KIND_BY_EXTENSION);

/** The kind a file name claims by its extension, or undefined when it is not a format we index. */
export function kindFromName(file: string): DocumentKind | undefined {
  const dot = file.lastIndexOf('.');
  return dot < 0 ? undefined : KIND_BY_EXTENSION[file.slice(dot).toLowerCase()];
}

/** Why the bytes are not a `kind` file, or undefined when they are. */
export function sniffMismatch(kind: DocumentKind, bytes: Uint8Array): string | undefined {
  switch (kind) {
    case 'pdf':
      return isPdf(bytes) ? undefined : 'not a PDF (no %PDF- header)';
    case 'docx':
      return docxProblem(bytes);
    case 'markdown':
    case 'text':
      return textProblem(bytes);
  }
}

function isPdf(bytes: Uint8Array): boolean {
  // The header may follow a little junk (some producers prepend bytes); readers accept it in the first 1 KB.
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024)).toString('latin1');
  return head.includes('%PDF-');
}

function docxProblem(bytes: Uint8Array): string | undefined {
  const names = zipEntryNames(bytes);
  if (!names) return 'not a DOCX (not a zip archive)';
  if (!names.includes('word/document.xml')) return 'not a DOCX (the zip has no word/document.xml)';
  return undefined;
}

function textProblem(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return 'not text (contains NUL bytes)';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'not UTF-8 text';
  }
  return undefined;
}

/** Names in a zip's central directory, or undefined when the bytes are not a readable zip. */
export function zipEntryNames(bytes: Uint8Array): string[] | undefined {
  if (bytes.length < 22 || bytes[0] !== 0x50 || bytes[1] !== 0x4b || bytes[2] !== 0x03 || bytes[3] !== 0x04) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // End-of-central-directory record: at the end, after a comment of at most 64 KB.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const names: string[] = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) return undefined;
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    if (at + 46 + nameLen > bytes.length) return undefined;
    names.push(Buffer.from(bytes.buffer, bytes.byteOffset + at + 46, nameLen).toString('utf8'));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}
