/** Schema migrations, applied in order, each once. Never edit a released migration: add a new one. */
export const migrations: Array<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'calls and timeline',
    sql: `
      CREATE TABLE calls (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        to_number TEXT NOT NULL,
        from_number TEXT,
        client_id TEXT,
        client_name TEXT,
        instructions TEXT NOT NULL,
        provider TEXT NOT NULL,
        status TEXT NOT NULL,
        end_reason TEXT,
        answered_by TEXT,
        carrier TEXT NOT NULL,
        carrier_call_id TEXT UNIQUE,
        stream_secret TEXT NOT NULL,
        answered_at TEXT,
        ended_at TEXT,
        carrier_duration_sec INTEGER,
        carrier_price REAL,
        carrier_price_unit TEXT,
        recording_sid TEXT,
        recording_path TEXT,
        transcript_path TEXT,
        error TEXT
      );
      CREATE INDEX calls_created ON calls (created_at DESC, id DESC);
      CREATE TABLE call_events (
        call_id TEXT NOT NULL REFERENCES calls(id),
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (call_id, seq)
      );
      CREATE TABLE webhook_receipts (
        key TEXT PRIMARY KEY,
        at TEXT NOT NULL
      );
    `,
  },
  {
    // Version 2 belongs to the knowledge base; the two are independent tables.
    version: 3,
    name: 'call refusals (dial policy audit)',
    sql: `
      CREATE TABLE call_refusals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        to_number TEXT NOT NULL,
        client_id TEXT,
        rule TEXT NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX call_refusals_at ON call_refusals (at DESC, id DESC);
    `,
  },
];
