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
    version: 2,
    name: 'knowledge base: documents, chunks, full-text index',
    sql: `
      CREATE TABLE kb_documents (
        id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        file TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        pages INTEGER,
        chunks INTEGER NOT NULL DEFAULT 0,
        embedded INTEGER NOT NULL DEFAULT 0,
        embed_error TEXT,
        indexed_at TEXT,
        updated_at TEXT NOT NULL,
        UNIQUE (client_id, file)
      );
      CREATE TABLE kb_chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        document_id TEXT NOT NULL REFERENCES kb_documents(id) ON DELETE CASCADE,
        client_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        page INTEGER,
        start_char INTEGER NOT NULL,
        end_char INTEGER NOT NULL,
        text TEXT NOT NULL,
        context TEXT NOT NULL
      );
      CREATE INDEX kb_chunks_document ON kb_chunks (document_id, position);
      CREATE INDEX kb_chunks_client ON kb_chunks (client_id);
      -- The vector table (sqlite-vec) is created at run time: its dimension comes from the settings.
      -- context: the file's title words and the section heading, indexed with a lower weight.
      CREATE VIRTUAL TABLE kb_chunks_fts USING fts5(text, context, content='kb_chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
      CREATE TRIGGER kb_chunks_fts_insert AFTER INSERT ON kb_chunks BEGIN
        INSERT INTO kb_chunks_fts (rowid, text, context) VALUES (new.id, new.text, new.context);
      END;
      CREATE TRIGGER kb_chunks_fts_delete AFTER DELETE ON kb_chunks BEGIN
        INSERT INTO kb_chunks_fts (kb_chunks_fts, rowid, text, context) VALUES ('delete', old.id, old.text, old.context);
      END;
      CREATE TABLE kb_vector_config (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        dimensions INTEGER NOT NULL
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
  {
    // The daily-spend check and the calls list price each call from its usage events: without this, each
    // lookup walks every event of the call (thousands on a long call).
    version: 4,
    name: 'call events by type',
    sql: `CREATE INDEX call_events_type ON call_events (call_id, type, seq);`,
  },
  {
    // The outcome of every call (docs/outcome.md): what the call was for (goal, the facts' JSON Schema),
    // given at creation, and what came of it, written after the call; goal_met is a column for the list's filter.
    version: 5,
    name: 'call outcomes',
    sql: `
      CREATE TABLE call_outcomes (
        call_id TEXT PRIMARY KEY REFERENCES calls(id),
        goal TEXT,
        outcome_schema TEXT,
        status TEXT NOT NULL,
        goal_met TEXT,
        result TEXT,
        webhook TEXT,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX call_outcomes_goal_met ON call_outcomes (goal_met);
    `,
  },
  {
    // Inbound calls (INBOUND=assistant): calls answered, not placed. Every earlier call was placed by us.
    version: 6,
    name: 'call direction',
    sql: `ALTER TABLE calls ADD COLUMN direction TEXT NOT NULL DEFAULT 'outbound';`,
  },
  {
    // A deleted call leaves only what the daily caps count (when it was made, what it cost): deleting
    // today's calls must not reopen MAX_CALLS_PER_DAY or MAX_COST_PER_DAY_USD. No number, no words.
    version: 7,
    name: 'deleted calls (for the daily caps)',
    sql: `
      CREATE TABLE deleted_calls (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        cost_usd REAL NOT NULL,
        deleted_at TEXT NOT NULL
      );
      CREATE INDEX deleted_calls_created ON deleted_calls (created_at);
    `,
  },
  {
    // Browser sign-in (docs/sign-in.md): one row per session cookie, kept by the hash of its id (a copy of the
    // database holds no usable cookie); revoked_at ends it before expires_at, on sign-out from any browser.
    version: 8,
    name: 'browser sessions',
    sql: `
      CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        token_fingerprint TEXT NOT NULL,
        revoked_at TEXT
      );
      CREATE INDEX sessions_expires ON sessions (expires_at);
    `,
  },
  {
    // Calls set for later (docs/scheduled-calls.md): the request as it will be placed, when, and what came
    // of it. A row is claimed (status 'dialing') by one conditional update before it dials, so it dials once.
    version: 9,
    name: 'scheduled calls',
    sql: `
      CREATE TABLE scheduled_calls (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        scheduled_at TEXT NOT NULL,
        status TEXT NOT NULL,
        request TEXT NOT NULL,
        to_number TEXT NOT NULL,
        client_id TEXT,
        call_id TEXT,
        reason TEXT,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX scheduled_calls_due ON scheduled_calls (status, scheduled_at);
    `,
  },
  {
    // POST /api/calls: the caller's metadata kept with the call, and Idempotency-Key, so a retried request
    // returns the call it placed instead of placing another (docs/api-reference.md). Keys are kept for a day.
    version: 10,
    name: 'call metadata and idempotency keys',
    sql: `
      ALTER TABLE calls ADD COLUMN metadata TEXT;
      CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        body_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        status INTEGER,
        response TEXT
      );
      CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
    `,
  },
  {
    // Campaigns (docs/campaigns.md): one row per number, claimed for a dial with a lease (owner, expiry) in
    // one transaction, so a number is dialled by one node at a time and a crashed node's claims run out.
    version: 11,
    name: 'campaigns',
    sql: `
      CREATE TABLE campaigns (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        spec TEXT NOT NULL,
        total INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX campaigns_created ON campaigns (created_at DESC);
      CREATE TABLE campaign_numbers (
        campaign_id TEXT NOT NULL REFERENCES campaigns(id),
        idx INTEGER NOT NULL,
        to_number TEXT NOT NULL,
        variables TEXT NOT NULL,
        timezone TEXT,
        state TEXT NOT NULL,
        outcome TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL,
        lease_owner TEXT,
        lease_until TEXT,
        call_id TEXT,
        call_ids TEXT NOT NULL DEFAULT '[]',
        end_reason TEXT,
        detail TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (campaign_id, idx)
      );
      CREATE INDEX campaign_numbers_due ON campaign_numbers (campaign_id, state, next_at);
    `,
  },
  {
    // Issue 16, caps across nodes: each call's running cost on its row (so today's spend is one SUM, not a
    // replay of every call's usage events), and a lease kept fresh by the node that holds the live call (a
    // crashed node's calls stop counting against MAX_CONCURRENT_CALLS once their lease has run out).
    // NULL cost: a call stored before this version, priced from its usage events at the next start
    // (CallsRepo.priceUnpriced); a default of 0 would drop the day's earlier calls from the spend cap.
    version: 12,
    name: 'calls: running cost and lease',
    sql: `
      ALTER TABLE calls ADD COLUMN usage_cost_usd REAL;
      ALTER TABLE calls ADD COLUMN cost_usd REAL;
      ALTER TABLE calls ADD COLUMN node_id TEXT;
      ALTER TABLE calls ADD COLUMN lease_until TEXT;
      CREATE INDEX calls_live ON calls (status) WHERE status != 'ended';
    `,
  },
];
