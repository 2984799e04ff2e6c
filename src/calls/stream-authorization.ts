import { timingSafeEqual } from 'node:crypto';
import type { MediaStreamHandler, MediaTransport } from '../telephony/carrier.js';
import type { StreamOpenRequest } from '../telephony/twilio/media-connection.js';
import type { CallRuntime } from './call-runtime.js';
import type { CallLimits } from './call-limits.js';
import type { CallEnding } from './call-ending.js';
import { bindCarrierCallId } from './carrier-binding.js';

/**
 * Which media stream may join which live call: the TwiML for a call carries its per-call secret, and a
 * stream that opens with that secret (and the carrier's id for the call) is attached to its session.
 */
export class StreamAuthorization {
  constructor(
    private readonly rt: CallRuntime,
    private readonly limits: CallLimits,
    private readonly ending: CallEnding,
  ) {}

  /**
   * The TwiML fetch for a live call: its stream parameters. The fetch can come before the dial response
   * (a fast answer, a slow API), so it binds the CallSid like any first signed callback.
   */
  streamParamsFor(callId: string, carrierCallId: string): Record<string, string> | undefined {
    if (!this.rt.live.has(callId) || this.rt.ending.has(callId)) return undefined;
    if (bindCarrierCallId(this.rt, callId, carrierCallId, 'callback') === 'refused') return undefined;
    const call = this.rt.d.calls.kept(callId)!;
    return { callId, secret: call.streamSecret };
  }

  authorizeStream(req: StreamOpenRequest, transport: MediaTransport): MediaStreamHandler | undefined {
    const live = this.rt.live.get(req.callId);
    const call = live && this.rt.d.calls.kept(req.callId);
    if (!live || !call || this.rt.ending.has(req.callId) || call.carrierCallId !== req.carrierCallId) return undefined;
    const a = Buffer.from(req.secret);
    const b = Buffer.from(call.streamSecret);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
    if (req.refusal) {
      // The call's own stream, in a format the bridge cannot use: end the call now, saying what arrived,
      // rather than wait for the no-media timeout or bridge noise.
      this.rt.record(req.callId, 'error', { source: this.rt.d.carrier?.name ?? 'carrier', fatal: true, code: 'media_format_unsupported', message: req.refusal, mediaFormat: req.mediaFormat, stream: req.streamId });
      void this.ending.end(req.callId, 'media-error', { detail: req.refusal });
      return undefined;
    }
    const first = !live.attached;
    live.attached = true;
    clearTimeout(live.streamTimer);
    if (first) live.onAttached?.();
    this.limits.armCallTimers(req.callId);
    return live.session.attach(transport);
  }
}
