import { missingForCalls } from '../config/settings.js';
import type { VoicemailPlan } from '../bridge/voicemail-mode.js';
import { newCallRow, type CallRow } from '../store/calls-repo.js';
import { ClientError, loadClientProfile, type ClientProfile } from '../clients/profile.js';
import { RefusalsRepo, type Refusal } from '../store/refusals-repo.js';
import { buildSystemPrompt, type ReferenceExcerpt } from './prompt.js';
import { checkDestination } from './policy.js';
import { DialPolicy, isRefusal } from './dial-policy.js';
import { CallCaps } from './caps.js';
import { CallRequestError, checkOverrideReason, type CreateCallInput } from './call-request.js';
import { storeMetadata } from './metadata.js';
import type { CallRuntime } from './call-runtime.js';
import { startSession } from './session-start.js';
import type { CallEnding } from './call-ending.js';
import type { CallLimits } from './call-limits.js';
import { bindCarrierCallId } from './carrier-binding.js';
import { describeTarget, transferTargets } from './transfer/transfer-targets.js';
import type { CallTransfer } from './transfer/call-transfer.js';
import { callPublicUrl } from '../cluster/node-urls.js';

/**
 * Creating a call: the dial policy and caps decide whether it may be placed (a refusal is recorded), the
 * client's excerpts are retrieved, the session and its engine start, and the carrier dials.
 */
export class CallCreation {
  private readonly policy: DialPolicy;
  private readonly caps: CallCaps;
  private readonly refusals: RefusalsRepo;
  /** Calls past the cap check that are not yet in `live`. */
  private starting = 0;

  constructor(
    private readonly rt: CallRuntime,
    private readonly ending: CallEnding,
    private readonly limits: CallLimits,
    private readonly transfers: CallTransfer,
  ) {
    const { d } = rt;
    this.policy = new DialPolicy(d.settings);
    this.caps = new CallCaps(d.settings, d.calls);
    this.refusals = new RefusalsRepo(d.sql);
  }

