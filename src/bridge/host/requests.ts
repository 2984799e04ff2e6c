import type { Abort, MediaRequest, Reply, Request } from './protocol.js';

/** Carries out a request from the other side; `signal` fires if the asker aborts it. */
export type RequestServer = (callId: string, ask: MediaRequest, signal: AbortSignal) => Promise<unknown>;

/**
 * Requests with replies across the media boundary, for either side: what this side asked and waits for,
 * and what the other side asked and this side is carrying out (abortable). Replies are matched by id.
 */
export class Requests {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly serving = new Map<string, AbortController>();

  constructor(
    private readonly post: (m: Request | Reply | Abort) => void,
    private readonly serve: RequestServer,
  ) {}

  ask<T>(callId: string, ask: MediaRequest, signal?: AbortSignal): Promise<T> {
    const rid = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(rid, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ t: 'request', callId, rid, ask });
      const abort = () => this.waiting.has(rid) && this.post({ t: 'abort', callId, rid });
      if (signal?.aborted) abort();
      else signal?.addEventListener('abort', abort, { once: true });
    });
  }

  receive(m: Request | Reply | Abort): void {
    if (m.t === 'reply') {
      const w = this.waiting.get(m.rid);
      if (!w) return;
      this.waiting.delete(m.rid);
      if (m.ok) w.resolve(m.value);
      else w.reject(new Error(m.error));
      return;
    }
    const key = `${m.callId}:${m.rid}`;
    if (m.t === 'abort') {
      this.serving.get(key)?.abort();
      return;
    }
    const ac = new AbortController();
    this.serving.set(key, ac);
    // Started at once, as a direct call would be: a shutdown stops the session before this returns.
    let work: Promise<unknown>;
    try {
      work = this.serve(m.callId, m.ask, ac.signal);
    } catch (err) {
      work = Promise.reject(err);
    }
    void work
      .then(
        (value) => ({ t: 'reply', callId: m.callId, rid: m.rid, ok: true, value }) as const,
        (err: unknown) => ({ t: 'reply', callId: m.callId, rid: m.rid, ok: false, error: err instanceof Error ? err.message : String(err) }) as const,
      )
      .then((reply) => {
        this.serving.delete(key);
        this.post(reply);
      });
  }
}
