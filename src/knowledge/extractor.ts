import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { siblingModule } from '../shared/sibling-module.js';
import type { Chunk, ChunkOptions } from './chunk.js';
import { extractWithin, PARSER_CHILD_ENV, type ExtractRequest, type ExtractResponse } from './extract-worker.js';
import { ParseError } from './parse/index.js';
import type { DocumentKind } from './sniff.js';

export interface Extracted {
  chunks: Chunk[];
  pageCount?: number;
}

/** What one document may cost the parser; each is a setting (see README, "Document parser limits"). */
export interface ParserLimits {
  /** The parser process's heap, MB: past it the process dies and only its document fails. */
  memoryMb: number;
  maxFileBytes: number;
  maxPages: number;
  /** Declared uncompressed size of a DOCX's entries, checked before anything is inflated. */
  maxUncompressedBytes: number;
  timeoutMs: number;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = { memoryMb: 512, maxFileBytes: 100 * 1024 * 1024, maxPages: 2000, maxUncompressedBytes: 200 * 1024 * 1024, timeoutMs: 120_000 };

/**
 * Parses and chunks documents in a child process started on first use, one document at a time: if it
 * dies (out of memory under its heap limit, a crash) or runs past the time limit, exactly the document
 * it had fails, with the reason, and the next one starts a new process. A process, not a worker thread:
 * a worker's heap limit is best-effort, and some allocations (one large string, one large array) abort
 * the whole process instead of the worker (nodejs/node#47224), which would end every live call.
 * With `inProcess` (tests, or a runtime that cannot fork) it parses in-process, with the same caps.
 */
export class Extractor {
  private child?: ChildProcess;
  private nextId = 1;
  private closed = false;
  /** One document in the parser at a time, so a parser that dies takes only that document with it. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly limits: ParserLimits;

  constructor(private readonly o: { inProcess?: boolean; limits?: Partial<ParserLimits> } = {}) {
    this.limits = { ...DEFAULT_PARSER_LIMITS, ...o.limits };
  }

  extract(kind: DocumentKind, bytes: Uint8Array, chunking: ChunkOptions): Promise<Extracted> {
    const run = this.queue.then(() => this.extractNow(kind, bytes, chunking));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.ref(); // held until it has exited, so close() resolves
      c.kill();
      await exited;
    }
  }

  private async extractNow(kind: DocumentKind, bytes: Uint8Array, chunking: ChunkOptions): Promise<Extracted> {
    // A parser started after close() would keep the process alive with nobody left to stop it.
    if (this.closed) throw new Error('document parser is closed');
    const l = this.limits;
    if (bytes.length > l.maxFileBytes) throw new ParseError(`the file is ${bytes.length} bytes, more than the parser's cap of ${l.maxFileBytes} (PARSER_MAX_FILE_BYTES)`);
    const request = { kind, bytes, chunking, maxPages: l.maxPages, maxUncompressedBytes: l.maxUncompressedBytes };
    if (this.o.inProcess) return extractWithin(request);
    const child = this.ensureChild();
    const id = this.nextId++;
    return new Promise<Extracted>((resolve, reject) => {
      let cause: Error | undefined;
      const done = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        child.unref();
        child.channel?.unref();
      };
      const onMessage = (r: ExtractResponse) => {
        if (r.id !== id) return;
        done();
        if (r.ok) resolve({ chunks: r.chunks, pageCount: r.pageCount });
        else reject(r.parseError ? new ParseError(r.error) : new Error(r.error));
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        done();
        if (cause) return reject(cause);
        if (/heap out of memory|Allocation failed/i.test(stderrOf(child))) return reject(new ParseError(`the document parser ran out of memory on this file (PARSER_MEMORY_MB=${l.memoryMb})`));
        reject(new Error(`document parser stopped: ${signal ? `signal ${signal}` : `exit code ${code}`}`));
      };
      const timer = setTimeout(() => {
        cause = new ParseError(`parsing took longer than ${Math.round(l.timeoutMs / 1000)} s (PARSER_TIMEOUT_MS)`);
        child.kill('SIGKILL');
      }, l.timeoutMs);
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.ref();
      child.channel?.ref();
      child.send({ id, ...request } satisfies ExtractRequest, (err) => {
        if (err && !cause) cause = new Error(`document parser unreachable: ${err.message}`);
      });
    });
  }

  private ensureChild(): ChildProcess {
    const live = this.child;
    if (live && live.exitCode === null && live.signalCode === null && live.connected) return live;
    // The parser runs as the server does (compiled, or from source through tsx), with its own heap limit.
    const entry = siblingModule(import.meta.url, 'extract-worker');
    const child = fork(fileURLToPath(entry.url), [], {
      execArgv: [...(entry.fromSource ? ['--import', import.meta.resolve('tsx')] : []), `--max-old-space-size=${this.limits.memoryMb}`],
      // Not the test runner's child protocol, if the server runs under one.
      env: { ...process.env, NODE_TEST_CONTEXT: undefined, [PARSER_CHILD_ENV]: '1' },
      serialization: 'advanced', // Uint8Array in, chunks out, without JSON
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const tail: string[] = [];
    // The pipe must not keep the server (or a test) alive on its own, like the process and its channel.
    (child.stderr as Socket | null)?.unref();
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      tail.push(s);
      while (tail.join('').length > 8192) tail.shift();
    });
    stderrTails.set(child, tail);
    child.on('error', () => undefined); // a failed start shows as an exit, handled per document
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }
}

const stderrTails = new WeakMap<ChildProcess, string[]>();
const stderrOf = (c: ChildProcess) => (stderrTails.get(c) ?? []).join('');
