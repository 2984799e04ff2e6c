import type { TimelineEvent } from '../client/api-client.js';
import { describeTurnLatency } from '../shared/turn-latency-text.js';

/** How a line of the live view looks: the kind picks its colour. */
export interface ViewLine {
  kind: 'status' | 'callee' | 'agent' | 'tool' | 'warn' | 'info';
  text: string;
}

/**
 * One timeline event as the terminal shows it while following a call, or undefined for the events only
 * the event log needs (usage, marks, media). `verbose` shows those too, as their type and data.
 */
export function renderEvent(ev: TimelineEvent, verbose = false): ViewLine | undefined {
  const d = ev.data ?? {};
  switch (ev.type) {
    case 'status':
      return { kind: 'status', text: `status: ${d.status}${d.reason ? ` (${d.reason})` : ''}` };
    case 'amd':
      return { kind: 'status', text: `answered by: ${d.answeredBy}` };
    case 'mode.changed':
      return verbose || !['greeting', 'talking'].includes(d.to) ? { kind: 'status', text: `mode: ${d.to}${d.reason ? ` (${d.reason})` : ''}` } : undefined;
    case 'transcript':
      if (d.speaker === 'callee') return { kind: 'callee', text: `Callee: ${d.text}` };
      if (d.interrupted) return { kind: 'agent', text: `Agent:  ${d.interrupted.heardText} — [cut off after ${(d.interrupted.heardMs / 1000).toFixed(1)} s]` };
      return { kind: 'agent', text: `Agent:  ${d.text}` };
    case 'tool.call':
      return { kind: 'tool', text: `tool: ${d.name}(${JSON.stringify(d.arguments ?? {})})` };
    case 'knowledge.lookup':
      return { kind: 'tool', text: `looked up "${d.query}": ${d.results?.length ? d.results.map((r: { file: string }) => r.file).join(', ') : 'nothing found'}` };
    case 'dtmf.sent':
      return { kind: 'tool', text: `pressed keys: ${d.digits ?? d.keys ?? JSON.stringify(d)}` };
    case 'agent.interrupted':
      return { kind: 'warn', text: 'callee barged in: the rest of the agent\'s turn was dropped' };
    case 'turn.latency':
      // One per callee turn: the event log's, shown only with --verbose.
      return verbose ? { kind: 'info', text: describeTurnLatency(d) } : undefined;
    case 'engine.resumed':
      return { kind: 'warn', text: `voice AI session resumed (${d.reason})` };
    case 'policy.override':
      return { kind: 'warn', text: `policy override: ${d.rule ?? JSON.stringify(d)}${d.reason ? ` (${d.reason})` : ''}` };
    case 'error':
      return { kind: 'warn', text: `error (${d.source ?? 'call'}): ${d.message ?? d.code ?? ''}` };
    case 'transfer.started':
    case 'transfer.refused':
    case 'transfer.failed':
    case 'transfer.ownerAnswered':
    case 'transfer.returned':
    case 'transfer.completed': {
      const what = ev.type.slice('transfer.'.length).replace('ownerAnswered', 'answered by the owner');
      const detail = d.reason ?? d.message;
      return { kind: ev.type === 'transfer.failed' || ev.type === 'transfer.refused' ? 'warn' : 'status', text: `transfer${d.mode ? ` (${d.mode})` : ''} ${what}${d.label ? ` to ${d.label}` : ''}${detail ? `: ${detail}` : ''}` };
    }
    default:
      // Types added later (ask-owner, transfer, outcome ...) still show with --verbose.
      return verbose ? { kind: 'info', text: `${ev.type}: ${JSON.stringify(d)}` } : undefined;
  }
}
