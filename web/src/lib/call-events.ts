import type { TimelineEvent } from './types.js';
import { END_REASON_LABEL, ENGINE_LABEL, STATUS_LABEL } from './format.js';
import { dtmfSentText } from '../../../src/shared/dtmf-text.js';
import { describeTurnLatency } from '../../../src/shared/turn-latency-text.js';

/**
 * Turns a call's timeline (the server-sent events, replayed then live) into what the call page shows:
 * the status steps, and the conversation with tool calls, lookups and notable moments inline. Pure:
 * the same events always give the same view, whether they arrived live or were replayed.
 */

export interface LookupResult {
  file: string;
  page?: number | null;
  score?: number;
  text?: string;
}

export type ConversationItem =
  | { kind: 'turn'; seq: number; at: string; speaker: 'agent' | 'callee'; text: string; interrupted?: { heardText: string; heardMs: number; totalMs: number } }
  | { kind: 'tool'; seq: number; at: string; callId: string; name: string; args: unknown; result?: { ok: boolean; output: string | null } }
  | { kind: 'lookup'; seq: number; at: string; query: string; results: LookupResult[] }
  | { kind: 'sources'; seq: number; at: string; sources: LookupResult[] }
  | { kind: 'note'; seq: number; at: string; tone: 'info' | 'warn' | 'error'; text: string };

export interface Step {
  key: 'dialing' | 'ringing' | 'answered' | 'talking' | 'ended';
  label: string;
  detail?: string;
  at?: string;
  state: 'done' | 'current' | 'pending' | 'skipped';
}

/** A question the agent put to the owner (ask_owner) and, once closed, how it ended. */
export interface OwnerQuestionView {
  id: string;
  question: string;
  ownerName: string;
  askedAt: string;
  /** Seconds the agent waits before deferring. */
  timeoutMs?: number;
  state: 'open' | 'answered' | 'timeout' | 'cancelled';
  answer?: string;
  channel?: string;
}

export interface CallView {
  status: string;
  /** Questions to the owner, oldest first; the open ones are shown prominently while the call is live. */
  questions: OwnerQuestionView[];
  endReason?: string;
  answeredBy?: string;
  answeredAt?: string;
  endedAt?: string;
  items: ConversationItem[];
  steps: Step[];
  /** What the call is doing now (mode.changed) and since when: the page shows "on hold 12:34". */
  mode?: string;
  modeSince?: string;
  /** True once the server says no more records will come (records.complete). */
  complete: boolean;
  lastSeq: number;
  /** What the call does if a machine answers (from the queued status event), for the call's settings. */
  voicemail?: { action: string; message?: string; instructions?: string };
}

const ORDER = ['queued', 'dialing', 'ringing', 'answered', 'screening', 'talking', 'ended'];

export function answeredByLabel(answeredBy: string | undefined | null): string | undefined {
  if (!answeredBy) return undefined;
  if (answeredBy === 'human') return 'a person';
  if (answeredBy.startsWith('machine') || answeredBy === 'fax') return 'a machine';
  return answeredBy === 'unknown' ? 'unknown (no verdict)' : answeredBy;
}

function lookupResults(v: unknown): LookupResult[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null)
    .map((r) => ({ file: String(r.file ?? r.source ?? 'document'), page: typeof r.page === 'number' ? r.page : null, score: typeof r.score === 'number' ? r.score : undefined, text: typeof r.text === 'string' ? r.text : typeof r.excerpt === 'string' ? r.excerpt : undefined }));
}

