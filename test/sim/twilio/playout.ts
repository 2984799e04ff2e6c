/**
 * Twilio's per-stream playout buffer. Positions are absolute byte counters so a mark can be pinned to
 * "the end of everything queued before it" and released exactly when playback crosses that point.
 *
 * A "segment" is one stretch of agent speech as the callee hears it. A server that streams audio at
 * exactly real-time pace underruns the buffer now and then for a frame or two; those hiccups are not
 * a new utterance, so a segment only ends after SEGMENT_GAP_MS without audio (or on `clear`).
 */
import { MULAW_SILENCE } from '../../../src/media/mulaw.js';
import { FRAME_BYTES } from './callee-audio.js';

export const SEGMENT_GAP_MS = 200;
const GAP_TICKS = SEGMENT_GAP_MS / 20;

export interface PlayResult {
  /** Always FRAME_BYTES long: played audio, padded with silence. */
  frame: Uint8Array;
  /** How many bytes of real agent audio the frame contains. */
  played: number;
  /** Marks whose position playback has now reached, in queue order. */
  marks: string[];
}

export class Playout {
  private chunks: Uint8Array[] = [];
  private headOffset = 0;
  private written = 0;
  private read = 0;
  private marks: Array<{ name: string; pos: number }> = [];
  /** A segment is playing (possibly in a short underrun). */
  private segmentOpen = false;
  private emptyTicks = 0;
  totalPlayedBytes = 0;
  segmentPlayedBytes = 0;

  get buffered(): number {
    return this.written - this.read;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.written += bytes.length;
  }

  /** Queues a mark; returns true if it is reached already (nothing left to play) and must be echoed now. */
  mark(name: string): boolean {
    if (this.buffered === 0) return true;
    this.marks.push({ name, pos: this.written });
    return false;
  }

  /** Drops everything queued; every pending mark is released at once, as Twilio does on `clear`. */
  clear(): { droppedBytes: number; segmentPlayedBytes: number; marks: string[] } {
    const droppedBytes = this.buffered;
    // Audio queued but not yet started belongs to a new segment, of which nothing has been heard.
    const segmentPlayedBytes = !this.segmentOpen && droppedBytes > 0 ? 0 : this.segmentPlayedBytes;
    const marks = this.marks.map((m) => m.name);
    this.chunks = [];
    this.headOffset = 0;
    this.read = this.written;
    this.marks = [];
    this.segmentOpen = false;
    return { droppedBytes, segmentPlayedBytes, marks };
  }

  /** Plays one 20 ms frame. */
  take(): PlayResult {
    const frame = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);
    let played = 0;
    if (this.buffered > 0 && !this.segmentOpen) {
      this.segmentOpen = true;
      this.segmentPlayedBytes = 0;
    }
    while (played < FRAME_BYTES && this.chunks.length > 0) {
      const head = this.chunks[0];
      const n = Math.min(FRAME_BYTES - played, head.length - this.headOffset);
      frame.set(head.subarray(this.headOffset, this.headOffset + n), played);
      played += n;
      this.headOffset += n;
      if (this.headOffset === head.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    this.read += played;
    this.totalPlayedBytes += played;
    this.segmentPlayedBytes += played;
    const marks: string[] = [];
    while (this.marks.length > 0 && this.marks[0].pos <= this.read) marks.push(this.marks.shift()!.name);
    if (played > 0) this.emptyTicks = 0;
    else if (++this.emptyTicks >= GAP_TICKS) this.segmentOpen = false;
    return { frame, played, marks };
  }

  /** The agent is mid-utterance (audio playing, or only briefly run dry). */
  get segmentActive(): boolean {
    return this.segmentOpen;
  }
}
