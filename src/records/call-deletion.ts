import { unlink } from 'node:fs/promises';
import type { CallRow, CallsRepo } from '../store/calls-repo.js';
import { recordFilePath, type RecordFolders } from './record-files.js';

/**
 * Deletes a call's record: its row with everything that refers to it (timeline, outcome), then its
 * recording and transcript files. The caller has checked that the call is over and its late records are
 * in (nothing will write to it again). Returns the files removed; a file already gone is not an error.
 */
export async function deleteCallRecord(calls: Pick<CallsRepo, 'delete'>, call: CallRow, costUsd: number, folders: RecordFolders): Promise<{ files: string[] }> {
  await calls.delete(call.id, costUsd);
  const files: string[] = [];
  const stored: Array<[string | null, string]> = [[call.recordingPath, folders.recordings], [call.transcriptPath, folders.transcripts]];
  for (const [name, folder] of stored) {
    if (!name) continue;
    const path = recordFilePath(folder, name);
    try {
      await unlink(path);
      files.push(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return { files };
}