export function buildCallView(events: TimelineEvent[]): CallView {
  const items: ConversationItem[] = [];
  const tools = new Map<string, Extract<ConversationItem, { kind: 'tool' }>>();
  const reached = new Map<string, string>();
  let status = 'queued';
  let endReason: string | undefined;
  let answeredBy: string | undefined;
  let complete = false;
  let lastSeq = 0;
  let voicemail: CallView['voicemail'];
  let mode: string | undefined;
  let modeSince: string | undefined;
  const questions = new Map<string, OwnerQuestionView>();

  for (const ev of events) {
    lastSeq = Math.max(lastSeq, ev.seq);
    const d = ev.data ?? {};
    switch (ev.type) {
      case 'status':
        if (ORDER.indexOf(d.status) > ORDER.indexOf(status)) status = d.status;
        if (!reached.has(d.status)) reached.set(d.status, ev.at);
        if (d.status === 'queued' && d.voicemail) voicemail = d.voicemail;
        if (d.status === 'ended') {
          endReason = d.reason;
          items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: d.reason === 'provider-error' || d.reason === 'media-error' || d.reason === 'failed' || d.reason === 'dial-error' ? 'error' : 'info', text: `Call ended: ${END_REASON_LABEL[d.reason] ?? d.reason}` });
        }
        break;
      case 'mode.changed':
        mode = String(d.to);
        modeSince = ev.at;
        // A phone menu: where it began and ended.
        if (d.to === 'menu') items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: 'info', text: 'A phone menu answered: the agent listens and presses keys, saying nothing to it' });
        else if (d.from === 'menu' && d.reason === 'person-answered') items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: 'info', text: 'A person picked up after the phone menu' });
        break;
      case 'amd':
        answeredBy = d.answeredBy;
        items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: d.machine ? 'warn' : 'info', text: `Answered by ${answeredByLabel(d.answeredBy)}` });
        break;
      case 'transcript':
        items.push({ kind: 'turn', seq: ev.seq, at: d.startedAt ?? ev.at, speaker: d.speaker === 'agent' ? 'agent' : 'callee', text: String(d.text ?? ''), ...(d.interrupted ? { interrupted: d.interrupted } : {}) });
        break;
      case 'tool.call': {
        const item = { kind: 'tool' as const, seq: ev.seq, at: ev.at, callId: String(d.callId), name: String(d.name), args: d.arguments };
        tools.set(item.callId, item);
        items.push(item);
        break;
      }
      case 'tool.result': {
        const t = tools.get(String(d.callId));
        if (t) t.result = { ok: d.ok !== false, output: d.output ?? null };
        // A lookup whose card replaced its tool chip: only a failure is worth a line of its own.
        else if (d.ok === false) items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: 'warn', text: describeEvent(ev) });
        break;
      }
      case 'knowledge.lookup': {
        // lookup_context records its results while it runs: the card shows the query and the sources,
        // so it takes the place of the tool's own chip.
        let i = items.length - 1;
        while (i >= 0 && !(items[i].kind === 'tool' && (items[i] as { name: string }).name === 'lookup_context' && !(items[i] as { result?: unknown }).result)) i--;
        if (i >= 0) {
          tools.delete((items[i] as Extract<ConversationItem, { kind: 'tool' }>).callId);
          items.splice(i, 1);
        }
        items.push({ kind: 'lookup', seq: ev.seq, at: ev.at, query: String(d.query ?? ''), results: lookupResults(d.results) });
        break;
      }
      case 'knowledge.retrieved':
        if (d.error) items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: 'warn', text: describeEvent(ev) });
        else if (lookupResults(d.sources ?? d.results).length) items.push({ kind: 'sources', seq: ev.seq, at: ev.at, sources: lookupResults(d.sources ?? d.results) });
        break;
      case 'engine.resumed':
        items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: 'warn', text: `The voice AI reconnected (${d.reason}); the callee heard a ${Math.round(Number(d.gapMs) || 0)} ms pause` });
        break;
      case 'error':
        items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: d.fatal ? 'error' : 'warn', text: describeEvent(ev) });
        break;
      case 'tool.cancelled':
        items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: 'info', text: describeEvent(ev) });
        break;
      case 'hangup.cancelled':
        items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: 'info', text: 'Hang-up cancelled: the callee spoke over the goodbye' });
        break;
      case 'wrapup.requested':
        items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: 'warn', text: describeEvent(ev) });
        break;
      case 'dtmf':
        items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: 'info', text: `Keypad: ${d.digit}` });
        break;
      case 'dtmf.sent': {
        // The key presses take the place of send_dtmf's own chip, as a lookup's card does for lookup_context.
        const t = [...tools.values()].reverse().find((x) => x.name === 'send_dtmf' && !x.result && items.includes(x));
        if (d.source === 'tool' && t) {
          items.splice(items.indexOf(t), 1);
          tools.delete(t.callId);
        }
        const text = dtmfSentText(d);
        const why = d.source === 'call' ? ' (keys given with the call)' : d.source === 'menu' ? ' (operator route)' : '';
        items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: d.status === 'played' ? 'info' : 'warn', text: `${text[0].toUpperCase()}${text.slice(1)}${why}` });
        break;
      }
      // A phone menu that went round in circles.
      case 'menu.stuck':
      case 'menu.operator':
      case 'menu.gaveUp':
        items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: 'warn', text: describeEvent(ev) });
        break;
      case 'transfer.started':
      case 'transfer.completed':
      case 'transfer.returned':
      case 'transfer.refused':
      case 'transfer.failed':
        items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: ev.type === 'transfer.refused' || ev.type === 'transfer.failed' || ev.type === 'transfer.returned' ? 'warn' : 'info', text: describeEvent(ev) });
        break;
      case 'owner.asked': {
        const q: OwnerQuestionView = { id: String(d.questionId), question: String(d.question ?? ''), ownerName: String(d.ownerName ?? 'the owner'), askedAt: ev.at, timeoutMs: typeof d.timeoutMs === 'number' ? d.timeoutMs : undefined, state: 'open' };
        questions.set(q.id, q);
        // The tool's own chip gives way to the question, as for lookups and key presses.
        const t = [...tools.values()].reverse().find((x) => x.name === 'ask_owner' && !x.result && items.includes(x));
        if (t) {
          items.splice(items.indexOf(t), 1);
          tools.delete(t.callId);
        }
        items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: 'info', text: describeEvent(ev) });
        break;
      }
      case 'owner.answered':
      case 'owner.timeout':
      case 'owner.cancelled': {
        const q = questions.get(String(d.questionId));
        if (q) {
          q.state = ev.type === 'owner.answered' ? 'answered' : ev.type === 'owner.timeout' ? 'timeout' : 'cancelled';
          if (ev.type === 'owner.answered') Object.assign(q, { answer: String(d.answer ?? ''), channel: String(d.channel ?? '') });
        }
        items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: ev.type === 'owner.answered' ? 'info' : 'warn', text: describeEvent(ev, q?.ownerName) });
        break;
      }
      case 'records.complete':
        complete = true;
        if (Array.isArray(d.missing) && d.missing.length) items.push({ kind: 'note', seq: ev.seq, at: ev.at, tone: 'warn', text: describeEvent(ev) });
        break;
    }
  }

  const ended = status === 'ended';
  const answeredAt = reached.get('answered');
  const steps: Step[] = [
    { key: 'dialing', label: 'Dialing', at: reached.get('dialing') },
    { key: 'ringing', label: 'Ringing', at: reached.get('ringing') },
    { key: 'answered', label: answeredBy ? `Answered by ${answeredByLabel(answeredBy)}` : 'Answered', at: answeredAt, detail: reached.has('screening') && !answeredBy && !ended ? 'Checking for an answering machine' : undefined },
    { key: 'talking', label: 'Talking', at: reached.get('talking') },
    { key: 'ended', label: ended ? 'Ended' : 'End', at: reached.get('ended'), detail: endReason ? END_REASON_LABEL[endReason] ?? endReason : undefined },
  ].map((s, i, all) => {
    const done = Boolean(s.at);
    const laterDone = all.slice(i + 1).some((x) => x.at);
    const state: Step['state'] = done ? (s.key !== 'ended' && !laterDone && !ended ? 'current' : 'done') : ended || laterDone ? 'skipped' : 'pending';
    return { ...(s as Omit<Step, 'state'>), state };
  });
  // Questions still open when the call ended were withdrawn with it.
  const qs = [...questions.values()].map((q) => (ended && q.state === 'open' ? { ...q, state: 'cancelled' as const } : q));
  return { status, endReason, answeredBy, answeredAt, endedAt: reached.get('ended'), items, steps, complete, lastSeq, questions: qs, mode, modeSince, ...(voicemail ? { voicemail } : {}) };
}

