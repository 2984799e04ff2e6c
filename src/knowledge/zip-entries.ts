/**
 * A zip's central directory (names and declared sizes), read without inflating anything: the DOCX
 * checks (is it a DOCX, would it inflate past the cap) run on it before any parser touches the file.
 */

export interface ZipEntry {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
}

const EOCD_SIG = 0x06054b50;
const CDH_SIG = 0x02014b50;
/** The end record (22 bytes) follows the central directory, with a comment of at most 64 KiB after it. */
export const ZIP_TAIL_BYTES = 22 + 0xffff;

/** Where the central directory is, from the end of the file (`tail` holds the file's last bytes). */
export function findCentralDirectory(tail: Uint8Array, fileSize: number): { offset: number; size: number; count: number } | undefined {
  if (tail.length < 22) return undefined;
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  for (let i = tail.length - 22; i >= 0; i--) {
    if (view.getUint32(i, true) !== EOCD_SIG) continue;
    const count = view.getUint16(i + 10, true);
    const size = view.getUint32(i + 12, true);
    const offset = view.getUint32(i + 16, true);
    if (offset + size > fileSize) return undefined;
    return { offset, size, count };
  }
  return undefined;
}

/** The entries of a central directory (`dir` holds exactly its bytes); undefined when it is malformed. */
export function parseCentralDirectory(dir: Uint8Array, count: number): ZipEntry[] | undefined {
  const view = new DataView(dir.buffer, dir.byteOffset, dir.byteLength);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > dir.length || view.getUint32(at, true) !== CDH_SIG) return undefined;
    const compressedSize = view.getUint32(at + 20, true);
    const uncompressedSize = view.getUint32(at + 24, true);
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    if (at + 46 + nameLen > dir.length) return undefined;
    const name = Buffer.from(dir.buffer, dir.byteOffset + at + 46, nameLen).toString('utf8');
    // Zip64 marks sizes it stores elsewhere with 0xffffffff: count them as at least 4 GiB, over any cap.
    entries.push({ name, compressedSize, uncompressedSize });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The entries of a zip held in memory; undefined when the bytes are not a readable zip. */
export function zipEntries(bytes: Uint8Array): ZipEntry[] | undefined {
  if (bytes.length < 22 || bytes[0] !== 0x50 || bytes[1] !== 0x4b || bytes[2] !== 0x03 || bytes[3] !== 0x04) return undefined;
  const tailStart = Math.max(0, bytes.length - ZIP_TAIL_BYTES);
  const cd = findCentralDirectory(bytes.subarray(tailStart), bytes.length);
  if (!cd) return undefined;
  return parseCentralDirectory(bytes.subarray(cd.offset, cd.offset + cd.size), cd.count);
}

/** Why a DOCX's declared contents are over the cap, or undefined when they are within it. */
export function docxInflationProblem(entries: ZipEntry[], maxUncompressedBytes: number): string | undefined {
  let total = 0;
  for (const e of entries) {
    if (e.uncompressedSize > maxUncompressedBytes) return `the DOCX's ${e.name} would inflate to ${e.uncompressedSize} bytes, more than the ${maxUncompressedBytes}-byte cap (PARSER_MAX_UNCOMPRESSED_BYTES)`;
    total += e.uncompressedSize;
  }
  if (total > maxUncompressedBytes) return `the DOCX would inflate to ${total} bytes, more than the ${maxUncompressedBytes}-byte cap (PARSER_MAX_UNCOMPRESSED_BYTES)`;
  return undefined;
}
