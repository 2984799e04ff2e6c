/**
 * A scripted conversation for the cascade simulator, in the same terms as the speech-to-speech simulators'
 * scenarios (test/sim/stack.ts `Conversation`): the agent's turns in order, the callee's transcripts in
 * order (or recognised by sound), replies to per-reply instructions that do not advance the script, and
 * `{{toolOutput}}` standing for the latest tool result. README.md says how requests map to turns.
 */
import { newCallId, type ChatRequest, type LlmTurn } from './llm.js';

export interface CascadeScenario {
  /** One per reply, in order (greeting, replies to the callee's turns, replies after tool results). */
  turns: LlmTurn[];
  /** Transcript of the 1st, 2nd, ... utterance; past the end, an empty text (a server that heard no words). */
  userTranscripts?: string[];
  /** Transcribe each utterance as the `userTranscripts` line whose audio it holds (stt-by-sound.ts). */
  transcribeBySound?: boolean;
  /** What the model says when a reply's instructions contain `match` (case-insensitive); the script does not advance. */
  onInstructions?: Array<{ match: string; say: string }>;
  /** Fault: the N-th scripted reply (1-based) loses its connection halfway through its stream. */
  dropAfterResponses?: number;
  /** Fault: the N-th scripted reply (1-based) is answered with HTTP 500. */
  fatalAfterResponses?: number;
  /**
   * Speech synthesis pace: 'realtime' as fast as it plays (one 50 ms chunk every 50 ms, as a CPU-bound TTS
   * server streams), 'burst' all at once; unset: the simulator's `ttsChunkDelayMs`.
   */
  pacing?: 'realtime' | 'burst';
}

/** What a reply says once the script has run out: short, as the other simulators' fallback. */
export const FALLBACK_TURN: LlmTurn = { say: 'Okay.' };

export interface ScriptedReply {
  turn: LlmTurn;
  /** The instructions for this reply alone ('' for none). */
  instructions: string;
  /** 1-based number of the scripted turn this request got (0 for an instructed reply). */
  scripted: number;
  /** First time this scripted turn was given (a repeat is the same reply prepared again). */
  fresh: boolean;
  /** The ids for the reply's tool calls, in order (a result for one shows the reply was used). */
  callIds?: string[];
}

/**
 * Picks the reply to a chat request. A model answers a conversation, not a request count: the cascade
 * engine may ask twice for the same conversation (a reply prepared at the callee's pause, dropped when
 * they went on, and asked again with the same words), and a deterministic model says the same thing
 * both times. So a repeat of a conversation (the messages after the system prompt, the agent's by their
 * place and tool calls only) with the same reply instructions gets the same turn (unless `onInstructions`
 * answers them, as the other simulators do). The instructions are part of what the model reads: the same
 * conversation asked with others, after the reply to it was used, is answered anew (the next turn).
 *
 * And the script moves on only past replies the engine used, as the turns are written: one per reply the
 * call is scripted to use. A real model is not moved on by a request at all: the reply it gave to a
 * conversation the engine then dropped (a greeting prepared at the pause after a menu's welcome, thrown
 * away when the options followed) changes nothing in what it answers next. A reply counts as used once the
 * engine speaks its words (they reach the speech endpoint: `spoken`), or a later conversation holds it
 * (an agent message where it was asked for, or a result for one of its tool calls). A new conversation
 * gets the first turn after the last used one.
 */
export class CascadeScript {
  private readonly byConversation = new Map<string, number>();
  /** Turns before this one have been used. */
  private next = 0;
  /** Turns already served once (a fault goes to the first request that gets its turn). */
  private readonly served = new Set<number>();
  /** Replies given and not known to be used yet: their conversation, words and tool call ids. */
  private pending: Array<{ index: number; conversation: string[]; say: string; callIds: string[] }> = [];
  /** The instructions every request shares (the session's); what follows them is one reply's. */
  private base: string | undefined;

  constructor(private readonly scenario: CascadeScenario) {}

