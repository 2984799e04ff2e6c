/**
 * Client event validation. Objects are strict on purpose: the real GA server rejects unknown parameters
 * (`unknown_parameter`), and the most likely product bug is mixing beta-protocol fields
 * (`input_audio_format`, `modalities`, `voice` at top level) into GA events. Failing loudly here catches that
 * before it reaches a real call.
 */
import { z } from 'zod';
import { RealtimeRequestError } from './protocol.js';

const AudioFormat = z.union([
  z.strictObject({ type: z.literal('audio/pcmu') }),
  z.strictObject({ type: z.literal('audio/pcma') }),
  z.strictObject({ type: z.literal('audio/pcm'), rate: z.literal(24000).optional() }),
]);

const ServerVad = z.strictObject({
  type: z.literal('server_vad'),
  threshold: z.number().min(0).max(1).optional(),
  prefix_padding_ms: z.number().int().min(0).optional(),
  silence_duration_ms: z.number().int().min(0).optional(),
  create_response: z.boolean().optional(),
  interrupt_response: z.boolean().optional(),
  idle_timeout_ms: z.number().int().min(0).nullable().optional(),
});

const SemanticVad = z.strictObject({
  type: z.literal('semantic_vad'),
  eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
  create_response: z.boolean().optional(),
  interrupt_response: z.boolean().optional(),
});

const Transcription = z.strictObject({
  model: z.string().optional(),
  language: z.string().optional(),
  prompt: z.string().optional(),
  delay: z.enum(['minimal', 'low', 'medium', 'high', 'xhigh']).optional(),
});

const Voice = z.union([z.string(), z.strictObject({ id: z.string() })]);

const FunctionTool = z.strictObject({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().optional(),
  parameters: z.unknown().optional(),
});
// MCP tools are not simulated; accept their shape loosely so a config containing one still loads.
const McpTool = z.looseObject({ type: z.literal('mcp'), server_label: z.string() });
const Tools = z.array(z.discriminatedUnion('type', [FunctionTool, McpTool]));

const ToolChoice = z.union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.string() })]);
const MaxOutputTokens = z.union([z.number().int().min(1).max(4096), z.literal('inf')]);
const Modalities = z.array(z.enum(['audio', 'text'])).length(1);
const Prompt = z.looseObject({ id: z.string() }).nullable();

export const SessionUpdateSchema = z.strictObject({
  type: z.literal('realtime'),
  model: z.string().optional(),
  instructions: z.string().optional(),
  output_modalities: Modalities.optional(),
  audio: z
    .strictObject({
      input: z
        .strictObject({
          format: AudioFormat.optional(),
          noise_reduction: z.strictObject({ type: z.enum(['near_field', 'far_field']) }).nullable().optional(),
          transcription: Transcription.nullable().optional(),
          turn_detection: z.discriminatedUnion('type', [ServerVad, SemanticVad]).nullable().optional(),
        })
        .optional(),
      output: z
        .strictObject({
          format: AudioFormat.optional(),
          voice: Voice.optional(),
          speed: z.number().min(0.25).max(1.5).optional(),
        })
        .optional(),
    })
    .optional(),
  tools: Tools.optional(),
  tool_choice: ToolChoice.optional(),
  max_output_tokens: MaxOutputTokens.optional(),
  include: z.array(z.literal('item.input_audio_transcription.logprobs')).nullable().optional(),
  prompt: Prompt.optional(),
  tracing: z.union([z.literal('auto'), z.looseObject({})]).nullable().optional(),
  truncation: z
    .union([z.enum(['auto', 'disabled']), z.looseObject({ type: z.literal('retention_ratio'), retention_ratio: z.number() })])
    .optional(),
  parallel_tool_calls: z.boolean().optional(),
  reasoning: z.looseObject({}).optional(),
});

const ItemCommon = {
  id: z.string().optional(),
  object: z.literal('realtime.item').optional(),
  status: z.enum(['completed', 'incomplete', 'in_progress']).optional(),
};

const ContentPart = z.looseObject({
  type: z.enum(['input_text', 'input_audio', 'input_image', 'output_text', 'output_audio', 'text']),
  text: z.string().optional(),
  transcript: z.string().nullable().optional(),
  audio: z.string().optional(),
});

export const ItemSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...ItemCommon, type: z.literal('message'), role: z.enum(['user', 'assistant', 'system']), content: z.array(ContentPart) }),
  z.strictObject({ ...ItemCommon, type: z.literal('function_call_output'), call_id: z.string().min(1), output: z.string() }),
  z.strictObject({ ...ItemCommon, type: z.literal('function_call'), call_id: z.string().optional(), name: z.string(), arguments: z.string() }),
]);
export type ItemInput = z.infer<typeof ItemSchema>;