  async create(input: CreateCallInput): Promise<CallRow> {
    const { d, now } = this.rt;
    const s = d.settings;
    checkOverrideReason(input);
    const dest = checkDestination(input.to);
    if (!dest.ok && (dest.rule === 'format' || dest.rule === 'invalid')) throw new CallRequestError(400, 'to', `to: ${dest.message}`);
    // Not configured comes first: a calling-hours or policy message would send the user after the wrong
    // fix, and no call could be placed anyway (docs/first-real-call.md).
    const provider = input.provider ?? s.AI_PROVIDER;
    const missing = missingForCalls(s, provider);
    const factory = d.engines[provider];
    if (missing.length || !d.carrier || !factory) {
      const what = d.carrier ? 'Callwright is not configured to place calls yet' : 'No phone carrier is configured, so Callwright cannot place calls yet';
      throw new CallRequestError(503, undefined, `${what}. Set: ${missing.join('; ')}. See .env.example and docs/first-real-call.md.`, missing, undefined, 'not_configured');
    }
    if (!dest.ok) throw await this.refuse(input, dest.rule, 400, 'to', `to: ${dest.message}`);
    const verdict = await this.policy.check(dest.e164, dest.country, { overrideCallingHours: input.overrideCallingHours, overrideReason: input.overrideReason, now: now() });
    if (isRefusal(verdict)) throw await this.refuse({ ...input, to: dest.e164 }, verdict.rule, verdict.status, 'to', verdict.message);
    let client: ClientProfile | undefined;
    if (input.clientId) {
      try {
        client = await loadClientProfile(s.CLIENTS_DIR, input.clientId);
      } catch (err) {
        if (err instanceof ClientError) throw new CallRequestError(400, 'clientId', `clientId: ${err.message}`);
        throw err;
      }
    }

    const row = newCallRow(
      {
        to: dest.e164,
        from: s.TWILIO_FROM_NUMBER ?? null,
        clientId: client?.id ?? null,
        clientName: client?.name ?? null,
        instructions: input.instructions,
        provider,
        carrier: d.carrier.name,
        carrierCallId: null,
        direction: 'outbound',
        metadataJson: storeMetadata(input.metadata),
      },
      now(),
    );
    // The caps check and the insert are one step (caps.ts). Calls between the check and their live
    // registration count as live (`starting`), so concurrent requests cannot both slip under
    // MAX_CONCURRENT_CALLS while one waits for its document retrieval.
    const capped = await this.caps.admit(row, () => this.rt.live.size + this.starting, now(), () => this.starting++);
    if (capped) throw await this.refuse({ ...input, to: dest.e164 }, capped.rule, 429, undefined, capped.message, capped.retryAfterSec);
    this.rt.outcomes?.register(row.id, { goal: input.goal ?? null, schema: input.outcomeSchema ?? null });
    const targets = transferTargets(s.OWNER_PHONE, input.transferTo);
    // The call's voicemail plan: its own, else the defaults (shown on the call page from this event).
    const voicemail: VoicemailPlan = input.voicemail ?? { action: s.VOICEMAIL_MODE, ...(s.VOICEMAIL_MESSAGE ? { message: s.VOICEMAIL_MESSAGE } : {}) };
    this.rt.record(row.id, 'status', {
      status: 'queued',
      to: row.to,
      provider,
      clientId: row.clientId,
      ...(input.dtmf ? { dtmf: input.dtmf } : {}),
      ...(input.runbook ? { runbook: input.runbook } : {}),
      ...(input.hold ? { hold: input.hold } : {}),
      ...(input.metadata && Object.keys(input.metadata).length ? { metadata: input.metadata } : {}),
      ...(targets.length ? { transferTo: targets.map(describeTarget) } : {}),
      voicemail,
    });
    for (const note of verdict.notes) this.rt.record(row.id, note.type, note.data);

    let reference: ReferenceExcerpt[] = [];
    try {
      if (client) reference = await this.retrieveReference(row.id, client.id, input.instructions);
    } finally {
      // Nothing awaits from here to `live.set` below.
      this.starting--;
    }
    const instructions = buildSystemPrompt({
      instructions: input.instructions,
      client,
      recordingAnnounced: s.RECORD_CALLS && s.ANNOUNCE_RECORDING,
      discloseAi: s.DISCLOSE_AI,
      reference,
      lookupAvailable: Boolean(client && d.knowledge),
      askOwnerAvailable: Boolean(d.owner),
    });
    startSession(
      { rt: this.rt, ending: this.ending, limits: this.limits, transfers: this.transfers },
      { row, engine: provider, client, instructions, transferTargets: targets, dtmfOnAnswer: input.dtmf, voicemail: { ...voicemail, silenceMs: s.VOICEMAIL_SILENCE_MS, beepTimeoutMs: s.VOICEMAIL_BEEP_TIMEOUT_MS }, holdMaxMinutes: input.hold?.maxMinutes },
    );

    this.rt.transition(row.id, 'dialing');
    try {
      const { carrierCallId } = await d.carrier.dial({
        callId: row.id,
        to: row.to,
        from: row.from!,
        publicUrl: callPublicUrl(s)!,
        record: s.RECORD_CALLS,
        timeLimitSec: s.MAX_CALL_SECONDS + 60,
        amdSpeechEndThresholdMs: s.AMD_SPEECH_END_THRESHOLD_MS,
      });
      // The carrier's first callback may have bound the id already (it can beat this response).
      const bound = bindCarrierCallId(this.rt, row.id, carrierCallId, 'dial-response');
      // Hang up what we just placed if the call has already ended (the engine failed during the dial),
      // or if it is not the call the callbacks named (a second carrier call for one of ours).
      if (bound === 'refused' || !this.rt.live.has(row.id)) void d.carrier.hangup(carrierCallId).catch(() => undefined);
    } catch (err) {
      d.calls.update(row.id, { error: (err as Error).message });
      this.rt.record(row.id, 'error', { source: d.carrier.name, fatal: true, code: 'dial_failed', message: (err as Error).message });
      // A failed response does not prove there is no call: if a callback bound one, it is hung up.
      await this.ending.end(row.id, 'dial-error', { hangup: Boolean((await d.calls.get(row.id))?.carrierCallId) });
    }
    // `to` is masked by the logger unless LOG_SENSITIVE is on (see server/logging.ts).
    d.log.info({ event: 'call.created', callId: row.id, to: row.to, provider }, 'call placed');
    return (await d.calls.get(row.id))!;
  }

