import type OpenAI from 'openai';
import { openAICompatibleClient, serverError } from '../openai-client.js';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ToolSpec } from '../../engine.js';
import { StageError, type ChatLlm, type ChatMessage, type LlmChunk, type ToolCallRequest } from '../stages.js';
import { ThinkFilter } from './think-filter.js';

export interface OpenAIChatOptions {
  /** e.g. http://127.0.0.1:11434/v1 (Ollama), http://127.0.0.1:8080/v1 (llama.cpp), a vLLM or cloud URL. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
}

/**
 * The LLM through any OpenAI-compatible streaming chat-completions endpoint, called with the official SDK.
 * What differs between servers is absorbed here (test/sim/cascade/README.md cites each):
 * - tool calls come in fragments (OpenAI, vLLM, llama.cpp: id and name first, then argument pieces under
 *   the same index) or whole in one chunk (Ollama), possibly several under one index with new ids;
 * - `tool_choice` is never sent: several servers reject it or support only some values, and `auto` is
 *   the default everywhere;
 * - reasoning comes in `reasoning_content`/`reasoning` fields (ignored: only `content` is spoken) or inline
 *   as <think>…</think> in the content (stripped by ThinkFilter).
 */
export class OpenAIChatLlm implements ChatLlm {
  readonly model: string;
  private readonly client: OpenAI;

  constructor(o: OpenAIChatOptions) {
    this.model = o.model;
    this.client = openAICompatibleClient({ ...o, timeoutMs: o.timeoutMs ?? 60_000, maxRetries: 0 });
  }

  async *stream(req: { messages: ChatMessage[]; tools: ToolSpec[] }, signal: AbortSignal): AsyncIterable<LlmChunk> {
    let stream: AsyncIterable<ChatCompletionChunk>;
    try {
      stream = await this.client.chat.completions.create(
        {
          model: this.model,
          messages: req.messages.map(toWire),
          ...(req.tools.length ? { tools: req.tools.map(toolToWire) } : {}),
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal },
      );
    } catch (err) {
      throw asStageError(err);
    }
    const think = new ThinkFilter();
    const calls = new ToolCallAssembler();
    try {
      for await (const chunk of stream) {
        for (const choice of chunk.choices ?? []) {
          const delta = choice.delta;
          if (!delta) continue;
          if (typeof delta.content === 'string' && delta.content) {
            const text = think.push(delta.content);
            if (text) yield { type: 'text', text };
          }
          for (const tc of delta.tool_calls ?? []) calls.add(tc);
        }
        if (chunk.usage) {
          yield { type: 'usage', usage: { provider: 'llm', model: this.model, meters: { text_input: chunk.usage.prompt_tokens ?? 0, text_output: chunk.usage.completion_tokens ?? 0 } } };
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw asStageError(err);
    }
    const rest = think.flush();
    if (rest) yield { type: 'text', text: rest };
    for (const call of calls.done()) yield { type: 'toolCall', call };
  }
}

type WireToolCall = NonNullable<ChatCompletionChunk.Choice['delta']['tool_calls']>[number];

/** Builds complete tool calls from streamed deltas, whole or in fragments. */
export class ToolCallAssembler {
  private readonly open = new Map<number, ToolCallRequest>();
  private readonly finished: ToolCallRequest[] = [];
  private seq = 0;

  add(tc: WireToolCall): void {
    const index = tc.index ?? 0;
    let cur = this.open.get(index);
    // A new id under an index already in use is a new call (Ollama sends whole calls, some all at index 0).
    if (cur && tc.id && cur.id !== tc.id && cur.name) {
      this.finished.push(cur);
      cur = undefined;
    }
    if (!cur) {
      cur = { id: tc.id ?? '', name: '', arguments: '' };
      this.open.set(index, cur);
    }
    if (tc.id && !cur.id) cur.id = tc.id;
    if (tc.function?.name) cur.name = cur.name && cur.name !== tc.function.name ? cur.name + tc.function.name : tc.function.name;
    if (tc.function?.arguments) cur.arguments += tc.function.arguments;
  }

  done(): ToolCallRequest[] {
    const all = [...this.finished, ...[...this.open.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c)];
    this.open.clear();
    this.finished.length = 0;
    return all
      .filter((c) => c.name)
      .map((c) => ({ id: c.id || `call_${++this.seq}_${Date.now().toString(36)}`, name: c.name, arguments: c.arguments.trim() || '{}' }));
  }
}

function toWire(m: ChatMessage): ChatCompletionMessageParam {
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  if (m.role === 'assistant') {
    if (!m.toolCalls?.length) return { role: 'assistant', content: m.content };
    return { role: 'assistant', content: m.content, tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })) };
  }
  return { role: m.role, content: m.content };
}

function toolToWire(t: ToolSpec): ChatCompletionTool {
  return { type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } };
}

export function asStageError(err: unknown): StageError {
  if (err instanceof StageError) return err;
  return serverError('llm', err) ?? new StageError('llm', (err as Error)?.message ?? String(err));
}
