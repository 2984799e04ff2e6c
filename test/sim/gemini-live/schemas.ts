/**
 * Client message validation. The real service parses messages as protobuf JSON, which rejects unknown fields
 * and wrong types by closing with 1007. The levels the simulator acts on are strict, so a misspelt field
 * (`realtimeInputConfig.automaticActivityDetection.silenceMs`) fails here as it would against Google;
 * free-form parts (schemas, args, content parts) are left loose.
 */
import { z } from 'zod';
import { CLIENT_MESSAGE_KINDS, CLOSE_INVALID, ProtocolError, unknownField, type ClientMessageKind } from './protocol.js';

const Blob = z.strictObject({ mimeType: z.string().optional(), data: z.string() });
const Part = z.looseObject({ text: z.string().optional() });
const Content = z.looseObject({ role: z.string().optional(), parts: z.array(Part).optional() });

const FunctionDeclaration = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  parameters: z.unknown().optional(),
});
const Tool = z.looseObject({ functionDeclarations: z.array(FunctionDeclaration).optional() });

const Sensitivity = z.string();
const AutomaticActivityDetection = z.strictObject({
  disabled: z.boolean().optional(),
  startOfSpeechSensitivity: Sensitivity.optional(),
  endOfSpeechSensitivity: Sensitivity.optional(),
  prefixPaddingMs: z.number().int().min(0).optional(),
  silenceDurationMs: z.number().int().min(0).optional(),
});

const RealtimeInputConfig = z.strictObject({
  automaticActivityDetection: AutomaticActivityDetection.optional(),
  activityHandling: z.enum(['ACTIVITY_HANDLING_UNSPECIFIED', 'START_OF_ACTIVITY_INTERRUPTS', 'NO_INTERRUPTION']).optional(),
  turnCoverage: z.string().optional(),
});

const GenerationConfig = z.looseObject({
  responseModalities: z.array(z.enum(['MODALITY_UNSPECIFIED', 'TEXT', 'IMAGE', 'AUDIO'])).optional(),
  speechConfig: z.looseObject({}).optional(),
});

/** Every field of BidiGenerateContentSetup the Gemini Developer API knows (js-genai liveClientSetupToMldev, plus historyConfig). */
export const SetupSchema = z.strictObject({
  model: z.string().min(1),
  generationConfig: GenerationConfig.optional(),
  systemInstruction: Content.optional(),
  tools: z.array(Tool).optional(),
  realtimeInputConfig: RealtimeInputConfig.optional(),
  sessionResumption: z.strictObject({ handle: z.string().optional(), transparent: z.boolean().optional() }).optional(),
  contextWindowCompression: z.looseObject({}).optional(),
  inputAudioTranscription: z.looseObject({}).optional(),
  outputAudioTranscription: z.looseObject({}).optional(),
  proactivity: z.looseObject({}).optional(),
  historyConfig: z.looseObject({}).optional(),
});

const Empty = z.strictObject({});

export const RealtimeInputSchema = z.strictObject({
  audio: Blob.optional(),
  /** Deprecated in favour of `audio`, still accepted by the service. */
  mediaChunks: z.array(Blob).optional(),
  video: Blob.optional(),
  text: z.string().optional(),
  activityStart: Empty.optional(),
  activityEnd: Empty.optional(),
  audioStreamEnd: z.boolean().optional(),
});

export const ClientContentSchema = z.strictObject({
  turns: z.array(Content).optional(),
  /** Proto default is false: a raw client that omits it gets no reply (the SDK sets true for you). */
  turnComplete: z.boolean().optional(),
});

export const ToolResponseSchema = z.strictObject({
  functionResponses: z.array(
    z.looseObject({
      id: z.string().optional(),
      name: z.string().optional(),
      response: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});

export type Setup = z.infer<typeof SetupSchema>;
export type RealtimeInput = z.infer<typeof RealtimeInputSchema>;
export type ClientContent = z.infer<typeof ClientContentSchema>;
export type ToolResponse = z.infer<typeof ToolResponseSchema>;

const SCHEMAS = {
  setup: SetupSchema,
  realtimeInput: RealtimeInputSchema,
  clientContent: ClientContentSchema,
  toolResponse: ToolResponseSchema,
} as const;

export type ParsedClientMessage =
  | { kind: 'setup'; body: Setup }
  | { kind: 'realtimeInput'; body: RealtimeInput }
  | { kind: 'clientContent'; body: ClientContent }
  | { kind: 'toolResponse'; body: ToolResponse };

export function isClientMessageKind(key: string): key is ClientMessageKind {
  return (CLIENT_MESSAGE_KINDS as readonly string[]).includes(key);
}

/** Validates one decoded JSON value as a BidiGenerateContentClientMessage; throws ProtocolError (1007). */
export function parseClientMessage(value: unknown): ParsedClientMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(CLOSE_INVALID, 'Invalid JSON payload received. Expected an object.');
  }
  const keys = Object.keys(value);
  const unknown = keys.find((k) => !isClientMessageKind(k));
  if (unknown !== undefined) throw unknownField(unknown, '');
  if (keys.length === 0) throw new ProtocolError(CLOSE_INVALID, 'Request contains an invalid argument.');
  if (keys.length > 1) {
    throw new ProtocolError(CLOSE_INVALID, `Invalid JSON payload received. Oneof field 'message_type' is already set. Cannot set '${keys[1]}'`);
  }
  const kind = keys[0] as ClientMessageKind;
  const result = SCHEMAS[kind].safeParse((value as Record<string, unknown>)[kind]);
  if (!result.success) throw toProtocolError(result.error, kind);
  return { kind, body: result.data } as ParsedClientMessage;
}

function toProtocolError(error: z.ZodError, kind: string): ProtocolError {
  const issue = error.issues[0];
  const path = [kind, ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') return unknownField(issue.keys[0], path);
  return new ProtocolError(CLOSE_INVALID, `Invalid value at '${path}': ${issue.message}`);
}