  reply(body: ChatRequest): ScriptedReply {
    const extra = this.replyInstructions(body);
    // The conversation, not the reply's instructions: a reply prepared at the callee's pause and dropped
    // (the bridge then asked for one with instructions of its own, say at a phone menu) is the same turn.
    // Nor the agent's words, which are the script's own: a reply prepared while the agent was still being
    // heard, then asked again once a barge-in cut its memory to what was heard, is the same turn too.
    const conversation = conversationOf(body);
    this.usedIn(body, conversation);
    const lower = extra.toLowerCase();
    const hit = this.scenario.onInstructions?.find((r) => lower.includes(r.match.toLowerCase()));
    if (hit) return { turn: { say: hit.say }, instructions: extra, scripted: 0, fresh: true };
    // The reply's own instructions are part of what the model answers: asked again with others (a key
    // choice at a menu after a reply that was silenced there and forgotten), it answers anew.
    const key = JSON.stringify([conversation, extra]);
    let index = this.byConversation.get(key);
    if (index === undefined) this.byConversation.set(key, (index = this.next));
    const fresh = !this.served.has(index);
    this.served.add(index);
    const turn = withPlaceholders(this.scenario.turns[index] ?? FALLBACK_TURN, body, extra);
    const callIds = [turn.call, turn.call2].filter(Boolean).map(() => newCallId());
    this.pending.push({ index, conversation, say: turn.say ?? '', callIds });
    return { turn, instructions: extra, scripted: index + 1, fresh, callIds };
  }

  /** The engine asked for speech of `text`: the latest reply given whose words hold it was used. */
  spoken(text: string): void {
    const words = text.trim();
    if (!words) return;
    const p = this.pending.filter((r) => r.say.includes(words)).at(-1);
    if (p) this.use(p.index);
  }

  /** Replies this request shows were used: an agent message where one was asked for, or its tool call's result. */
  private usedIn(body: ChatRequest, conversation: string[]): void {
    const results = new Set(body.messages.flatMap((m) => (m.role === 'tool' && m.tool_call_id ? [m.tool_call_id] : [])));
    for (const p of [...this.pending]) {
      const held = conversation.length > p.conversation.length && p.conversation.every((m, i) => conversation[i] === m) && JSON.parse(conversation[p.conversation.length]).role === 'assistant';
      if (held || p.callIds.some((id) => results.has(id))) this.use(p.index);
    }
  }

  private use(index: number): void {
    this.next = Math.max(this.next, index + 1);
    this.pending = this.pending.filter((p) => p.index > index);
  }

  /**
   * The instructions for this reply alone. The engine adds them after the session's instructions in the
   * system message; the session's are what every system message so far starts with, cut at a paragraph.
   */
  private replyInstructions(body: ChatRequest): string {
    const system = body.messages[0]?.role === 'system' ? String(body.messages[0].content ?? '') : '';
    if (this.base === undefined) this.base = system;
    else {
      let n = 0;
      while (n < this.base.length && n < system.length && this.base[n] === system[n]) n++;
      if (n < this.base.length) this.base = this.base.slice(0, Math.max(0, this.base.lastIndexOf('\n\n', n)));
    }
    return system.slice(this.base.length).trim();
  }
}

/** A request's conversation, message by message: the agent's by their place and tool calls only. */
function conversationOf(body: ChatRequest): string[] {
  return body.messages.slice(1).map((m) => JSON.stringify(m.role === 'assistant' ? { role: m.role, calls: m.tool_calls?.map((c) => c.function.name) } : m));
}

/**
 * Fills `{{toolOutput}}` with the latest tool result in the request (or "(no tool output)"), and
 * `{{clientText}}` with this reply's instructions, as the Gemini simulator fills it with a text turn: an
 * answer given to the engine to relay (an owner's, say) is said back.
 */
function withPlaceholders(turn: LlmTurn, body: ChatRequest, instructions: string): LlmTurn {
  if (!turn.say?.includes('{{')) return turn;
  const last = body.messages.filter((m) => m.role === 'tool').at(-1)?.content ?? '(no tool output)';
  return { ...turn, say: turn.say.replaceAll('{{toolOutput}}', String(last)).replaceAll('{{clientText}}', instructions) };
}
