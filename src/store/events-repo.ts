import type { Db } from './database.js';

export interface StoredEvent {
  callId: string;
  seq: number;
  at: string;
  type: string;
  data: Record<string, unknown>;
}

/** Append-only timeline storage. Each append is its own write, so a crash loses at most the event in flight. */
export class EventsRepo {
  private readonly nextSeq = new Map<string, number>();
  private readonly insertStmt;
  private readonly maxSeqStmt;
  private readonly listStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare('INSERT INTO call_events (call_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?)');
    this.maxSeqStmt = db.prepare('SELECT COALESCE(MAX(seq), 0) FROM call_events WHERE call_id = ?').pluck();
    this.listStmt = db.prepare('SELECT call_id AS callId, seq, at, type, data FROM call_events WHERE call_id = ? AND seq > ? ORDER BY seq');
  }

  append(callId: string, type: string, data: Record<string, unknown>, at = new Date().toISOString()): StoredEvent {
    let seq = this.nextSeq.get(callId);
    if (seq === undefined) seq = (this.maxSeqStmt.get(callId) as number) + 1;
    this.insertStmt.run(callId, seq, at, type, JSON.stringify(data));
    this.nextSeq.set(callId, seq + 1);
    return { callId, seq, at, type, data };
  }

  list(callId: string, afterSeq = 0): StoredEvent[] {
    return (this.listStmt.all(callId, afterSeq) as Array<Omit<StoredEvent, 'data'> & { data: string }>).map((r) => ({ ...r, data: JSON.parse(r.data) }));
  }

  /** Frees the per-call counter once a call has ended (it is rebuilt from the table if needed). */
  forget(callId: string): void {
    this.nextSeq.delete(callId);
  }
}