const MODE_LABEL: Record<string, string> = {
  greeting: 'waiting to greet',
  talking: 'talking',
  menu: 'phone menu',
  'on-hold': 'on hold',
  screening: 'call screening',
  voicemail: 'voicemail',
  transferring: 'holding for a transfer',
  ending: 'ending',
};

const VOICEMAIL_TRIGGER: Record<string, string> = {
  beep: 'beep heard',
  'carrier-beep': 'carrier heard the beep',
  'carrier-silence': 'greeting ended in silence',
  silence: 'no beep: silence after the greeting',
};

/** The call's voicemail plan as the call page shows it (from the queued status event). */
export function voicemailPlanText(plan: { action?: string; message?: string; instructions?: string } | undefined): string | undefined {
  if (!plan?.action) return undefined;
  if (plan.action === 'hangup') return 'Hang up';
  if (plan.message) return `Leave this message after the beep: “${plan.message}”`;
  if (plan.instructions) return `Leave a message after the beep: ${plan.instructions}`;
  return 'Leave a message after the beep (composed from the instructions)';
}

/** One line for any timeline event, for the event log: every type the server records, and a fallback. */
const CHANNEL_LABEL: Record<string, string> = { ui: 'on this page', sms: 'by SMS', webhook: 'by webhook', api: 'through the API' };

