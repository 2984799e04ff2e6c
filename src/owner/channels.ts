import type { Carrier } from '../telephony/carrier.js';
import type { OwnerChannel, OwnerQuestion } from './owner-channel.js';

/**
 * The live call page: the question reaches it as `owner.asked` on the call's live-events stream, which
 * every open page already follows, so there is nothing more to send. Its answers come back through
 * `POST /api/calls/:id/questions/:qid/answer`.
 */
export const uiChannel: OwnerChannel = { name: 'ui', deliver: async () => undefined };

/** An SMS to the owner's phone from our number; the reply comes back through the carrier's inbound webhook. */
export function smsChannel(o: { carrier: Carrier; ownerPhone: string; from: string }): OwnerChannel {
  return {
    name: 'sms',
    async deliver(q) {
      if (!o.carrier.sendMessage) throw new Error(`the carrier ${o.carrier.name} cannot send text messages`);
      await o.carrier.sendMessage({ to: o.ownerPhone, from: o.from, body: smsText(q) });
    },
  };
}

export function smsText(q: OwnerQuestion): string {
  return `Callwright, on your call to ${q.callee}: ${q.question}\nReply with your answer (or "${q.code} your answer" if several questions are open).`;
}

/**
 * A JSON POST to OWNER_WEBHOOK_URL; the receiver answers through the API. A non-2xx reply or no reply in
 * 10 s is a failed delivery (recorded; the other channels still carry the question).
 */
export function webhookChannel(o: { url: string; publicUrl?: string; timeoutMs?: number }): OwnerChannel {
  return {
    name: 'webhook',
    async deliver(q) {
      const answerPath = `/api/calls/${q.callId}/questions/${q.id}/answer`;
      const res = await fetch(o.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'owner.question', callId: q.callId, questionId: q.id, question: q.question, askedAt: q.askedAt, callee: q.callee, answerUrl: o.publicUrl ? o.publicUrl + answerPath : answerPath }),
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
        redirect: 'error',
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`the owner webhook answered HTTP ${res.status}`);
    },
  };
}
