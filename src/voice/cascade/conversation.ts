import { heardPart } from '../../records/transcript.js';
import type { ChatMessage, ToolCallRequest } from './stages.js';

/** One spoken clause of an agent item: its text and how much audio it made (8 kHz ms). */
export interface Clause {
  text: string;
  audioMs: number;
}

interface AgentEntry {
  role: 'assistant';
  itemId: string;
  clauses: Clause[];
  /** Set when the callee cut the item off: the words they actually heard. */
  heard?: string;
  toolCalls: ToolCallRequest[];
}

type Entry = { role: 'user'; text: string } | AgentEntry;

/** Said to a model that must speak first, since many chat templates need a user turn to answer. */
export const OPENING_CUE = '(The call has just been answered. Speak first, as your instructions say.)';
const NO_RESULT_YET = 'No result yet: the tool is still running.';

/**
 * The conversation as the LLM will see it. Agent items keep their clauses with the audio each made, so a
 * barge-in cuts the agent's memory to exactly what the callee heard: whole clauses played, and the
 * played share of the clause that was cut. Tool results are filed by call id and always follow their
 * call, as chat-completions servers require, whatever order they came back in.
 */
export class Conversation {
  private readonly entries: Entry[] = [];
  private readonly results = new Map<string, string>();
  /** Bumped by every change: a reply prepared ahead of time is used only if nothing changed since. */
  version = 0;

  addUser(text: string): void {
    this.version++;
    this.entries.push({ role: 'user', text });
  }

  /** A new agent item, filled as its clauses are spoken. */
  addAgent(itemId: string): AgentEntry {
    this.version++;
    const e: AgentEntry = { role: 'assistant', itemId, clauses: [], toolCalls: [] };
    this.entries.push(e);
    return e;
  }

  addToolResult(callId: string, output: string): boolean {
    const known = this.entries.some((e) => e.role === 'assistant' && e.toolCalls.some((c) => c.id === callId));
    if (known) (this.results.set(callId, output), this.version++);
    return known;
  }

  /** Cuts an item to what was heard in its first `playedMs` of audio. */
  truncate(itemId: string, playedMs: number): void {
    const e = this.agent(itemId);
    if (!e) return;
    this.version++;
    const words: string[] = [];
    let start = 0;
    for (const c of e.clauses) {
      if (playedMs >= start + c.audioMs) words.push(c.text);
      else {
        const part = heardPart(c.text, playedMs - start, c.audioMs);
        if (part) words.push(part);
        break;
      }
      start += c.audioMs;
    }
    e.heard = words.join(' ');
  }

  /** The callee heard none of the item. Its tool calls (if any) stand: they were made. */
  forget(itemId: string): void {
    const e = this.agent(itemId);
    if (e) (e.heard = '', this.version++);
  }

  /**
   * The messages for the next reply: instructions first, then the conversation, then `pendingUser` (the
   * callee's words not yet added: a reply prepared before their turn is confirmed over).
   */
  messages(instructions: string, pendingUser?: string): ChatMessage[] {
    const out: ChatMessage[] = [{ role: 'system', content: instructions }];
    for (const e of this.entries) {
      if (e.role === 'user') {
        out.push({ role: 'user', content: e.text });
        continue;
      }
      const content = e.heard ?? e.clauses.map((c) => c.text).join(' ');
      if (!content && !e.toolCalls.length) continue;
      out.push({ role: 'assistant', content, ...(e.toolCalls.length ? { toolCalls: e.toolCalls } : {}) });
      for (const c of e.toolCalls) out.push({ role: 'tool', toolCallId: c.id, content: this.results.get(c.id) ?? NO_RESULT_YET });
    }
    if (pendingUser !== undefined) out.push({ role: 'user', content: pendingUser });
    // Before the agent's own words: the cue stands for the callee's answering the phone.
    else if (!this.entries.some((e) => e.role === 'user')) out.splice(1, 0, { role: 'user', content: OPENING_CUE });
    return out;
  }

  private agent(itemId: string): AgentEntry | undefined {
    return this.entries.find((e): e is AgentEntry => e.role === 'assistant' && e.itemId === itemId);
  }
}
