import type { Carrier } from '../telephony/carrier.js';
import { SettingsError, type Settings } from '../config/settings.js';
import { SIGNATURE_HEADER, signWebhook } from '../outcome/webhook.js';
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
 * 10 s is a failed delivery (recorded; the other channels still carry the question). Signed as the
 * outcome webhook is (`Callwright-Signature: t=…,v1=…`, HMAC-SHA256 of "<t>.<raw body>" with
 * OWNER_WEBHOOK_SECRET), so the receiver can refuse forged or replayed questions (docs/ask-owner.md).
 */
export function webhookChannel(o: { url: string; secret: string; publicUrl?: string; timeoutMs?: number; now?: () => Date }): OwnerChannel {
  return {
    name: 'webhook',
    async deliver(q) {
      const answerPath = `/api/calls/${q.callId}/questions/${q.id}/answer`;
      const body = JSON.stringify({ type: 'owner.question', callId: q.callId, questionId: q.id, question: q.question, askedAt: q.askedAt, callee: q.callee, answerUrl: o.publicUrl ? o.publicUrl + answerPath : answerPath });
      const ts = Math.floor((o.now?.() ?? new Date()).getTime() / 1000);
      const res = await fetch(o.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'Callwright-Webhook', [SIGNATURE_HEADER]: signWebhook(o.secret, body, ts) },
        body,
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
        redirect: 'error',
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`the owner webhook answered HTTP ${res.status}`);
    },
  };
}

/** The webhook channel the settings ask for, if any. Throws SettingsError for a URL without its secret. */
export function ownerWebhookFromSettings(s: Settings): OwnerChannel | undefined {
  if (!s.OWNER_WEBHOOK_URL) return undefined;
  if (!s.OWNER_WEBHOOK_SECRET) throw new SettingsError(['OWNER_WEBHOOK_SECRET: is required when OWNER_WEBHOOK_URL is set (the receiver checks each POST with it)']);
  return webhookChannel({ url: s.OWNER_WEBHOOK_URL, secret: s.OWNER_WEBHOOK_SECRET, publicUrl: s.PUBLIC_URL });
}
