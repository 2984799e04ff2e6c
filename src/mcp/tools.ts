/**
 * The MCP tools, defined once and served by both transports (stdio via `callwright mcp`, streamable
 * HTTP at `/mcp`). Each tool is a thin call to the REST API through ApiClient: the dial policy, caps and
 * validation are the server's, so an AI agent can do nothing the REST API would refuse.
 */
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ApiError, UnreachableError, type ApiClient, type CallDetail } from '../client/api-client.js';
import { CALL_STATUSES } from '../calls/state.js';
import { ENGINE_NAMES } from '../voice/engine-names.js';

/** How long wait_for_call waits at most in one request; an agent that needs longer calls it again. */
export const WAIT_MAX_SEC = 600;
const WAIT_DEFAULT_SEC = 50;
/** Each poll is one GET /api/calls/:id, counted by the rate limit like any other request. */
const POLL_MS = 1000;

const POLICY_NOTE =
  'Every call goes through Callwright\'s dial policy and caps, exactly as calls placed from the web UI or REST API: emergency, premium-rate and invalid numbers are refused, and so are numbers outside ALLOWED_DESTINATIONS, numbers on the do-not-call list, calls outside the callee\'s calling hours, and calls over the daily, concurrent or daily-spend caps; a live call is ended at the per-call cost cap and the longest-call limit. A refusal comes back as an error naming the rule; do not try to work around it.';

const callId = z.string().uuid().describe('The call id returned by place_call or list_calls');

