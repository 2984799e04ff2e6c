import { api } from './api';
import type { TimelineEvent } from './types';

/**
 * Every event type the server records. EventSource delivers named events only to listeners of that
 * name, so the list must be complete; an unknown type still reaches the page once it is added here.
 */
export const EVENT_TYPES = [
  'status', 'engine.ready', 'carrier.dialed', 'carrier.status', 'amd', 'recording.status', 'media.attached', 'media.ended',
  'dtmf', 'greeting.fallback', 'greeting.start', 'callee.speechStarted', 'engine.resumed', 'transcript', 'usage', 'error',
  'agent.interrupted', 'hangup.cancelled', 'tool.call', 'tool.result', 'hangup.guard', 'end.requested', 'carrier.price',
  'recording', 'records.complete', 'knowledge.retrieved', 'knowledge.lookup', 'wrapup.requested', 'message',
] as const;

export interface FollowHandlers {
  onEvent(ev: TimelineEvent): void;
  /** The server closed the stream for good: the call is over and its records are written. */
  onEnd(): void;
  onConnection(state: 'connecting' | 'open' | 'retrying'): void;
}

/**
 * Follows one call's timeline over server-sent events. The browser's EventSource cannot send the
 * bearer header, so each connection uses a short-lived token scoped to this call (POST events-token);
 * when the browser's own reconnect is refused (the token expired), a fresh token opens a new stream.
 * The stream replays from the start; events already seen are skipped by sequence number.
 */
export function followCall(callId: string, h: FollowHandlers): () => void {
  let source: EventSource | undefined;
  let stopped = false;
  let lastSeq = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  const onMessage = (e: MessageEvent) => {
    let ev: TimelineEvent;
    try {
      ev = JSON.parse(e.data);
    } catch {
      return;
    }
    if (typeof ev.seq !== 'number' || ev.seq <= lastSeq) return;
    lastSeq = ev.seq;
    failures = 0;
    h.onEvent(ev);
  };

  const open = async () => {
    if (stopped) return;
    h.onConnection(lastSeq ? 'retrying' : 'connecting');
    let url: string;
    try {
      url = (await api<{ url: string }>(`/api/calls/${encodeURIComponent(callId)}/events-token`, { method: 'POST' })).url;
    } catch {
      return scheduleRetry();
    }
    if (stopped) return;
    const es = new EventSource(url);
    source = es;
    es.onopen = () => h.onConnection('open');
    for (const t of EVENT_TYPES) es.addEventListener(t, onMessage as EventListener);
    es.addEventListener('end', () => {
      es.close();
      if (!stopped) h.onEnd();
    });
    es.onerror = () => {
      // CONNECTING: the browser retries by itself (Last-Event-ID); CLOSED: it gave up (e.g. 401), so do it here.
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        scheduleRetry();
      } else h.onConnection('retrying');
    };
  };

  const scheduleRetry = () => {
    if (stopped) return;
    h.onConnection('retrying');
    failures++;
    retryTimer = setTimeout(open, Math.min(10_000, 500 * 2 ** Math.min(failures, 5)));
  };

  void open();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    source?.close();
  };
}
