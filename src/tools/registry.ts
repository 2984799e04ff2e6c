import { z } from 'zod';
import type { TimelineEventType } from '../shared/event-types.js';
import type { ToolSpec } from '../voice/engine.js';
import type { DtmfOutcome } from '../bridge/dtmf-sender.js';
import type { TransferRequest, TransferResult } from '../calls/transfer/transfer-types.js';
import type { AskOwnerResult } from '../owner/owner-channel.js';

/** What a tool may do during a call. Tools reach the carrier only through these methods. */
export interface ToolContext {
  callId: string;
  /** The client the call is for (from the call record, never from tool arguments). */
  clientId?: string;
  /**
   * Aborted when the engine cancels this tool call (the callee interrupted it). A tool must not start a
   * side effect once it is aborted; its result is not sent back to the engine.
   */
  signal: AbortSignal;
  /** Appends a structured event to the call's timeline (what a tool looked up, found, did). */
  record?(type: TimelineEventType, data: Record<string, unknown>): void;
  /**
   * Hangs up once the agent's audio so far has played to the callee. Resolves 'interrupted' (and does
   * nothing) if the callee cut that audio off, 'cancelled' (nothing done) if the engine cancelled the call.
   */
  hangupAfterPlayout(): Promise<'hung-up' | 'interrupted' | 'cancelled'>;
  /**
   * Presses keys on this call (in-band DTMF tones after the agent's queued audio). Resolves once the
   * carrier confirmed the tones played, or with what was pressed when they were cut off.
   */
  sendDtmf(digits: string): Promise<DtmfOutcome>;
  /**
   * Hands the call over to a destination set on the call or in settings, once the agent's words so far
   * have played (nothing is done if the callee cut them off). Resolves with how it went.
   */
  transfer(req: TransferRequest): Promise<TransferResult>;
  /** Puts the call on hold (wait_on_hold): the agent listens for a person and says nothing meanwhile. */
  waitOnHold?(): void;
  /**
   * Asks the owner (the person the call is for) and waits for the first answer on any channel, or the
   * timeout. Resolves 'cancelled' if the engine withdrew the call or the call is ending.
   */
  askOwner(question: string): Promise<AskOwnerResult>;
}

export interface ToolOutcome {
  /** Sent back to the model as the function output. Undefined: send nothing (the call is over). */
  output?: string;
  /** Ask the model to speak after the output. */
  reply: boolean;
}

export interface ToolDefinition<A extends z.ZodTypeAny = z.ZodTypeAny> {
  name: string;
  description: string;
  args: A;
  /** Offered only on calls for a client (e.g. tools that read the client's documents). */
  requiresClient?: boolean;
  /**
   * Runs in the main process, beside the store and the documents, rather than beside the call's session
   * (MEDIA_HOST may put sessions elsewhere). Such a tool gets the call's ids, `record` and its signal;
   * hanging up, keys, transfers and the owner are the session's and refused there.
   */
  runsOnMain?: boolean;
  run(ctx: ToolContext, args: z.infer<A>): Promise<ToolOutcome>;
}

export function defineTool<A extends z.ZodTypeAny>(t: ToolDefinition<A>): ToolDefinition<A> {
  return t;
}

export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();
  private readonly specCache = new Map<'all' | 'withoutClient', ToolSpec[]>();

  constructor(tools: ToolDefinition[]) {
    for (const t of tools) this.tools.set(t.name, t);
  }

  /** The tools offered to the engine; `hasClient: false` leaves out those that need a client. */
  specs(o: { hasClient?: boolean } = {}): ToolSpec[] {
    // Built once per variant: converting every tool's zod schema to JSON Schema cost ~1 ms of the event
    // loop at each call's start (issue 18). The tools are fixed at construction; the specs are frozen.
    const key = o.hasClient === false ? 'withoutClient' : 'all';
    let specs = this.specCache.get(key);
    if (!specs) {
      specs = [...this.tools.values()].filter((t) => !(t.requiresClient && o.hasClient === false)).map((t) => {
        const { $schema: _ignored, ...parameters } = z.toJSONSchema(t.args) as Record<string, unknown>;
        return deepFreeze({ name: t.name, description: t.description, parameters });
      });
      this.specCache.set(key, specs);
    }
    return [...specs];
  }

  /** Whether `name` runs beside the store (see ToolDefinition.runsOnMain). */
  runsOnMain(name: string): boolean {
    return this.tools.get(name)?.runsOnMain === true;
  }

  /**
   * Runs a tool call from the model. Failures never escape: unknown tools, bad arguments and thrown
   * errors become a short message the model can act on, and the turn goes on.
   */
  async dispatch(ctx: ToolContext, name: string, argsJson: string): Promise<ToolOutcome & { ok: boolean; args: unknown }> {
    const tool = this.tools.get(name);
    if (!tool) return { ok: false, args: argsJson, output: `Error: there is no tool named "${name}".`, reply: true };
    let raw: unknown;
    try {
      raw = argsJson.trim() ? JSON.parse(argsJson) : {};
    } catch {
      return { ok: false, args: argsJson, output: `Error: arguments for ${name} were not valid JSON.`, reply: true };
    }
    const parsed = tool.args.safeParse(raw);
    if (!parsed.success) {
      return { ok: false, args: raw, output: `Error: invalid arguments for ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')}`, reply: true };
    }
    try {
      return { ok: true, args: parsed.data, ...(await tool.run(ctx, parsed.data)) };
    } catch (err) {
      return { ok: false, args: parsed.data, output: `Error: ${name} failed: ${(err as Error).message}`, reply: true };
    }
  }
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
