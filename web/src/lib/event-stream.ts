import { api } from './api';
import type { TimelineEvent } from './types';
import { TIMELINE_EVENT_TYPES } from '../../../src/shared/event-types.js';

/**
 * EventSource delivers a named event only to listeners of that name: one for every type the server can
 * record (the shared list the server's timeline is typed by), and the unnamed default.
 */
export const EVENT_TYPES = [...TIMELINE_EVENT_TYPES, 'message'] as const;

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
