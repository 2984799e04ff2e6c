/**
 * POST /v1/chat/completions with `stream: true`, answering as the servers users meet do (README.md):
 * tool calls in fragments (OpenAI, vLLM, llama.cpp) or whole (Ollama), thinking inline as <think>…</think>
 * or in a `reasoning_content` field, `tool_choice` refused (as an older llama.cpp or a strict proxy does),
 * a usage chunk when `stream_options.include_usage` is asked for.
 */
import type { ServerResponse } from 'node:http';

export type ToolCallShape = 'fragments' | 'whole' | 'whole-index0';
export type ReasoningShape = 'none' | 'think-tags' | 'reasoning-field';

export interface LlmTurn {
  say?: string;
  call?: { name: string; args: Record<string, unknown> };
  /** A second call in the same reply (parallel tool calls). */
  call2?: { name: string; args: Record<string, unknown> };
}

export interface LlmSimOptions {
  shape?: ToolCallShape;
  reasoning?: ReasoningShape;
  /** Refuse requests that carry `tool_choice` with 400, as servers without support for it do. */
  rejectToolChoice?: boolean;
  /** Pause between streamed chunks (a token rate), ms. */
  tokenDelayMs?: number;
  /** Pause before the first chunk (a model's time to first token: prompt processing), ms. */
  firstTokenDelayMs?: number;
  /** Fault: the connection is cut halfway through the reply's words (no `[DONE]`, no finish_reason). */
  dropMidway?: boolean;
  /** The ids of the reply's tool calls, in order (default: random ones). */
  callIds?: string[];
  /** What to answer; `i` counts requests from 0. Default: the turns in order, then "Okay." */
  reply?: (i: number, body: ChatRequest) => LlmTurn;
}

export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content?: string | null; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; tool_call_id?: string }>;
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
  tool_choice?: unknown;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

export interface LlmRecord {
  body: ChatRequest;
  /** Date.now() when the request arrived (tests order it against what the callee heard). */
  at: number;
  /** The stream was cut by the client before its end (a barge-in cancelled the reply). */
  aborted: boolean;
  /** With a scenario: the instructions for this reply alone (what follows the session's in the system message). */
  instructions?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function answerChat(res: ServerResponse, body: ChatRequest, turn: LlmTurn, o: LlmSimOptions, record: LlmRecord): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.on('close', () => {
    if (!res.writableFinished) record.aborted = true;
  });
  const id = `chatcmpl-sim${Math.random().toString(36).slice(2, 10)}`;
  const base = { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: body.model };
  if (o.firstTokenDelayMs) await sleep(o.firstTokenDelayMs);
  const send = async (delta: Record<string, unknown>, finish: string | null = null) => {
    if (res.destroyed) return;
    res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
    if (o.tokenDelayMs) await sleep(o.tokenDelayMs);
  };
  await send({ role: 'assistant', content: '' });
  const thinking = 'The callee asked something; I should answer briefly.';
  if (o.reasoning === 'reasoning-field') for (const w of words(thinking)) await send({ reasoning_content: w });
  if (o.reasoning === 'think-tags') {
    // Split inside the tags on purpose: a real tokenizer does not respect them either.
    for (const piece of ['<thi', 'nk>', ...words(thinking), '</th', 'ink>', '\n\n']) await send({ content: piece });
  }
  const said = words(turn.say ?? '');
  for (const [n, w] of said.entries()) {
    if (o.dropMidway && n >= said.length / 2) return void res.socket?.destroy();
    await send({ content: w });
  }
  const calls = [turn.call, turn.call2].filter((c): c is NonNullable<LlmTurn['call']> => Boolean(c));
  for (const [n, c] of calls.entries()) {
    const callId = o.callIds?.[n] ?? newCallId();
    const args = JSON.stringify(c.args);
    const index = o.shape === 'whole-index0' ? 0 : n;
    if (o.shape === 'whole' || o.shape === 'whole-index0') {
      await send({ tool_calls: [{ index, id: callId, type: 'function', function: { name: c.name, arguments: args } }] });
    } else {
      await send({ tool_calls: [{ index, id: callId, type: 'function', function: { name: c.name, arguments: '' } }] });
      for (let i = 0; i < args.length; i += 7) await send({ tool_calls: [{ index, function: { arguments: args.slice(i, i + 7) } }] });
    }
  }
  await send({}, calls.length ? 'tool_calls' : 'stop');
  if (body.stream_options?.include_usage && !res.destroyed) {
    const prompt = body.messages.reduce((a, m) => a + (m.content?.length ?? 0), 0);
    res.write(`data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: Math.ceil(prompt / 4), completion_tokens: words(turn.say ?? '').length + 5 * calls.length, total_tokens: 0 } })}\n\n`);
  }
  if (!res.destroyed) res.end('data: [DONE]\n\n');
}

export function newCallId(): string {
  return `call_${Math.random().toString(36).slice(2, 10)}`;
}

/** Text as a tokenizer streams it: word by word, each word with its leading space. */
export function words(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}
