import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * One file fetched over HTTP(S) into `<dest>.part`, resumed with a Range request when a previous try
 * left a partial file, checked against its pinned size and sha256, and only then renamed to `dest`: a
 * file at `dest` is always complete and verified. Model archives are hundreds of MB on home connections,
 * so an interrupted transfer must not start over.
 */

export type DownloadFailure = 'http' | 'network' | 'interrupted' | 'stalled' | 'size' | 'checksum';

export class DownloadError extends Error {
  constructor(
    readonly kind: DownloadFailure,
    readonly url: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DownloadError';
  }

  /** Worth another try that resumes from the partial file. */
  get resumable(): boolean {
    return this.kind === 'network' || this.kind === 'interrupted' || this.kind === 'stalled' || (this.kind === 'http' && (this.status ?? 0) >= 500);
  }
}

export interface DownloadProgress {
  /** Bytes of the file on disk so far, including what an earlier try left. */
  received: number;
  total: number;
  /** Bytes already present when this try began (resumed from). */
  resumedFrom: number;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  bytes: number;
  sha256: string;
  onProgress?: (p: DownloadProgress) => void;
  /** Abort a transfer that delivers nothing for this long (it can be resumed). Default 30 s. */
  stallMs?: number;
  /** Further tries after a resumable failure, each resuming where the last stopped. Default 3. */
  retries?: number;
  signal?: AbortSignal;
}

export async function downloadVerified(o: DownloadOptions): Promise<void> {
  const retries = o.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      await attemptDownload(o);
      return;
    } catch (err) {
      if (!(err instanceof DownloadError) || !err.resumable || attempt >= retries || o.signal?.aborted) throw err;
    }
  }
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

async function hashFile(file: string, hash: Hash): Promise<void> {
  await pipeline(createReadStream(file), async function* (source) {
    for await (const chunk of source) hash.update(chunk as Buffer);
  });
}

async function attemptDownload(o: DownloadOptions): Promise<void> {
  const part = `${o.dest}.part`;
  await mkdir(path.dirname(o.dest), { recursive: true });
  let have = await sizeOf(part);
  // Longer than the pinned file: not ours to resume (a changed upstream, or another file). Start over.
  if (have > o.bytes) {
    await rm(part, { force: true });
    have = 0;
  }
  if (have < o.bytes) have = await fetchInto(o, part, have);
  await checkPart(o, part);
  await rename(part, o.dest);
}

