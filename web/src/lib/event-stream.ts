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
 * Follows one call's timeline over server-sent events, authenticated by the session cookie like every
 * other request (signing out elsewhere closes the stream, and its reconnect is refused). The stream
 * replays from the start; events already seen are skipped by sequence number.
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

  const open = () => {
    if (stopped) return;
    h.onConnection(lastSeq ? 'retrying' : 'connecting');
    const es = new EventSource(`/api/calls/${encodeURIComponent(callId)}/events`);
    source = es;
    es.onopen = () => h.onConnection('open');
    for (const t of EVENT_TYPES) es.addEventListener(t, onMessage as EventListener);
    es.addEventListener('end', () => {
      es.close();
      if (!stopped) h.onEnd();
    });
    es.onerror = () => {
      // CONNECTING: the browser retries by itself (Last-Event-ID); CLOSED: it gave up (a refusal such as 401).
      // Asking the server whether this browser is still signed in shows the sign-in page if it is not.
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        api('/api/session').then(scheduleRetry, scheduleRetry);
      } else h.onConnection('retrying');
    };
  };

  const scheduleRetry = () => {
    if (stopped) return;
    h.onConnection('retrying');
    failures++;
    retryTimer = setTimeout(open, Math.min(10_000, 500 * 2 ** Math.min(failures, 5)));
  };

  open();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    source?.close();
  };
}
