import type { StoredEvent } from '../store/events-repo.js';
import type { CallRow } from '../store/calls-repo.js';
import { dtmfSentText } from '../shared/dtmf-text.js';

export type { TranscriptEntry } from '../shared/api-types.js';
import type { TranscriptEntry } from '../shared/api-types.js';

export interface ToolCallEntry {
  seq: number;
  at: string;
  name: string;
  arguments: unknown;
  result?: string;
}

export function transcriptEntries(call: CallRow, events: StoredEvent[]): TranscriptEntry[] {
  const t0 = Date.parse(call.answeredAt ?? call.createdAt);
  return events
    .filter((e) => e.type === 'transcript')
    .map((e) => {
      const d = e.data as { speaker: 'agent' | 'callee'; text: string; startedAt?: string; interrupted?: TranscriptEntry['interrupted'] };
      const at = d.startedAt ?? e.at;
      return { seq: e.seq, at, offsetSec: Math.max(0, (Date.parse(at) - t0) / 1000), speaker: d.speaker, text: d.text, ...(d.interrupted ? { interrupted: d.interrupted } : {}) };
    });
}

export function toolCallEntries(events: StoredEvent[]): ToolCallEntry[] {
  const out: ToolCallEntry[] = [];
  const byId = new Map<string, ToolCallEntry>();
  for (const e of events) {
    if (e.type === 'tool.call') {
      const d = e.data as { callId: string; name: string; arguments: unknown };
      const entry: ToolCallEntry = { seq: e.seq, at: e.at, name: d.name, arguments: d.arguments };
      byId.set(d.callId, entry);
      out.push(entry);
    } else if (e.type === 'tool.result') {
      const d = e.data as { callId: string; output: string };
      const entry = byId.get(d.callId);
      if (entry) entry.result = d.output;
    }
  }
  return out;
}

const clock = (sec: number) => `${String(Math.floor(sec / 60)).padStart(2, '0')}:${String(Math.floor(sec % 60)).padStart(2, '0')}`;

/** Plain-text transcript: what a person would want to read or paste afterwards. */
export function renderTranscriptText(call: CallRow, events: StoredEvent[], clientLabel?: string): string {
  const lines: string[] = [];
  lines.push(`Callwright call ${call.id}`);
  lines.push(`To: ${call.to}${clientLabel ? `   On behalf of: ${clientLabel}` : ''}`);
  lines.push(`Placed: ${call.createdAt}${call.answeredBy ? `   Answered by: ${call.answeredBy}` : ''}`);
  lines.push('');
  const t0 = Date.parse(call.answeredAt ?? call.createdAt);
  const askedWho = new Map<string, string>();
  for (const e of events) {
    const at = typeof e.data.startedAt === 'string' ? e.data.startedAt : e.at;
    const off = clock(Math.max(0, (Date.parse(at) - t0) / 1000));
    if (e.type === 'transcript') {
      const d = e.data as { speaker: string; text: string; interrupted?: { heardText: string; heardMs: number } };
      const who = d.speaker === 'agent' ? 'Agent' : 'Callee';
      if (d.interrupted) lines.push(`[${off}] ${who}: ${d.interrupted.heardText}— [interrupted after ${(d.interrupted.heardMs / 1000).toFixed(1)} s; unheard: "${d.text.slice(d.interrupted.heardText.length).trim()}"]`);
      else lines.push(`[${off}] ${who}: ${d.text}`);
    } else if (e.type === 'tool.call') {
      const d = e.data as { name: string; arguments: unknown };
      lines.push(`[${off}] (tool ${d.name} ${JSON.stringify(d.arguments)})`);
    } else if (e.type === 'dtmf.sent') {
      lines.push(`[${off}] (${dtmfSentText(e.data)})`);
    } else if (e.type.startsWith('owner.')) {
      const line = ownerLine(e, askedWho);
      if (line) lines.push(`[${off}] (${line})`);
    }
  }
  lines.push('');
  const dur = call.answeredAt && call.endedAt ? ` after ${Math.round((Date.parse(call.endedAt) - Date.parse(call.answeredAt)) / 1000)} s` : '';
  lines.push(`Ended: ${call.endReason ?? call.status}${dur}`);
  return lines.join('\n') + '\n';
}

/** A question to the owner and how it ended, as the transcript shows it. */
function ownerLine(e: StoredEvent, askedWho: Map<string, string>): string | undefined {
  const d = e.data as { questionId?: string; question?: string; ownerName?: string; answer?: string; channel?: string; afterMs?: number };
  const who = askedWho.get(d.questionId ?? '') ?? 'the owner';
  const after = `${((d.afterMs ?? 0) / 1000).toFixed(1)} s`;
  switch (e.type) {
    case 'owner.asked':
      askedWho.set(d.questionId ?? '', d.ownerName ?? 'the owner');
      return `asked ${d.ownerName ?? 'the owner'}: "${d.question}"`;
    case 'owner.answered':
      return `${who} answered by ${d.channel ?? 'unknown channel'} after ${after}: "${d.answer}"`;
    case 'owner.timeout':
      return `no answer from ${who} after ${after}; the agent deferred`;
    case 'owner.cancelled':
      return `question to ${who} withdrawn after ${after}`;
  }
  return undefined;
}

/** The part of `text` heard after `heardMs` of `totalMs` of audio, cut back to a word boundary. */
export function heardPart(text: string, heardMs: number, totalMs: number): string {
  if (totalMs <= 0 || heardMs <= 0) return '';
  if (heardMs >= totalMs) return text;
  const cut = Math.floor((text.length * heardMs) / totalMs);
  const space = text.lastIndexOf(' ', cut);
  return text.slice(0, space > 0 ? space : 0).trimEnd();
}

