import type { StoredEvent } from './events-repo.js';
import { sqlState } from './sql/transient.js';
import type { SqlStore } from './sql/sql-store.js';

type Failed = Array<readonly [StoredEvent, Error]>;

/** What the writer tells the repository (events-repo.ts), which owns the pending events and their numbers. */
export interface PgWriterHost {
  /** The batch is in the table except `failed` (dropped: never storable); `late` when failures held it back. */
  settle(batch: StoredEvent[], failed: Failed, late: boolean): void;
  /** Another node stored events of `callId` up to `storedMax`: number this node's pending ones after them. True if any moved. */
  renumber(callId: string, storedMax: number): boolean;
  /** The first failure of a backlog (logged once; the repository notes when it began). */
  deferred(batch: StoredEvent[], err: Error): void;
  /** Resolves once the call's row is stored (the calls repository's insert may still be on its way). */
  callStored?(callId: string): Promise<void>;
}

/** A unique key can clash again only if another node keeps appending to the same call; past this, it is an error. */
const MAX_RENUMBERS = 5;

/**
 * The timeline's writes on PostgreSQL: one multi-row INSERT per batch, batches one at a time in the order
 * they were made (so a call's events are stored in order), each retried until it is written. A failure
 * that is not about the rows (the server restarting, the connection dropped, the pool exhausted) holds
 * the batch and every later one back, and the batch is tried again after `retryMs`, so a failed batch is
 * never overtaken by a later one. A failure about the rows is settled without reordering: events of a call
 * that is not in `calls` (still not, after one more try) are dropped (reported), the others written; a clash on (call_id, seq) means another
 * node appended to the call, and this node's pending events of it are numbered after the stored ones.
 */
export class PgEventWriter {
  private readonly queue: StoredEvent[][] = [];
  private running: Promise<void> | undefined;
  /** A batch failed since the queue was last empty: the batches behind it are late too. */
  private held = false;

  constructor(
    private readonly store: SqlStore,
    private readonly host: PgWriterHost,
    private readonly retryMs: number,
  ) {}

  write(batch: StoredEvent[]): void {
    this.queue.push(batch);
    this.running ??= this.pump().finally(() => (this.running = undefined));
  }

  /** Settles once every batch handed over so far is written (or dropped). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async pump(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue[0]!;
      // A call's events never reach the table before its row (the foreign key would hold them back, then drop them).
      if (this.host.callStored) await Promise.all([...new Set(batch.map((ev) => ev.callId))].map((id) => this.host.callStored!(id).catch(() => undefined)));
      const { failed, late } = await this.writeOne(batch);
      this.held ||= late;
      this.queue.shift();
      this.host.settle(batch, failed, this.held);
    }
    this.held = false;
  }

  private async writeOne(batch: StoredEvent[]): Promise<{ failed: Failed; late: boolean }> {
    const failed: Failed = [];
    let rest = batch;
    let late = false;
    let renumbers = 0;
    // A call's row may be committed by another connection a moment after its first events were held: an
    // unknown call gets one more try after `retryMs` before its events are dropped.
    let unknownCallGrace = true;
    for (;;) {
      try {
        if (rest.length) await this.insert(rest);
        return { failed, late };
      } catch (err) {
        const code = sqlState(err);
        try {
          if (code === '23505' && renumbers++ < MAX_RENUMBERS && (await this.renumber(rest))) continue;
          if (code === '23503' && unknownCallGrace) {
            unknownCallGrace = false;
            await new Promise((r) => setTimeout(r, this.retryMs).unref());
            continue;
          }
          if (code === '23503') {
            const unknown = await this.unknownCalls(rest);
            const before = rest.length;
            for (const ev of rest) if (unknown.has(ev.callId)) failed.push([ev, new Error(`call ${ev.callId} is not in the calls table`)]);
            rest = rest.filter((ev) => !unknown.has(ev.callId));
            if (rest.length < before) continue;
          }
          if (code?.startsWith('23')) {
            // A constraint the rows break that none of the above explains: retrying cannot help.
            for (const ev of rest) failed.push([ev, err as Error]);
            return { failed, late };
          }
        } catch (inner) {
          err = inner; // the look-up failed too (the connection is down): try the whole thing again later
        }
        if (!late) this.host.deferred(batch, err as Error);
        late = true;
        await new Promise((r) => setTimeout(r, this.retryMs).unref());
      }
    }
  }

  private async insert(batch: StoredEvent[]): Promise<void> {
    await this.store.db
      .insertInto('call_events')
      .values(batch.map((ev) => ({ call_id: ev.callId, seq: ev.seq, at: ev.at, type: ev.type, data: JSON.stringify(ev.data) })))
      .execute();
  }

  /** Re-reads the stored maximum of each call in the batch; true if any of this node's events moved. */
  private async renumber(batch: StoredEvent[]): Promise<boolean> {
    let moved = false;
    for (const callId of new Set(batch.map((ev) => ev.callId))) {
      moved = this.host.renumber(callId, await maxStoredSeq(this.store, callId)) || moved;
    }
    return moved;
  }

  private async unknownCalls(batch: StoredEvent[]): Promise<Set<string>> {
    const ids = [...new Set(batch.map((ev) => ev.callId))];
    const known = await this.store.db.selectFrom('calls').select('id').where('id', 'in', ids).execute();
    const found = new Set(known.map((r) => r.id));
    return new Set(ids.filter((id) => !found.has(id)));
  }
}

/** The largest seq stored for a call (0 for none). */
export async function maxStoredSeq(store: SqlStore, callId: string): Promise<number> {
  const r = await store.db
    .selectFrom('call_events')
    .select((eb) => eb.fn.max('seq').as('max'))
    .where('call_id', '=', callId)
    .executeTakeFirst();
  return Number(r?.max ?? 0);
}

