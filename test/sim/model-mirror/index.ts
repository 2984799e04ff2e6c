import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A model mirror on 127.0.0.1 for the `callwright models` tests (README.md: which real servers behave
 * each way). Serves byte buffers by file name, with switchable faults, and records every request.
 */

export interface MirrorFile {
  body: Buffer;
}

export interface MirrorRequest {
  path: string;
  range?: string;
}

export interface ModelMirror {
  baseUrl: string;
  files: Map<string, Buffer>;
  requests: MirrorRequest[];
  /** Honour `Range: bytes=N-` with 206 (GitHub's asset host does); false: always 200 with the whole file. */
  ranges: boolean;
  /** Close the connection after sending this many bytes of a body, for the next `cutTimes` responses. */
  cutAfter?: number;
  cutTimes: number;
  /** Send this many bytes of the next body, then nothing more while keeping the connection open. */
  hangAfter?: number;
  /** Answer file requests with a redirect to /assets/<name>, as GitHub release downloads do. */
  redirect: boolean;
  close(): Promise<void>;
}

export async function startModelMirror(files: Record<string, Buffer> = {}): Promise<ModelMirror> {
  const mirror = {
    files: new Map(Object.entries(files)),
    requests: [] as MirrorRequest[],
    ranges: true,
    cutAfter: undefined as number | undefined,
    cutTimes: 0,
    hangAfter: undefined as number | undefined,
    redirect: false,
  };
  const server: Server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    mirror.requests.push({ path: url.pathname, range: req.headers.range });
    const redirected = url.pathname.startsWith('/assets/');
    const name = decodeURIComponent(url.pathname.replace(/^\/(assets\/)?/, ''));
    const body = mirror.files.get(name);
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    if (mirror.redirect && !redirected) {
      res.writeHead(302, { location: `/assets/${encodeURIComponent(name)}` }).end();
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (mirror.ranges && m) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'accept-ranges': 'bytes' });
    } else {
      res.writeHead(200, { 'content-length': body.length, ...(mirror.ranges ? { 'accept-ranges': 'bytes' } : {}) });
    }
    const rest = body.subarray(start);
    if (mirror.hangAfter !== undefined) {
      const n = mirror.hangAfter;
      mirror.hangAfter = undefined;
      res.write(rest.subarray(0, n));
      return;
    }
    if (mirror.cutAfter !== undefined && mirror.cutTimes > 0) {
      mirror.cutTimes--;
      // Part of the body, then the connection drops: what a flaky home connection looks like to the client.
      res.write(rest.subarray(0, mirror.cutAfter), () => res.socket?.destroy());
      return;
    }
    res.end(rest);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(mirror, {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
