import type { AudioChunk } from './audio-chunk.js';

/**
 * Knows what the callee has actually heard of each agent audio item, from marks the carrier echoes back
 * once playback reaches them. Agent audio is cut into chunks of at most `chunkMs`, each followed by a
 * uniquely named mark; the last echoed mark of an item bounds what was heard to within one chunk.
 * No clock is involved: providers often send audio much faster than real time, so "sent" says nothing
 * about "heard".
 */

export interface PlayoutChunk {
  audio: AudioChunk;
  mark: string;
}

export interface ItemPlayout {
  itemId: string;
  sentMs: number;
  playedMs: number;
}

interface ItemState {
  sentBytes: number;
  playedBytes: number;
}

export interface PlayoutTrackerOptions {
  /** Bytes of audio per millisecond (8 for 8 kHz mu-law). */
  bytesPerMs?: number;
  /** Largest audio chunk between two marks: the bound on the heard-position error. */
  chunkMs?: number;
  /** Prefix of mark names, so marks of two tracker instances (stream re-attach) never collide. */
  markPrefix?: string;
}

const KEEP_FINISHED_ITEMS = 8;

export class PlayoutTracker {
  private readonly bytesPerMs: number;
  private readonly chunkBytes: number;
  private readonly prefix: string;
  private seq = 0;
  private readonly items = new Map<string, ItemState>();
  /** mark name -> [itemId, item byte offset reached when the mark plays], in send order. */
  private readonly pending = new Map<string, { itemId: string; endBytes: number }>();

  constructor(opts: PlayoutTrackerOptions = {}) {
    this.bytesPerMs = opts.bytesPerMs ?? 8;
    this.chunkBytes = Math.max(1, Math.round((opts.chunkMs ?? 40) * this.bytesPerMs));
    this.prefix = opts.markPrefix ?? 'm';
  }

  /** Splits agent audio of `itemId` into chunks, each to be sent followed by its mark. */
  push(itemId: string, audio: AudioChunk): PlayoutChunk[] {
    let item = this.items.get(itemId);
    if (!item) {
      item = { sentBytes: 0, playedBytes: 0 };
      this.items.set(itemId, item);
      this.prune(itemId);
    }
    const chunks: PlayoutChunk[] = [];
    const total = audio.length;
    for (let off = 0; off < total; off += this.chunkBytes) {
      // A delta that fits in one chunk is passed on as it came (no decode, no re-encode).
      const piece = total <= this.chunkBytes ? audio : audio.subarray(off, Math.min(total, off + this.chunkBytes));
      item.sentBytes += piece.length;
      const mark = `${this.prefix}${++this.seq}`;
      this.pending.set(mark, { itemId, endBytes: item.sentBytes });
      chunks.push({ audio: piece, mark });
    }
    return chunks;
  }

  /** Records an echoed mark. Returns the item it advanced, or undefined for a stale or foreign mark. */
  onMark(name: string): ItemPlayout | undefined {
    const entry = this.pending.get(name);
    if (!entry) return undefined;
    // Marks play in order: an echo also confirms every earlier mark (which cannot still be pending
    // unless an echo was lost, so treat them as played).
    for (const [n, e] of this.pending) {
      this.pending.delete(n);
      const it = this.items.get(e.itemId);
      if (it && e.endBytes > it.playedBytes) it.playedBytes = e.endBytes;
      if (n === name) break;
    }
    return this.state(entry.itemId);
  }

  /** True while some sent audio has not been confirmed as played. */
  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Milliseconds of audio sent but not yet confirmed played. */
  get pendingMs(): number {
    let bytes = 0;
    const seen = new Set<string>();
    for (const e of this.pending.values()) {
      if (seen.has(e.itemId)) continue;
      seen.add(e.itemId);
      const it = this.items.get(e.itemId)!;
      bytes += it.sentBytes - it.playedBytes;
    }
    return bytes / this.bytesPerMs;
  }

  /** Item ids that still have unplayed audio, oldest first. */
  pendingItems(): string[] {
    const ids: string[] = [];
    for (const e of this.pending.values()) if (!ids.includes(e.itemId)) ids.push(e.itemId);
    return ids;
  }

  state(itemId: string): ItemPlayout | undefined {
    const it = this.items.get(itemId);
    if (!it) return undefined;
    return { itemId, sentMs: it.sentBytes / this.bytesPerMs, playedMs: it.playedBytes / this.bytesPerMs };
  }

  /**
   * The carrier's buffer was cleared: every pending mark is void (Twilio echoes them all at once on
   * `clear`, and those echoes must not count as played). Returns the items that had unplayed audio.
   */
  clear(): ItemPlayout[] {
    const cut = this.pendingItems().map((id) => this.state(id)!);
    this.pending.clear();
    return cut;
  }

  private prune(keep: string): void {
    if (this.items.size <= KEEP_FINISHED_ITEMS) return;
    const active = new Set(this.pendingItems());
    for (const id of this.items.keys()) {
      if (this.items.size <= KEEP_FINISHED_ITEMS) break;
      if (id !== keep && !active.has(id)) this.items.delete(id);
    }
  }
}
