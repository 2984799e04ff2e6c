/**
 * A scripted conversation for the cascade simulator, in the same terms as the speech-to-speech simulators'
 * scenarios (test/sim/stack.ts `Conversation`): the agent's turns in order, the callee's transcripts in
 * order (or recognised by sound), replies to per-reply instructions that do not advance the script, and
 * `{{toolOutput}}` standing for the latest tool result. README.md says how requests map to turns.
 */
import type { ChatRequest, LlmTurn } from './llm.js';

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
  /** First time this conversation state was asked for (a repeat is the same reply prepared again). */
  fresh: boolean;
}

/**
 * Picks the reply to a chat request. A model answers a conversation, not a request count: the cascade
 * engine may ask twice for the same conversation (a reply prepared at the callee's pause, dropped when
 * they went on, and asked again with the same words), and a deterministic model says the same thing
 * both times. So the script advances once per distinct conversation (the messages after the system
 * prompt, the agent's by their place and tool calls only), and a repeat gets the same turn, whatever
 * instructions came with it (unless `onInstructions` answers them, as the other simulators do).
 */
export class CascadeScript {
  private readonly byConversation = new Map<string, number>();
  private next = 0;
  /** The instructions every request shares (the session's); what follows them is one reply's. */
  private base: string | undefined;

  constructor(private readonly scenario: CascadeScenario) {}

  reply(body: ChatRequest): ScriptedReply {
    const extra = this.replyInstructions(body);
    const lower = extra.toLowerCase();
    const hit = this.scenario.onInstructions?.find((r) => lower.includes(r.match.toLowerCase()));
    if (hit) return { turn: { say: hit.say }, instructions: extra, scripted: 0, fresh: true };
    // The conversation, not the reply's instructions: a reply prepared at the callee's pause and dropped
    // (the bridge then asked for one with instructions of its own, say at a phone menu) is the same turn.
    // Nor the agent's words, which are the script's own: a reply prepared while the agent was still being
    // heard, then asked again once a barge-in cut its memory to what was heard, is the same turn too.
    const key = JSON.stringify(body.messages.slice(1).map((m) => (m.role === 'assistant' ? { role: m.role, calls: m.tool_calls?.map((c) => c.function.name) } : m)));
    let index = this.byConversation.get(key);
    const fresh = index === undefined;
    if (index === undefined) this.byConversation.set(key, (index = this.next++));
    const turn = this.scenario.turns[index] ?? FALLBACK_TURN;
    return { turn: withPlaceholders(turn, body, extra), instructions: extra, scripted: index + 1, fresh };
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
