import type { AudioChunk } from './audio-chunk.js';

/**
 * Knows what the callee has actually heard of each agent audio item, from marks the carrier echoes back
 * once playback reaches them. Agent audio is cut into chunks of at most `chunkMs`, each followed by a
 * uniquely named mark; the last echoed mark of an item bounds what was heard to within one chunk.
 * "Sent" says nothing about "heard" (providers often send audio much faster than real time), so the marks
 * are the evidence. Only when the agent is cut off does a clock help: playback runs at real time from the
 * last echo, so the position between that mark and the next one not yet echoed is estimated from the time
 * since (never before a chunk was sent, never past a mark that has not come back). The estimate stays
 * inside the one chunk the marks leave open, and in practice is off by the echo's transit time instead.
 */

export interface PlayoutChunk {
  audio: AudioChunk;
  /** The mark to send after the audio; absent for a chunk that a later mark covers (see `push`). */
  mark?: string;
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
  /** Milliseconds, monotonic (tests pass their own). */
  now?: () => number;
}

const KEEP_FINISHED_ITEMS = 8;

export class PlayoutTracker {
  private readonly bytesPerMs: number;
  private readonly chunkBytes: number;
  private readonly prefix: string;
  private seq = 0;
  private readonly items = new Map<string, ItemState>();
  /**
   * Marks sent and not yet echoed, in send order, as a queue of parallel arrays from `head`: the mark's
   * name, its item, and the item's byte offset reached when it plays. A mark's position follows from its
   * number (marks are numbered in send order), so an echo finds it without a lookup table; per chunk this
   * costs three array slots, not a Map entry and an object.
   */
  private marks: string[] = [];
  private markItems: ItemState[] = [];
  private markItemIds: string[] = [];
  private markEnds: number[] = [];
  /** Bytes of each chunk, and when it was sent. */
  private markLens: number[] = [];
  private markSentAt: number[] = [];
  /** When the latest echo came (what was queued before it has played), since the last clear. */
  private echoAt?: number;
  private readonly now: () => number;
  private head = 0;
  /** The number of the mark at `head`. */
  private headSeq = 1;
  /** Audio sent since the last mark sent (coalescing, see `push`). */
  private unmarkedBytes = 0;

  constructor(opts: PlayoutTrackerOptions = {}) {
    this.bytesPerMs = opts.bytesPerMs ?? 8;
    this.chunkBytes = Math.max(1, Math.round((opts.chunkMs ?? 40) * this.bytesPerMs));
    this.prefix = opts.markPrefix ?? 'm';
    this.now = opts.now ?? (() => performance.now());
  }

  /**
   * Splits agent audio of `itemId` into chunks, each to be sent followed by its mark. With `coalesce`, a
   * chunk gets a mark only once `chunkMs` of audio has gone without one (an engine's 20 ms deltas get a
   * mark every other delta, halving what is sent): marks play in order, so an echo also confirms the
   * unmarked chunks before it, and the heard position stays within `chunkMs`. The audio after the last
   * mark is confirmed by the next mark, or by `markTail` once no more audio comes.
   */
  push(itemId: string, audio: AudioChunk, coalesce = false): PlayoutChunk[] {
    let item = this.items.get(itemId);
    if (!item) {
      item = { sentBytes: 0, playedBytes: 0 };
      this.items.set(itemId, item);
      this.prune(itemId);
    }
    const chunks: PlayoutChunk[] = [];
    const total = audio.length;
    const sentAt = this.now();
    for (let off = 0; off < total; off += this.chunkBytes) {
      // A delta that fits in one chunk is passed on as it came (no decode, no re-encode).
      const piece = total <= this.chunkBytes ? audio : audio.subarray(off, Math.min(total, off + this.chunkBytes));
      item.sentBytes += piece.length;
      const mark = `${this.prefix}${++this.seq}`;
      if (this.head === this.marks.length) this.headSeq = this.seq;
      this.unmarkedBytes += piece.length;
      const send = !coalesce || this.unmarkedBytes >= this.chunkBytes;
      // An unsent mark keeps its place (and number) in the queue, with no name: a later echo confirms it.
      this.marks.push(send ? mark : '');
      this.markItems.push(item);
      this.markItemIds.push(itemId);
      this.markEnds.push(item.sentBytes);
      this.markLens.push(piece.length);
      this.markSentAt.push(sentAt);
      if (send) {
        this.unmarkedBytes = 0;
        chunks.push({ audio: piece, mark });
      } else chunks.push({ audio: piece });
    }
    return chunks;
  }