export function describeEvent(ev: TimelineEvent, ownerName = 'the owner'): string {
  const d = ev.data ?? {};
  const after = `${Math.round(Number(d.afterMs) / 1000)} s`;
  switch (ev.type) {
    case 'owner.asked':
      return `Asked ${d.ownerName ?? ownerName}: "${d.question}"`;
    case 'owner.delivery':
      return d.ok ? `Question sent ${CHANNEL_LABEL[d.channel] ?? d.channel}` : `Question could not be sent ${CHANNEL_LABEL[d.channel] ?? d.channel}: ${d.error}`;
    case 'owner.holdingLine':
      return 'Agent: still checking (holding line)';
    case 'owner.detached':
      return 'The callee spoke while the agent waited: the question stays open, and the answer will be passed on when it comes';
    case 'owner.answered':
      return `${ownerName === 'the owner' ? 'The owner' : ownerName} answered ${CHANNEL_LABEL[d.channel] ?? d.channel} after ${after}: "${d.answer}"`;
    case 'owner.timeout':
      return `No answer after ${after}: the agent said it would check and get back to them`;
    case 'owner.cancelled':
      return `Question withdrawn after ${after}`;
    case 'status':
      if (d.status === 'queued' && d.direction === 'inbound') return `Incoming call from ${d.from ?? 'an unknown caller'}${d.provider ? ` (${ENGINE_LABEL[d.provider] ?? d.provider})` : ''}`;
      return d.status === 'ended' ? `Ended: ${END_REASON_LABEL[d.reason] ?? d.reason}` : `Status: ${STATUS_LABEL[d.status] ?? d.status}${d.provider ? ` (${ENGINE_LABEL[d.provider] ?? d.provider})` : ''}`;
    case 'engine.ready':
      return `Voice AI connected (${ENGINE_LABEL[d.engine] ?? d.engine})`;
    case 'carrier.dialed':
      return `Dial request accepted by ${d.carrier}`;
    case 'carrier.status':
      return `Carrier reports: ${d.status}${d.durationSec !== undefined ? `, ${d.durationSec} s` : ''}`;
    case 'amd':
      return `Answering-machine detection: ${answeredByLabel(d.answeredBy)}`;
    case 'media.attached':
      return `Audio stream connected${Number(d.stream) > 1 ? ` (stream ${d.stream})` : ''}`;
    case 'media.ended':
      return d.expected ? 'Audio stream closed' : 'Audio stream dropped unexpectedly';
    case 'mode.changed':
      return `Mode: ${MODE_LABEL[d.to] ?? d.to}${d.reason ? ` (${String(d.reason).replace(/-/g, ' ')})` : ''}`;
    case 'hold.heard':
      return d.verdict === 'person' ? 'On hold: a person is back' : `On hold: a recorded announcement (${String(d.by).replace(/-/g, ' ')})`;
    case 'greeting.start':
      return d.reason === 'inbound' ? 'Agent answers the caller' : d.reason === 'silence' ? 'Callee silent: agent greets' : d.calleeSpeaking ? 'Greeting after the callee finishes speaking' : 'Agent greets';
    case 'greeting.held':
      return `Long opening (${(Number(d.openingMs) / 1000).toFixed(1)} s): waiting for the answering-machine verdict`;
    case 'amd.veto':
      return 'Answering machine: agent stopped';
    case 'amd.menuSuspected':
      return 'Sounds like a phone menu: call goes on';
    case 'screening.detected':
      return 'A call-screening assistant answered: the agent says who is calling and why';
    case 'amd.ignored':
      return `Answering-machine verdict (${answeredByLabel(d.answeredBy)}) set aside: ${d.reason === 'call-screening' ? 'a call-screening assistant, not voicemail' : d.reason}`;
    case 'voicemail.waiting':
      return 'Voicemail: waiting for the beep to leave a message';
    case 'voicemail.message':
      return `Voicemail: leaving the message (${VOICEMAIL_TRIGGER[d.trigger] ?? d.trigger})`;
    case 'menu.prompt':
      return `Phone menu prompt ended${d.text ? `: "${String(d.text).slice(0, 120)}"` : ''}`;
    case 'menu.stuck':
      return d.why === 'invalid-option' ? 'Phone menu: "not a valid option": stuck' : `Phone menu: the same prompt ${d.times ?? 3} times: stuck`;
    case 'menu.operator':
      return d.route === '0' ? 'Phone menu: trying the operator (pressing 0)' : 'Phone menu: asking for a representative';
    case 'menu.gaveUp':
      return 'Phone menu: no way out after the operator routes';
    case 'menu.speechDropped':
      return `Words not played to the phone menu: "${String(d.text ?? '').slice(0, 80)}"`;
    case 'callee.speechStarted':
      return 'Callee started speaking';
    case 'transcript':
      return `${d.speaker === 'agent' ? 'Agent' : 'Callee'}: ${d.interrupted ? `${d.interrupted.heardText}… (interrupted)` : d.text}`;
    case 'agent.interrupted': {
      const heard = Array.isArray(d.items) && d.items[0] ? ` after ${(Number(d.items[0].heardMs) / 1000).toFixed(1)} s heard` : '';
      if (d.cause === 'mode') return `Agent stopped: a phone menu answered${heard}`;
      return d.cause === 'answering-machine' ? `Agent stopped: an answering machine answered${heard}` : `Callee interrupted the agent${heard}`;
    }
    case 'bargeIn.ignored':
      return d.reason === 'backchannel'
        ? `Callee acknowledged ("${d.text}") while the agent spoke: agent carried on`
        : d.reason === 'no-words'
          ? 'Sound over the agent with no words in it: agent carried on'
          : `Brief sound over the agent (${d.speechMs} ms): agent carried on`;
    case 'tool.call':
      return `Tool ${d.name} called`;
    case 'tool.result':
      return `Tool ${d.name} ${d.ok === false ? 'failed' : 'done'}${d.output ? `: ${String(d.output).slice(0, 120)}` : ''}`;
    case 'tool.cancelled':
      return 'Tool call withdrawn by the voice AI (the callee interrupted it): not acted on';
    case 'knowledge.lookup':
      return `Looked up "${d.query}": ${Array.isArray(d.results) ? d.results.length : 0} passages`;
    case 'knowledge.retrieved':
      if (d.error) return `The client's documents could not be searched at call start: ${d.error}`;
      return `Prepared with ${Array.isArray(d.sources ?? d.results) ? (d.sources ?? d.results).length : 0} passages from the client's documents`;
    case 'usage': {
      const meters = Object.entries((d.meters ?? {}) as Record<string, number>).filter(([, v]) => v);
      return `Usage (${d.provider}): ${meters.map(([k, v]) => `${v} ${k.replace(/_/g, ' ')}`).join(', ') || 'none'}`;
    }
    case 'turn.latency':
      return describeTurnLatency(d);
    case 'engine.resumed':
      return `Voice AI session resumed after ${d.reason} (${d.gapMs} ms gap)`;
    case 'error':
      return `${d.fatal ? 'Error' : 'Warning'} from ${d.source}: ${d.message ?? d.code}${d.code && d.message ? ` (${d.code})` : ''}`;
    case 'hangup.cancelled':
      return `Hang-up cancelled: ${d.reason}`;
    case 'hangup.guard':
      return `Hung up without playback confirmation: ${d.note}`;
    case 'transfer.started':
      return `${d.mode === 'warm' ? 'Warm' : 'Cold'} transfer to ${transferDest(d)} started`;
    case 'transfer.refused':
      return `Transfer refused: ${d.message}`;
    case 'transfer.failed':
      return `Transfer to ${transferDest(d)} not done: ${d.reason}`;
    case 'transfer.ownerAnswered':
      return d.human ? `${d.label} answered: hearing the brief` : `${d.label}'s voicemail answered: not briefed`;
    case 'transfer.returned':
      return `${transferDest(d)} not reached (${d.reason}): back with the callee`;
    case 'transfer.completed':
      return `Handed over to ${transferDest(d)} (${d.mode})`;
    case 'end.requested':
      return `Ending: ${END_REASON_LABEL[d.reason] ?? d.reason}${d.detail ? ` (${d.detail})` : ''}`;
    case 'dtmf':
      return `Keypad digit ${d.digit}`;
    case 'dtmf.sent':
      return `Agent ${dtmfSentText(d)}`;
    case 'recording.status':
      return `Recording ${d.status}`;
    case 'recording':
      return `Recording saved (${Math.round(Number(d.bytes) / 1024)} KB)`;
    case 'carrier.price':
      return `Carrier price reported: ${Math.abs(Number(d.price))} ${d.unit ?? ''}`.trim();
    case 'records.complete': {
      const missing = Array.isArray(d.missing) ? (d.missing as string[]).map((m) => (m === 'price' ? 'carrier price' : m)) : [];
      return missing.length ? `Stopped waiting for the ${missing.join(' and ')}: never arrived` : 'All records written';
    }
    case 'policy.override': {
      const local = Array.isArray(d.local) ? (d.local as Array<{ zone: string; time: string }>).map((l) => `${l.time} in ${l.zone}`).join(', ') : '';
      return `Calling hours overridden for this call (allowed ${d.window}${local ? `; it was ${local}` : ''})${d.reason ? `: ${d.reason}` : ''}`;
    }
    case 'media.invalidFrames':
      return `${d.count} malformed media frames dropped${d.lastReason ? ` (last: ${d.lastReason})` : ''}`;
    case 'store.delayed':
      return `${d.events} events written ${Math.round(Number(d.delayMs))} ms late: the database was busy`;
    case 'security.foreignUrl':
      return `A callback named another host (${d.host}); only ${d.fetchedFrom ?? 'the carrier API'} is fetched from`;
    case 'outcome':
      if (d.status === 'computed') return `Outcome worked out: ${String(d.goalMet).replace(/-/g, ' ')}${Array.isArray(d.rejected) && d.rejected.length ? ` (not found in the transcript, not used: ${d.rejected.join(', ')})` : ''}`;
      return d.status === 'failed' ? `The outcome could not be worked out: ${d.reason}` : `Outcome not computed: ${d.reason}`;
    case 'webhook':
      return d.status === 'delivered' ? `Outcome webhook delivered (try ${d.attempt})` : `Outcome webhook try ${d.attempt} failed: ${d.error}${d.status === 'retrying' ? '; trying again' : ''}`;
    case 'wrapup.requested':
      return `Wrapping up (${String(d.reason).replace(/-/g, ' ')}): the agent says goodbye`;
    default: {
      const summary = Object.entries(d)
        .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
      return `${ev.type}${summary ? ` (${summary})` : ''}`;
    }
  }
}

/** A transfer destination as the timeline has it: its label and the masked number. */
function transferDest(d: Record<string, any>): string {
  return d.number ? `${d.label} (${d.number})` : String(d.label ?? 'the destination');
}
