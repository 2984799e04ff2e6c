// A second process that holds the server's database write lock (BEGIN IMMEDIATE) for `holdMs`, lets it
// go for `gapMs`, and again, until SIGTERM: what a backup, a `sqlite3` shell or a second tool does to
// the server's database. Prints how often and how long it held the lock.
import Database from 'better-sqlite3';

const [file, holdMs = '2000', gapMs = '500'] = process.argv.slice(2);
const db = new Database(file, { timeout: 60_000 });
let holds = 0;
let heldMs = 0;
let stopping = false;
const started = performance.now();
process.on('SIGTERM', () => (stopping = true));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
process.send?.({ ready: true });
while (!stopping) {
  db.exec('BEGIN IMMEDIATE');
  const t0 = performance.now();
  holds++;
  await sleep(Number(holdMs));
  db.exec('COMMIT');
  heldMs += performance.now() - t0;
  await sleep(Number(gapMs));
}
db.close();
process.send?.({ holds, heldMs, lifetimeMs: performance.now() - started });