  /** Records an echoed mark. Returns the item it advanced, or undefined for a stale or foreign mark. */
  onMark(name: string): ItemPlayout | undefined {
    if (!name.startsWith(this.prefix)) return undefined;
    const at = this.head + (Number(name.slice(this.prefix.length)) - this.headSeq);
    if (!(at >= this.head && at < this.marks.length) || this.marks[at] !== name) return undefined;
    // Marks play in order: an echo also confirms every earlier mark (which cannot still be pending
    // unless an echo was lost, so treat them as played).
    for (let k = this.head; k <= at; k++) {
      const it = this.markItems[k]!;
      if (this.markEnds[k]! > it.playedBytes) it.playedBytes = this.markEnds[k]!;
    }
    const itemId = this.markItemIds[at]!;
    const item = this.markItems[at];
    this.headSeq += at + 1 - this.head;
    this.head = at + 1;
    this.echoAt = this.now();
    this.compact();
    // The item may have been pruned meanwhile (a long-finished one): then nothing is known of it.
    return this.items.get(itemId) === item ? this.state(itemId) : undefined;
  }

  /**
   * The last chunk sent had no mark: returns the mark to send now (on its own) so that the audio up to
   * there is confirmed once played; undefined when there is none to send.
   */
  markTail(): string | undefined {
    const last = this.marks.length - 1;
    if (last < this.head || this.marks[last] !== '') return undefined;
    this.marks[last] = `${this.prefix}${this.headSeq + (last - this.head)}`;
    this.unmarkedBytes = 0;
    return this.marks[last];
  }

  /** True while some sent audio has not been confirmed as played. */
  get hasPending(): boolean {
    return this.head < this.marks.length;
  }

  /** Milliseconds of audio sent but not yet confirmed played. */
  get pendingMs(): number {
    let bytes = 0;
    for (const id of this.pendingItems()) {
      const it = this.items.get(id)!;
      bytes += it.sentBytes - it.playedBytes;
    }
    return bytes / this.bytesPerMs;
  }

  /** Item ids that still have unplayed audio, oldest first. */
  pendingItems(): string[] {
    const ids: string[] = [];
    let last: string | undefined;
    for (let k = this.head; k < this.marks.length; k++) {
      const id = this.markItemIds[k]!;
      if (id !== last && !ids.includes(id)) ids.push(id);
      last = id;
    }
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
    this.estimatePlayed();
    const cut = this.pendingItems().map((id) => this.state(id)!);
    this.marks = [];
    this.markItems = [];
    this.markItemIds = [];
    this.markEnds = [];
    this.markLens = [];
    this.markSentAt = [];
    this.head = 0;
    this.unmarkedBytes = 0;
    this.echoAt = undefined;
    return cut;
  }

  /**
   * Moves each pending item's played position to where real-time playback from the latest echo has got
   * by now (see the class comment). Nothing moves before the first echo: when playback began is unknown.
   */
  private estimatePlayed(): void {
    if (this.echoAt === undefined) return;
    const now = this.now();
    let clock = this.echoAt;
    for (let k = this.head; k < this.marks.length; k++) {
      const len = this.markLens[k]!;
      const start = Math.max(clock, this.markSentAt[k]!);
      // Whole milliseconds: engines take the heard position in ms.
      let played = Math.min(len, Math.floor(now - start) * this.bytesPerMs);
      if (played <= 0) return;
      // A mark that has not come back has not played (its echo would be here): stop short of it.
      if (played === len && this.marks[k] !== '') played = len - this.bytesPerMs;
      const item = this.markItems[k]!;
      const at = this.markEnds[k]! - len + played;
      if (at > item.playedBytes) item.playedBytes = at;
      if (played < len) return;
      clock = start + len / this.bytesPerMs;
    }
  }

  /** Drops the echoed head of the queue once it is most of it (amortised: no shift per echo). */
  private compact(): void {
    if (this.head === this.marks.length) {
      this.marks.length = this.markItems.length = this.markItemIds.length = this.markEnds.length = this.markLens.length = this.markSentAt.length = 0;
      this.head = 0;
    } else if (this.head >= 256 && this.head * 2 >= this.marks.length) {
      this.marks = this.marks.slice(this.head);
      this.markItems = this.markItems.slice(this.head);
      this.markItemIds = this.markItemIds.slice(this.head);
      this.markEnds = this.markEnds.slice(this.head);
      this.markLens = this.markLens.slice(this.head);
      this.markSentAt = this.markSentAt.slice(this.head);
      this.head = 0;
    }
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