/** Registers every Callwright tool on `server`, backed by `api`. */
export function registerCallwrightTools(server: McpServer, api: ApiClient): void {
  server.registerTool(
    'place_call',
    {
      title: 'Place a phone call',
      description:
        'Places a real phone call: an AI voice agent calls `to` on behalf of a client and follows the instructions (or a runbook). Returns the call id at once; use get_call or wait_for_call to follow it. ' +
        'The agent says it is an AI assistant and never invents facts it does not have. ' +
        POLICY_NOTE,
      inputSchema: {
        to: z.string().min(1).max(32).describe('The number to call, E.164 (e.g. +14155550123)'),
        instructions: z.string().max(8000).optional().describe('What the call is for, in plain words. Required unless a runbook is named; with a runbook, added as notes for this call'),
        clientId: z.string().max(64).optional().describe('The client the call is made for (list_clients); the agent uses their profile and documents'),
        runbook: z.string().max(64).optional().describe('A runbook to follow (list_runbooks); fill in its variables'),
        variables: z.record(z.string(), z.string()).optional().describe("The runbook's variables, name: value"),
        provider: z.enum(ENGINE_NAMES).optional().describe('The voice engine (default: the server setting)'),
        dtmf: z.string().max(64).optional().describe('Keys to press once the callee first speaks, e.g. "1w204#" (w = half-second pause)'),
        metadata: z
          .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
          .optional()
          .describe('Your own labels for the call (e.g. {"orderId": "A-1001"}), kept and returned with it; at most 20 keys'),
      },
      annotations: { destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    (args) =>
      run(async () => {
        const r = await api.createCall(args);
        return { ...r, next: 'Call wait_for_call with this id to follow it to the end, or get_call for the transcript so far.' };
      }),
  );

  server.registerTool(
    'get_call',
    {
      title: 'Get a call',
      description: "A call's status, the transcript so far (both sides), tool calls, end reason, outcome (when the server has computed one) and cost.",
      inputSchema: { id: callId },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ id }) => run(async () => callView(await api.getCall(id))),
  );

  server.registerTool(
    'wait_for_call',
    {
      title: 'Wait for a call to end',
      description: `Waits until the call has ended, or at most timeoutSec seconds (default ${WAIT_DEFAULT_SEC}, at most ${WAIT_MAX_SEC}), then returns the same as get_call plus ended: true or false. If it has not ended yet, call it again.`,
      inputSchema: { id: callId, timeoutSec: z.number().int().min(1).max(WAIT_MAX_SEC).optional().describe(`Seconds to wait at most (default ${WAIT_DEFAULT_SEC})`) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ id, timeoutSec }, extra) =>
      run(async () => {
        const deadline = Date.now() + (timeoutSec ?? WAIT_DEFAULT_SEC) * 1000;
        for (;;) {
          const call = await api.getCall(id);
          const ended = call.status === 'ended';
          if (ended || Date.now() >= deadline || extra.signal.aborted) return { ended, ...callView(call) };
          await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
        }
      }),
  );

  server.registerTool(
    'list_calls',
    {
      title: 'List calls',
      description: 'Calls, newest first, with status, number, client, duration, end reason and cost. Filter by status, client or text; page with cursor.',
      inputSchema: {
        status: z.enum([...CALL_STATUSES, 'live']).optional().describe('A status, or live for any before ended'),
        clientId: z.string().max(64).optional(),
        q: z.string().max(200).optional().describe('Text to find in the number, client or instructions'),
        limit: z.number().int().min(1).max(100).optional(),
        cursor: z.string().max(200).optional().describe('nextCursor from the previous page'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) => run(() => api.listCalls(args)),
  );

  server.registerTool(
    'hang_up',
    {
      title: 'Hang up a call',
      description: 'Ends a live call now (end reason user-hangup). An error if the call has already ended.',
      inputSchema: { id: callId },
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    ({ id }) => run(() => api.hangup(id)),
  );

  server.registerTool(
    'list_clients',
    {
      title: 'List clients',
      description: 'The clients calls can be made for (their id goes in place_call.clientId), with how many documents each has.',
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => run(() => api.listClients()),
  );

  server.registerTool(
    'search_documents',
    {
      title: "Search a client's documents",
      description:
        "Searches a client's documents the way the phone agent's lookup_context does, with the client's sharing rules applied: passages from documents marked never are not returned. Use it to check what the agent will know before placing a call.",
      inputSchema: {
        clientId: z.string().min(1).max(64),
        query: z.string().min(1).max(2000),
        k: z.number().int().min(1).max(20).optional().describe('How many passages (default: the server setting)'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ clientId, query, k }) =>
      run(async () => {
        const r = await api.searchDocuments(clientId, query, { k, view: 'agent' });
        return { query: r.query, mode: r.mode, results: r.results.map((p) => ({ file: p.file, page: p.page, score: p.score, text: p.text })) };
      }),
  );

  server.registerTool(
    'list_runbooks',
    {
      title: 'List runbooks',
      description: 'Reusable call plans (cancel a subscription, book an appointment, ...): name, title, goal and the variables place_call must fill in. Invalid ones list their problems and cannot be used.',
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => run(() => api.listRunbooks()),
  );
}

/** What an agent needs of a call: no internal fields, the transcript as plain turns. */
export function callView(c: CallDetail): Record<string, unknown> {
  return {
    id: c.id,
    status: c.status,
    to: c.to,
    clientId: c.clientId,
    provider: c.provider,
    createdAt: c.createdAt,
    answeredAt: c.answeredAt,
    answeredBy: c.answeredBy,
    endedAt: c.endedAt,
    endReason: c.endReason,
    error: c.error,
    durationSec: c.durationSec,
    metadata: c.metadata ?? {},
    ...(c.outcome !== undefined ? { outcome: c.outcome } : {}),
    transcript: c.transcript.map((t) => ({ speaker: t.speaker, atSec: t.offsetSec, text: t.interrupted ? t.interrupted.heardText : t.text, ...(t.interrupted ? { interrupted: true } : {}) })),
    toolCalls: c.toolCalls.map((t) => ({ name: t.name, arguments: t.arguments, ...(t.result !== undefined ? { result: t.result } : {}) })),
    cost: { total: c.cost.total, currency: c.cost.currency },
    hasRecording: c.recording !== null,
  };
}

/** Runs a tool body: its value as JSON text, or the API's refusal as a tool error the model can read. */
async function run(body: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    const value = await body();
    return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] };
  } catch (err) {
    return { isError: true, content: [{ type: 'text', text: describeError(err) }] };
  }
}

export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const parts = [err.rule ? `Refused by the dial policy or a cap (rule: ${err.rule}): ${err.message}` : err.message];
    if (err.field && !err.rule) parts.push(`(field: ${err.field})`);
    if (err.retryAfterSec) parts.push(`Try again in ${err.retryAfterSec} s.`);
    return `${parts.join(' ')} [HTTP ${err.status}]`;
  }
  if (err instanceof UnreachableError) return err.message;
  return `Unexpected error: ${(err as Error)?.message ?? String(err)}`;
}