  /**
   * The checks a call can pass ahead of its time (a scheduled call, when it is scheduled): the carrier is
   * configured, the number and the dial policy with calling hours at `at`, the client exists. A refusal
   * is recorded like any other. Caps are not checked here: they are about the moment it dials.
   */
  async checkAhead(input: CreateCallInput, at: Date): Promise<void> {
    const { d } = this.rt;
    checkOverrideReason(input);
    const missing = missingForCalls(d.settings, input.provider ?? d.settings.AI_PROVIDER);
    if (missing.length || !d.carrier) throw new CallRequestError(503, undefined, `Callwright is not configured to place calls yet. Set: ${missing.join('; ')}. See .env.example.`, missing);
    const dest = checkDestination(input.to);
    if (!dest.ok) {
      if (dest.rule === 'format' || dest.rule === 'invalid') throw new CallRequestError(400, 'to', `to: ${dest.message}`);
      throw await this.refuse(input, dest.rule, 400, 'to', `to: ${dest.message}`);
    }
    const verdict = await this.policy.check(dest.e164, dest.country, { overrideCallingHours: input.overrideCallingHours, now: at });
    if (isRefusal(verdict)) throw await this.refuse({ ...input, to: dest.e164 }, verdict.rule, verdict.status, 'to', verdict.message);
    if (input.clientId) {
      try {
        await loadClientProfile(d.settings.CLIENTS_DIR, input.clientId);
      } catch (err) {
        if (err instanceof ClientError) throw new CallRequestError(400, 'clientId', `clientId: ${err.message}`);
        throw err;
      }
    }
  }

  /** The client's excerpts for the task; a retrieval failure costs the reference section, not the call. */
  private async retrieveReference(callId: string, clientId: string, instructions: string): Promise<ReferenceExcerpt[]> {
    const { d } = this.rt;
    if (!d.knowledge) return [];
    try {
      const { mode, results } = await d.knowledge.search(clientId, instructions, { purpose: 'prompt', k: d.settings.KNOWLEDGE_TOP_K });
      this.rt.record(callId, 'knowledge.retrieved', { clientId, mode, results: results.map((r) => ({ file: r.file, page: r.page, chunkId: r.chunkId, score: r.score })) });
      return results;
    } catch (err) {
      d.log.warn({ err, callId, clientId }, 'knowledge: retrieval for the instructions failed; the call goes on without a reference section');
      this.rt.record(callId, 'knowledge.retrieved', { clientId, error: (err as Error).message, results: [] });
      return [];
    }
  }

  /**
   * A policy refusal: recorded (the call is never created, see docs), logged masked, and returned as 4xx.
   * Awaited before the answer goes out, so a client that reads GET /api/refusals next finds it.
   */
  private async refuse(input: CreateCallInput, rule: string, status: number, field: string | undefined, message: string, retryAfterSec?: number): Promise<CallRequestError> {
    const { d } = this.rt;
    try {
      await this.refusals.insert({ at: this.rt.now().toISOString(), to: input.to.trim().slice(0, 32), clientId: input.clientId ?? null, rule, message });
    } catch (err) {
      d.log.error({ event: 'refusal.writeFailed', rule, err: (err as Error).message }, 'could not record a refusal');
    }
    d.log.info({ event: 'call.refused', rule, to: input.to.trim(), clientId: input.clientId }, 'call refused by policy');
    return new CallRequestError(status, field, message, undefined, { rule, retryAfterSec });
  }

  /** The calls the dial policy refused, newest first. */
  listRefusals(limit: number, beforeId?: number): Promise<Refusal[]> {
    return this.refusals.list(limit, beforeId);
  }
}
