import { randomInt, randomUUID } from 'node:crypto';
import type { TimelineEventType } from '../shared/event-types.js';
import type { OwnerChannel, OwnerQuestion, OwnerReply } from './owner-channel.js';

export interface AskRequest {
  callId: string;
  callee: string;
  ownerName: string;
  question: string;
  timeoutMs: number;
  /** Aborted when the question is withdrawn (the tool call was cancelled, the call is ending). */
  signal: AbortSignal;
  record(type: TimelineEventType, data: Record<string, unknown>): void;
}

/** Why an answer was not taken: the API turns these into 404 and 409. */
export type AnswerRefusal = { status: 404 | 409; error: string };

interface Pending {
  q: OwnerQuestion;
  startedAt: number;
  finish(reply: OwnerReply, channel?: string): void;
}

/** Closed questions remembered so a late answer gets "already closed" (409), not "unknown" (404). */
const CLOSED_KEPT = 1000;

/**
 * The questions open with the owner, across all calls: each is delivered on every channel, the first
 * answer wins, and after the timeout it closes unanswered. One call's questions never touch another's.
 */
export class OwnerQuestions {
  private readonly open = new Map<string, Pending>();
  private readonly closed = new Map<string, { callId: string; how: string }>();

  constructor(
    private readonly channels: OwnerChannel[],
    private readonly onDeliveryError: (channel: string, err: Error) => void = () => undefined,
  ) {}

  get channelNames(): string[] {
    return this.channels.map((c) => c.name);
  }

  ask(req: AskRequest): Promise<OwnerReply> {
    if (req.signal.aborted) return Promise.resolve({ status: 'cancelled' });
    const q: OwnerQuestion = { id: randomUUID(), callId: req.callId, question: req.question, code: this.newCode(), askedAt: new Date().toISOString(), callee: req.callee, ownerName: req.ownerName };
    const startedAt = Date.now();
    req.record('owner.asked', { questionId: q.id, question: q.question, ownerName: q.ownerName, code: q.code, channels: this.channelNames, timeoutMs: req.timeoutMs });
    return new Promise<OwnerReply>((resolve) => {
      const timer = setTimeout(() => finish({ status: 'timeout', afterMs: Math.max(Date.now() - startedAt, req.timeoutMs) }), req.timeoutMs);
      const onAbort = () => finish({ status: 'cancelled' });
      const finish = (reply: OwnerReply, channel?: string) => {
        if (!this.open.has(q.id)) return;
        this.open.delete(q.id);
        clearTimeout(timer);
        req.signal.removeEventListener('abort', onAbort);
        this.remember(q, reply.status);
        // A timer may fire a millisecond before Date.now() says its delay has passed (libuv keeps a coarser
        // loop clock), so a timeout reports at least the delay it waited for.
        const elapsed = Date.now() - startedAt;
        const afterMs = reply.status === 'timeout' ? Math.max(elapsed, req.timeoutMs) : elapsed;
        if (reply.status === 'answered') req.record('owner.answered', { questionId: q.id, answer: reply.answer, channel, afterMs });
        else if (reply.status === 'timeout') req.record('owner.timeout', { questionId: q.id, afterMs });
        else req.record('owner.cancelled', { questionId: q.id, afterMs });
        resolve(reply);
      };
      this.open.set(q.id, { q, startedAt, finish });
      req.signal.addEventListener('abort', onAbort, { once: true });
      // Delivered on every channel at once; one failing costs that channel only.
      for (const c of this.channels) {
        c.deliver(q).then(
          () => this.open.has(q.id) && req.record('owner.delivery', { questionId: q.id, channel: c.name, ok: true }),
          (err: Error) => {
            this.onDeliveryError(c.name, err);
            req.record('owner.delivery', { questionId: q.id, channel: c.name, ok: false, error: err.message.slice(0, 300) });
          },
        );
      }
    });
  }

  /** An answer from a channel. The first answer wins; a later one is refused (409). */
  answer(callId: string, questionId: string, answer: string, channel: string): { ok: true } | AnswerRefusal {
    const p = this.open.get(questionId);
    if (!p || p.q.callId !== callId) {
      const c = this.closed.get(questionId);
      if (c && c.callId === callId) return { status: 409, error: `question ${questionId} is closed (${c.how}); answers are no longer taken` };
      return { status: 404, error: `no question ${questionId} on this call` };
    }
    p.finish({ status: 'answered', answer, afterMs: Date.now() - p.startedAt }, channel);
    return { ok: true };
  }

  /**
   * A reply that names no question by id (an SMS): "1234 yes" answers the open question with code 1234;
   * otherwise the reply answers the latest open question. Returns the question answered, if any.
   */
  answerReply(text: string, channel: string): OwnerQuestion | undefined {
    const m = /^\s*(\d{4})\b[\s:.,;-]*([\s\S]*)$/.exec(text);
    let target: Pending | undefined;
    let answer = text.trim();
    if (m) {
      target = [...this.open.values()].find((p) => p.q.code === m[1]);
      if (target) answer = m[2].trim();
    }
    target ??= [...this.open.values()].at(-1);
    if (!target || !answer) return undefined;
    target.finish({ status: 'answered', answer, afterMs: Date.now() - target.startedAt }, channel);
    return target.q;
  }

  /** Open questions, oldest first (for one call, or all). */
  openQuestions(callId?: string): OwnerQuestion[] {
    return [...this.open.values()].map((p) => p.q).filter((q) => !callId || q.callId === callId);
  }

  private remember(q: OwnerQuestion, how: string): void {
    this.closed.set(q.id, { callId: q.callId, how: how === 'answered' ? 'already answered' : how === 'timeout' ? 'timed out' : 'withdrawn' });
    if (this.closed.size > CLOSED_KEPT) this.closed.delete(this.closed.keys().next().value!);
  }

  private newCode(): string {
    const used = new Set([...this.open.values()].map((p) => p.q.code));
    for (;;) {
      const code = String(randomInt(1000, 10000));
      if (!used.has(code)) return code;
    }
  }
}
