/**
 * The soak's MP3 encoder thread. lamejs takes ~0.3 s of CPU per minute of call; run on the Twilio
 * simulator's own thread, a wave of calls ending together queued a minute of encoding in front of the
 * REST API and media streams (a `calls.create` then waited past the product's 15 s timeout). Here the
 * simulator's loop stays free and the encodings queue on their own.
 */
import { parentPort } from 'node:worker_threads';
import { encodeRecordingMp3 } from '../test/sim/twilio/mp3.js';

export interface EncodeJob {
  id: number;
  left: Uint8Array;
  right: Uint8Array;
  channels: 1 | 2;
}
export interface EncodeDone {
  id: number;
  mp3?: Uint8Array;
  error?: string;
  encodeMs: number;
}

const port = parentPort!;
port.on('message', (job: EncodeJob) => {
  const t0 = performance.now();
  try {
    const mp3 = encodeRecordingMp3(job.left, job.right, job.channels);
    // Transfer only a buffer of its own (a small Buffer may be a slice of Node's shared pool).
    const out = mp3.byteOffset === 0 && mp3.byteLength === mp3.buffer.byteLength ? new Uint8Array(mp3.buffer) : new Uint8Array(mp3);
    port.postMessage({ id: job.id, mp3: out, encodeMs: performance.now() - t0 } satisfies EncodeDone, [out.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ id: job.id, error: String(e), encodeMs: performance.now() - t0 } satisfies EncodeDone);
  }
});