const ResponseParams = z.strictObject({
  audio: z.strictObject({ output: z.strictObject({ format: AudioFormat.optional(), voice: Voice.optional() }).optional() }).optional(),
  conversation: z.string().optional(),
  input: z.array(z.looseObject({ type: z.string() })).optional(),
  instructions: z.string().optional(),
  max_output_tokens: MaxOutputTokens.optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  output_modalities: Modalities.optional(),
  parallel_tool_calls: z.boolean().optional(),
  prompt: Prompt.optional(),
  reasoning: z.looseObject({}).optional(),
  tool_choice: ToolChoice.optional(),
  tools: Tools.optional(),
});

const base = { event_id: z.string().optional() };

/** One schema per client event type the GA server accepts over WebSocket. */
export const ClientEventSchemas = {
  'session.update': z.strictObject({ ...base, type: z.literal('session.update'), session: SessionUpdateSchema }),
  'input_audio_buffer.append': z.strictObject({ ...base, type: z.literal('input_audio_buffer.append'), audio: z.string() }),
  'input_audio_buffer.commit': z.strictObject({ ...base, type: z.literal('input_audio_buffer.commit') }),
  'input_audio_buffer.clear': z.strictObject({ ...base, type: z.literal('input_audio_buffer.clear') }),
  'output_audio_buffer.clear': z.strictObject({ ...base, type: z.literal('output_audio_buffer.clear') }),
  'conversation.item.create': z.strictObject({
    ...base,
    type: z.literal('conversation.item.create'),
    previous_item_id: z.string().nullable().optional(),
    item: ItemSchema,
  }),
  'conversation.item.retrieve': z.strictObject({ ...base, type: z.literal('conversation.item.retrieve'), item_id: z.string() }),
  'conversation.item.delete': z.strictObject({ ...base, type: z.literal('conversation.item.delete'), item_id: z.string() }),
  'conversation.item.truncate': z.strictObject({
    ...base,
    type: z.literal('conversation.item.truncate'),
    item_id: z.string(),
    content_index: z.number().int().min(0),
    audio_end_ms: z.number().int().min(0),
  }),
  'response.create': z.strictObject({ ...base, type: z.literal('response.create'), response: ResponseParams.optional() }),
  'response.cancel': z.strictObject({ ...base, type: z.literal('response.cancel'), response_id: z.string().optional() }),
} as const;

export type ClientEventType = keyof typeof ClientEventSchemas;
export type ParsedClientEvent<T extends ClientEventType> = z.infer<(typeof ClientEventSchemas)[T]>;

export function isClientEventType(type: string): type is ClientEventType {
  return Object.prototype.hasOwnProperty.call(ClientEventSchemas, type);
}

/** Validates one event, throwing the error the real API would send (`unknown_parameter`, `missing_required_parameter`, ...). */
export function parseClientEvent<T extends ClientEventType>(type: T, raw: unknown): ParsedClientEvent<T> {
  const result = ClientEventSchemas[type].safeParse(raw);
  if (result.success) return result.data as ParsedClientEvent<T>;
  throw issueToError(result.error.issues, raw);
}

function formatParam(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${String(seg)}` : String(seg);
  return out;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

function issueToError(issues: z.core.$ZodIssue[], raw: unknown): RealtimeRequestError {
  // Unknown keys first: they name the offending field most precisely (e.g. a beta-era parameter).
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
  if (issue.code === 'unrecognized_keys') {
    const param = formatParam([...issue.path, issue.keys[0]]);
    return new RealtimeRequestError('unknown_parameter', `Unknown parameter: '${param}'.`, param);
  }
  const param = formatParam(issue.path);
  const value = valueAt(raw, issue.path);
  if (value === undefined) {
    return new RealtimeRequestError('missing_required_parameter', `Missing required parameter: '${param}'.`, param);
  }
  if (issue.code === 'invalid_type') {
    return new RealtimeRequestError('invalid_type', `Invalid type for '${param}': ${issue.message}.`, param);
  }
  const shown = JSON.stringify(value);
  if (issue.code === 'invalid_union' && param.endsWith('.format')) {
    return new RealtimeRequestError(
      'invalid_value',
      `Invalid value for '${param}': ${shown}. Supported values are: {"type":"audio/pcm","rate":24000}, {"type":"audio/pcmu"}, {"type":"audio/pcma"}.`,
      param,
    );
  }
  return new RealtimeRequestError('invalid_value', `Invalid value for '${param}': ${shown}. ${issue.message}.`, param);
}
