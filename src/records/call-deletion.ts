import { unlink } from 'node:fs/promises';
import type { CallRow, CallsRepo } from '../store/calls-repo.js';

/**
 * Deletes a call's record: its row with everything that refers to it (timeline, outcome), then its
 * recording and transcript files. The caller has checked that the call is over and its late records are
 * in (nothing will write to it again). Returns the files removed; a file already gone is not an error.
 */
export async function deleteCallRecord(calls: Pick<CallsRepo, 'delete'>, call: CallRow, costUsd: number): Promise<{ files: string[] }> {
  await calls.delete(call.id, costUsd);
  const files: string[] = [];
  for (const path of [call.recordingPath, call.transcriptPath]) {
    if (!path) continue;
    try {
      await unlink(path);
      files.push(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return { files };
}
