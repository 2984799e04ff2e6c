import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseRunbook } from './parse-runbook.js';
import { RUNBOOK_NAME_RE, type Runbook, type RunbookProblem } from './runbook-schema.js';

export interface RunbookEntry {
  name: string;
  file: string;
  runbook?: Runbook;
  /** Empty when the runbook can be used. */
  problems: RunbookProblem[];
}

const EXTENSIONS = new Set(['.md', '.yaml', '.yml']);
/** Runbooks are small text files; a bigger one is a mistake (a document dropped in the wrong folder). */
const MAX_FILE_BYTES = 64 * 1024;

/**
 * The runbooks in RUNBOOKS_DIR, read from disk at each request: they are a handful of small files a
 * user edits by hand, and an edit then takes effect at the next call without a restart.
 */
export class RunbookLibrary {
  constructor(private readonly dir: string) {}

  async list(): Promise<RunbookEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    // README.md explains the folder; it is not a runbook.
    const files = names.filter((n) => EXTENSIONS.has(extname(n).toLowerCase()) && !n.startsWith('.') && !/^readme\.md$/i.test(n)).sort();
    const entries = await Promise.all(files.map((f) => this.load(f)));
    // Two files for one name (cancel.md and cancel.yaml): neither is used, so a call never gets the wrong one.
    const byName = new Map<string, RunbookEntry[]>();
    for (const e of entries) byName.set(e.name, [...(byName.get(e.name) ?? []), e]);
    for (const same of byName.values()) {
      if (same.length < 2) continue;
      for (const e of same) {
        e.runbook = undefined;
        e.problems.push({ message: `more than one file is named "${e.name}" (${same.map((s) => s.file).join(', ')}): keep one` });
      }
    }
    return entries;
  }

  /** The usable runbook of that name, or the reason there is none. */
  async get(name: string): Promise<{ runbook: Runbook } | { problems: RunbookProblem[]; missing?: true }> {
    const entry = (await this.list()).find((e) => e.name === name);
    if (!entry) return { missing: true, problems: [{ message: `no runbook named "${name}" in RUNBOOKS_DIR` }] };
    return entry.runbook ? { runbook: entry.runbook } : { problems: entry.problems };
  }

  private async load(file: string): Promise<RunbookEntry> {
    const name = file.slice(0, -extname(file).length);
    if (!RUNBOOK_NAME_RE.test(name)) return { name, file, problems: [{ message: 'file names are lower-case letters, digits and "-" (e.g. cancel-subscription.md)' }] };
    const path = join(this.dir, file);
    const size = (await stat(path)).size;
    if (size > MAX_FILE_BYTES) return { name, file, problems: [{ message: `the file is ${size} bytes; a runbook is at most ${MAX_FILE_BYTES}` }] };
    const parsed = parseRunbook(name, file, await readFile(path, 'utf8'));
    return parsed.ok ? { name, file, runbook: parsed.runbook, problems: [] } : { name, file, problems: parsed.problems };
  }
}
