import { missingForCalls } from '../config/settings.js';
import type { IncomingCall, IncomingCallAnswer } from '../telephony/carrier.js';
import { newCallRow } from '../store/calls-repo.js';
import { RefusalsRepo } from '../store/refusals-repo.js';
import type { OutcomeRequest } from '../store/outcomes-repo.js';
import { loadClientProfile, type ClientProfile } from '../clients/profile.js';
import { RunbookLibrary } from '../runbooks/runbook-library.js';
import { expandRunbook } from '../runbooks/expand-runbook.js';
import { buildSystemPrompt, type ReferenceExcerpt } from './prompt.js';
import { CallCaps } from './caps.js';
import { startSession, type SessionParts } from './session-start.js';
import { transferTargets } from './transfer/transfer-targets.js';
import { callPublicUrl } from '../cluster/node-urls.js';

interface InboundSetup {
  client?: ClientProfile;
  task: string;
  goal?: string;
  outcomeSchema?: OutcomeRequest['schema'];
}

/** What a caller hears when we do not take the call (Twilio reads it out, then hangs up). */
export const DECLINE_MESSAGES = {
  off: 'Sorry, no one can take your call at this number. Please try again later. Goodbye.',
  busy: 'Sorry, all our lines are busy right now. Please call back later. Goodbye.',
  unavailable: 'Sorry, this line cannot take calls right now. Please call back later. Goodbye.',
  wrongNumber: 'Sorry, this number does not take calls. Goodbye.',
} as const;

/**
 * Calls to our number (INBOUND). `off`: a polite sentence and a hang-up, never an AI session.
 * `assistant`: a call record (direction `inbound`, `from` the caller ID, `to` our number) and a session
 * built exactly as for a call we place, which greets first (the caller is waiting). A call to any number
 * but TWILIO_FROM_NUMBER is declined (logged as `inbound.declined`, reason `wrong-number`). The caps apply
 * (over one: "please call back later", and a refusal is recorded); the dial policy does not: we dial no one.
 */
export class InboundCalls {
  private readonly caps: CallCaps;
  private readonly refusals: RefusalsRepo;
  private readonly runbooks: RunbookLibrary;
  /** Calls past the cap check that are not yet in `live` (their documents are being searched). */
  private starting = 0;

  constructor(private readonly parts: SessionParts) {
    const { d } = parts.rt;
    this.caps = new CallCaps(d.settings, d.calls);
    this.refusals = new RefusalsRepo(d.sql);
    this.runbooks = new RunbookLibrary(d.settings.RUNBOOKS_DIR);
  }

  async answer(call: IncomingCall): Promise<IncomingCallAnswer> {
    const { rt } = this.parts;
    const { d } = rt;
    const s = d.settings;
    // Twilio retries a voice webhook that timed out: the same call gets the same session, never a second.
    const known = await d.calls.getByCarrierId(call.carrierCallId);
    if (known) {
      return rt.live.has(known.id) && !rt.ending.has(known.id) ? { connect: { callId: known.id, secret: known.streamSecret } } : { decline: DECLINE_MESSAGES.unavailable };
    }
    // Only calls to our own number are ours to answer: another number on the account whose voice webhook
    // points here (a copied console setting, a second deployment's number) must not reach this assistant.
    if (s.TWILIO_FROM_NUMBER && call.to.trim() !== s.TWILIO_FROM_NUMBER) {
      d.log.warn({ event: 'inbound.declined', reason: 'wrong-number', to: call.to }, 'inbound call declined: it was made to a number other than TWILIO_FROM_NUMBER');
      return { decline: DECLINE_MESSAGES.wrongNumber };
    }
    if (s.INBOUND === 'off') {
      d.log.info({ event: 'inbound.declined', reason: 'off' }, 'inbound call declined (INBOUND=off)');
      return { decline: DECLINE_MESSAGES.off };
    }
    const provider = s.AI_PROVIDER;
    const factory = d.engines[provider];
    const missing = missingForCalls(s, provider);
    if (missing.length || !d.carrier || !factory) {
      d.log.warn({ event: 'inbound.declined', reason: 'not-configured', missing }, 'inbound call declined: Callwright is not configured for calls');
      return { decline: DECLINE_MESSAGES.unavailable };
    }
    let setup: InboundSetup;
    try {
      setup = await this.assistantSetup();
    } catch (err) {
      d.log.error({ event: 'inbound.declined', reason: 'setup', err: (err as Error).message }, 'inbound call declined: the inbound client or runbook cannot be used');
      return { decline: DECLINE_MESSAGES.unavailable };
    }
    const { client, task } = setup;

    const row = newCallRow(
      {
        to: call.to,
        from: call.from,
        clientId: client?.id ?? null,
        clientName: client?.name ?? null,
        instructions: task,
        provider,
        carrier: d.carrier.name,
        carrierCallId: call.carrierCallId,
        direction: 'inbound',
      },
      rt.now(),
    );
    // Checked and inserted in one step (caps.ts); counted as live (`starting`) until it is.
    const capped = await this.caps.admit(row, () => rt.live.size + this.starting, rt.now(), () => this.starting++);
    if (capped) {
      await this.recordRefusal(call, client, capped.rule, capped.message);
      return { decline: DECLINE_MESSAGES.busy };
    }
    // The outcome is computed after the call as for any other (the runbook's goal and facts, if one is set).
    rt.outcomes?.register(row.id, { goal: setup.goal ?? null, schema: setup.outcomeSchema ?? null });
    rt.record(row.id, 'status', { status: 'queued', direction: 'inbound', from: row.from, to: row.to, provider, clientId: row.clientId, ...(s.INBOUND_RUNBOOK ? { runbook: s.INBOUND_RUNBOOK } : {}) });
    if (rt.transition(row.id, 'answered')) d.calls.update(row.id, { answeredAt: new Date().toISOString() });

    let reference: ReferenceExcerpt[] = [];
    try {
      if (client) reference = await this.retrieveReference(row.id, client.id, task);
    } finally {
      // Nothing awaits from here to the live registration in startSession.
      this.starting--;
    }
    const instructions = buildSystemPrompt({
      instructions: task,
      client,
      recordingAnnounced: s.RECORD_CALLS && s.ANNOUNCE_RECORDING,
      discloseAi: s.DISCLOSE_AI,
      reference,
      lookupAvailable: Boolean(client && d.knowledge),
      inbound: true,
    });
    const live = startSession(this.parts, { row, engine: provider, client, instructions, transferTargets: transferTargets(s.OWNER_PHONE, undefined), greetFirst: true });
    // A call we answer is recorded once its media flows (the carrier records only a call in progress);
    // an outbound call is recorded from its dial request instead.
    if (s.RECORD_CALLS) live.onAttached = () => this.startRecording(row.id, call.carrierCallId);
    this.parts.limits.armCallTimers(row.id);
    // Caller ID is masked by the logger unless LOG_SENSITIVE is on (see server/logging.ts).
    d.log.info({ event: 'call.inbound', callId: row.id, from: row.from, provider }, 'inbound call answered');
    return { connect: { callId: row.id, secret: row.streamSecret } };
  }