/** Appends the rest of the file to `part`; returns the new length. */
async function fetchInto(o: DownloadOptions, part: string, have: number): Promise<number> {
  const stallMs = o.stallMs ?? 30_000;
  const res = await request(o, have, stallMs);
  let start = 0;
  if (res.statusCode === 206) {
    start = rangeStart(res.headers['content-range']);
    // A server answering another range than asked for cannot be appended to safely.
    if (start !== have) {
      res.destroy();
      throw new DownloadError('http', o.url, `${o.url} answered a resume from byte ${have} with a range from byte ${start}`, 206);
    }
  } else if (res.statusCode === 416) {
    // Range not satisfiable: the partial file is already whole (or the server's copy is shorter); the checks decide.
    res.resume();
    return have;
  } else if (res.statusCode !== 200) {
    res.resume();
    throw new DownloadError('http', o.url, `${o.url} answered HTTP ${res.statusCode}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, res.statusCode);
  }
  // 200 to a Range request: the server does not do ranges and sent the whole file; it is written from the start.
  const total = o.bytes;
  let received = start;
  o.onProgress?.({ received, total, resumedFrom: start });
  const out = createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
  // 'data' events (not a pipeline, which drops what is buffered when the source fails): every byte that
  // arrived is handed to the file, so a dropped connection keeps all of it for the resume.
  const failure = await new Promise<DownloadError | Error | undefined>((resolve) => {
    let settled = false;
    const finish = (err?: DownloadError | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      out.end(() => resolve(err));
    };
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        finish(new DownloadError('stalled', o.url, `download of ${o.url} stalled for ${stallMs / 1000} s after ${received} of ${total} bytes; it resumes from there next time`));
        res.destroy();
      }, stallMs);
    };
    const onAbort = () => {
      finish((o.signal?.reason as Error) ?? new Error('aborted'));
      res.destroy();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    arm();
    res.on('data', (chunk: Buffer) => {
      if (settled) return;
      arm();
      received += chunk.length;
      // A server sending more than the pinned size is sending something else; stop before filling the disk.
      if (received > total) {
        finish(new DownloadError('size', o.url, `${o.url} sent more than the expected ${total} bytes`));
        return void res.destroy();
      }
      out.write(chunk);
      o.onProgress?.({ received, total, resumedFrom: start });
    });
    res.on('end', () => finish(res.complete ? undefined : interrupted('the connection closed early')));
    res.on('aborted', () => finish(interrupted('the connection closed early')));
    res.on('error', (err) => finish(interrupted(causeOf(err))));
    out.on('error', (err) => {
      finish(new Error(`could not write ${part}: ${err.message}`));
      res.destroy();
    });
  });
  function interrupted(why: string): DownloadError {
    return new DownloadError('interrupted', o.url, `download of ${o.url} was interrupted (${why}) after ${received} of ${total} bytes; it resumes from there next time`);
  }
  if (failure) {
    if (failure instanceof DownloadError && failure.kind === 'size') await rm(part, { force: true });
    throw failure;
  }
  return received;
}

/** GET with an optional Range, following redirects (GitHub sends release downloads to another host). */
function request(o: DownloadOptions, have: number, stallMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const go = (url: string, hops: number) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return reject(new DownloadError('http', o.url, `not a URL: ${url}`));
      }
      const get = target.protocol === 'https:' ? httpsGet : target.protocol === 'http:' ? httpGet : undefined;
      if (!get) return reject(new DownloadError('http', o.url, `${url}: only http and https URLs are supported`));
      const req = get(target, { headers: { 'user-agent': 'callwright-models', ...(have > 0 ? { range: `bytes=${have}-` } : {}) }, signal: o.signal, timeout: stallMs }, (res) => {
        // From here the body's own stall timer (fetchInto) watches the transfer.
        req.setTimeout(0);
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          if (hops >= 5) return reject(new DownloadError('http', o.url, `${o.url} redirected more than 5 times`, status));
          return go(new URL(res.headers.location, target).toString(), hops + 1);
        }
        resolve(res);
      });
      req.on('timeout', () => req.destroy(new DownloadError('stalled', o.url, `${url} did not answer within ${stallMs / 1000} s`)));
      req.on('error', (err) => {
        if (err instanceof DownloadError || o.signal?.aborted) reject(err);
        else reject(new DownloadError('network', o.url, `could not reach ${url}: ${causeOf(err)}`));
      });
    };
    go(o.url, 0);
  });
}

async function checkPart(o: DownloadOptions, part: string): Promise<void> {
  const size = await sizeOf(part);
  if (size !== o.bytes) {
    // Shorter than pinned with the server saying it is done: its copy differs from the pinned one.
    await rm(part, { force: true });
    throw new DownloadError('size', o.url, `${o.url} gave ${size} bytes, expected ${o.bytes}; the file upstream is not the pinned one`);
  }
  const hash = createHash('sha256');
  await hashFile(part, hash);
  const actual = hash.digest('hex');
  if (actual !== o.sha256) {
    await rm(part, { force: true });
    throw new DownloadError('checksum', o.url, `checksum mismatch for ${o.url}: expected sha256 ${o.sha256}, got ${actual}; the download was deleted`);
  }
}

function rangeStart(header: string | undefined): number {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header?.trim() ?? '');
  return m ? Number(m[1]) : -1;
}

function causeOf(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; message?: string };
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