  /** The client and task from the settings: INBOUND_RUNBOOK's instructions, else INBOUND_INSTRUCTIONS. */
  private async assistantSetup(): Promise<InboundSetup> {
    const s = this.parts.rt.d.settings;
    const client = s.INBOUND_CLIENT_ID ? await loadClientProfile(s.CLIENTS_DIR, s.INBOUND_CLIENT_ID) : undefined;
    const named = (text: string) => text.replaceAll('{{name}}', client?.name ?? 'the owner');
    if (!s.INBOUND_RUNBOOK) return { client, task: named(s.INBOUND_INSTRUCTIONS) };
    const found = await this.runbooks.get(s.INBOUND_RUNBOOK);
    if (!('runbook' in found)) throw new Error(`INBOUND_RUNBOOK "${s.INBOUND_RUNBOOK}": ${found.problems[0]?.message ?? 'cannot be used'}`);
    const expanded = expandRunbook(found.runbook, {});
    return { client, task: named(String(expanded.instructions)), goal: typeof expanded.goal === 'string' ? expanded.goal : undefined, outcomeSchema: expanded.outcomeSchema as OutcomeRequest['schema'] | undefined };
  }

  private startRecording(callId: string, carrierCallId: string): void {
    const { rt } = this.parts;
    const { d } = rt;
    if (!d.carrier?.startRecording) {
      rt.record(callId, 'error', { source: d.carrier?.name ?? 'carrier', fatal: false, code: 'recording_unavailable', message: 'the carrier cannot record a call it did not dial' });
      return;
    }
    rt.track(
      d.carrier.startRecording(carrierCallId, { callId, publicUrl: callPublicUrl(d.settings)! }).catch((err: Error) => {
        // The conversation goes on unrecorded rather than end.
        rt.record(callId, 'error', { source: d.carrier!.name, fatal: false, code: 'recording_failed', message: err.message });
      }),
    );
  }

  private async retrieveReference(callId: string, clientId: string, task: string): Promise<ReferenceExcerpt[]> {
    const { rt } = this.parts;
    const { d } = rt;
    if (!d.knowledge) return [];
    try {
      const { mode, results } = await d.knowledge.search(clientId, task, { purpose: 'prompt', k: d.settings.KNOWLEDGE_TOP_K });
      rt.record(callId, 'knowledge.retrieved', { clientId, mode, results: results.map((r) => ({ file: r.file, page: r.page, chunkId: r.chunkId, score: r.score })) });
      return results;
    } catch (err) {
      rt.record(callId, 'knowledge.retrieved', { clientId, error: (err as Error).message, results: [] });
      return [];
    }
  }

  /** An inbound call turned away by a cap: recorded with the other refusals (`to` is our number). */
  private async recordRefusal(call: IncomingCall, client: ClientProfile | undefined, rule: string, message: string): Promise<void> {
    const { d } = this.parts.rt;
    try {
      await this.refusals.insert({ at: this.parts.rt.now().toISOString(), to: call.to.slice(0, 32), clientId: client?.id ?? null, rule, message: `inbound call from ${call.from.slice(0, 32)} turned away: ${message}` });
    } catch (err) {
      d.log.error({ event: 'refusal.writeFailed', rule, err: (err as Error).message }, 'could not record a refusal');
    }
    d.log.info({ event: 'inbound.refused', rule }, 'inbound call turned away by a cap');
  }
}
