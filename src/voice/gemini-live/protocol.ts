/**
 * Gemini Live (BidiGenerateContent) wire codec: builders for the client messages Callwright sends and a
 * validating parser for the server messages it acts on. Pure functions, no socket.
 */
import type { ToolSpec } from '../engine.js';
import { isBase64 } from '../../media/audio-chunk.js';
import { pickUsage, type UsageShape } from '../usage-shape.js';

export interface SetupInput {
  model: string;
  instructions: string;
  voice: string;
  tools: ToolSpec[];
  silenceMs: number;
  /** Resume a previous session (same conversation) with the handle the server gave. */
  resumeHandle?: string;
}

export function buildSetup(c: SetupInput): string {
  return JSON.stringify({
    setup: {
      model: c.model.startsWith('models/') ? c.model : `models/${c.model}`,
      generationConfig: { responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: c.voice } } } },
      systemInstruction: { parts: [{ text: c.instructions }] },
      // BLOCKING: the model waits for each result (the bridge's end_call and barge-in rules rely on it);
      // gemini-3.8-live otherwise defaults to NON_BLOCKING and talks on while a tool runs.
      tools: c.tools.length ? [{ functionDeclarations: c.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters, behavior: 'BLOCKING' })) }] : [],
      // NO_INTERRUPTION: the bridge decides what is a barge-in (docs/barge-in.md); with the default
      // START_OF_ACTIVITY_INTERRUPTS the model stops its reply on any noise its VAD takes for speech.
      realtimeInputConfig: { automaticActivityDetection: { disabled: false, silenceDurationMs: c.silenceMs }, activityHandling: 'NO_INTERRUPTION' },
      inputAudioTranscription: {},
      outputAudioTranscription: {},
      // Always ask for resumption handles: a goAway or a dropped socket then costs a short pause, not the call.
      sessionResumption: c.resumeHandle ? { handle: c.resumeHandle } : {},
      contextWindowCompression: { slidingWindow: {} },
    },
  });
}

/**
 * A transcription-only session (ai.google.dev, "Live transcription with Gemini Live API": a
 * `*-transcribe-live` model, `responseModalities: ['TEXT']`, `inputAudioTranscription`): it streams the
 * words of the audio it hears and never speaks.
 */
export function buildTranscriberSetup(c: { model: string; silenceMs: number }): string {
  return JSON.stringify({
    setup: {
      model: c.model.startsWith('models/') ? c.model : `models/${c.model}`,
      generationConfig: { responseModalities: ['TEXT'] },
      realtimeInputConfig: { automaticActivityDetection: { disabled: false, silenceDurationMs: c.silenceMs } },
      inputAudioTranscription: {},
    },
  });
}

/** PCM16 LE at 16 kHz, base64; hand-built because it runs 50 times a second per call. */
export function buildAudioInput(base64Pcm16k: string): string {
  return `{"realtimeInput":{"audio":{"data":"${base64Pcm16k}","mimeType":"audio/pcm;rate=16000"}}}`;
}

/** The audio pauses: speech in progress ends now, and its words are sent (Live API, `audioStreamEnd`). */
export function buildAudioStreamEnd(): string {
  return '{"realtimeInput":{"audioStreamEnd":true}}';
}

export function buildTextTurn(text: string): string {
  return JSON.stringify({ clientContent: { turns: [{ role: 'user', parts: [{ text }] }], turnComplete: true } });
}

export function buildToolResponse(id: string, name: string, output: string): string {
  return JSON.stringify({ toolResponse: { functionResponses: [{ id, name, response: { output } }] } });
}

// ---------------------------------------------------------------------------------------------

export type ModalityCount = { modality?: string; tokenCount?: number };

/** One usageMetadata: the usage of ONE turn (not a running total), billed as reported. */
export interface GeminiUsage {
  /** The whole context the turn was generated from (history included, so it grows turn by turn). */
  promptTokenCount?: number;
  /** This turn's output. */
  responseTokenCount?: number;
  totalTokenCount?: number;
  /** Part of promptTokenCount that came from a cache (billed at the cached rate). */
  cachedContentTokenCount?: number;
  /** Thinking, billed as output; not part of responseTokenCount. */
  thoughtsTokenCount?: number;
  /** The results of built-in tools (search) fed back to the model, billed as input; not part of promptTokenCount. */
  toolUsePromptTokenCount?: number;
  promptTokensDetails?: ModalityCount[];
  responseTokensDetails?: ModalityCount[];
  cacheTokensDetails?: ModalityCount[];
  toolUsePromptTokensDetails?: ModalityCount[];
}

/** One server message can carry several things at once (e.g. audio and a transcription fragment). */
export interface ServerMessage {
  setupComplete: boolean;
  audio: string[];
  outputTranscript?: string;
  inputTranscript?: string;
  inputFinished: boolean;
  interrupted: boolean;
  generationComplete: boolean;
  turnComplete: boolean;
  toolCalls: Array<{ id: string; name: string; args: unknown }>;
  toolCallCancellations: string[];
  usage?: GeminiUsage;
  goAwayTimeLeft?: string;
  resumption?: { handle: string; resumable: boolean };
}

const DETAILS: [UsageShape] = [{ modality: 'string', tokenCount: 'count' }];
const USAGE: UsageShape = {
  promptTokenCount: 'count',
  responseTokenCount: 'count',
  totalTokenCount: 'count',
  cachedContentTokenCount: 'count',
  thoughtsTokenCount: 'count',
  toolUsePromptTokenCount: 'count',
  promptTokensDetails: DETAILS,
  responseTokensDetails: DETAILS,
  cacheTokensDetails: DETAILS,
  toolUsePromptTokensDetails: DETAILS,
};

export class GeminiMessageError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseServerMessage(raw: string): ServerMessage {
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    throw new GeminiMessageError('server message is not valid JSON');
  }
  if (!isObj(m)) throw new GeminiMessageError('server message is not a JSON object');
  const out: ServerMessage = { setupComplete: 'setupComplete' in m, audio: [], inputFinished: false, interrupted: false, generationComplete: false, turnComplete: false, toolCalls: [], toolCallCancellations: [] };
  const sc = m.serverContent;
  if (sc !== undefined) {
    if (!isObj(sc)) throw new GeminiMessageError('serverContent must be an object');
    const turn = sc.modelTurn;
    if (isObj(turn) && Array.isArray(turn.parts)) {
      for (const p of turn.parts) {
        const d = isObj(p) && isObj(p.inlineData) ? p.inlineData : undefined;
        if (!d) continue;
        if (typeof d.data !== 'string' || !isBase64(d.data)) throw new GeminiMessageError('modelTurn inlineData.data is not base64 audio');
        if (typeof d.mimeType === 'string' && !d.mimeType.startsWith('audio/pcm')) continue;
        out.audio.push(d.data);
      }
    }
    if (isObj(sc.outputTranscription) && typeof sc.outputTranscription.text === 'string') out.outputTranscript = sc.outputTranscription.text;
    if (isObj(sc.inputTranscription)) {
      if (typeof sc.inputTranscription.text === 'string') out.inputTranscript = sc.inputTranscription.text;
      out.inputFinished = sc.inputTranscription.finished === true;
    }
    out.interrupted = sc.interrupted === true;
    out.generationComplete = sc.generationComplete === true;
    out.turnComplete = sc.turnComplete === true;
  }
  if (isObj(m.toolCall)) {
    const calls = m.toolCall.functionCalls;
    if (!Array.isArray(calls)) throw new GeminiMessageError('toolCall.functionCalls must be an array');
    for (const c of calls) {
      if (!isObj(c) || typeof c.name !== 'string' || typeof c.id !== 'string') throw new GeminiMessageError('functionCall needs an id and a name');
      out.toolCalls.push({ id: c.id, name: c.name, args: c.args ?? {} });
    }
  }
  if (isObj(m.toolCallCancellation) && Array.isArray(m.toolCallCancellation.ids)) out.toolCallCancellations = m.toolCallCancellation.ids.filter((x): x is string => typeof x === 'string');
  const usage = pickUsage<GeminiUsage>(m.usageMetadata, USAGE);
  if (usage) out.usage = usage;
  if (isObj(m.goAway)) out.goAwayTimeLeft = typeof m.goAway.timeLeft === 'string' ? m.goAway.timeLeft : '0s';
  if (isObj(m.sessionResumptionUpdate)) {
    const u = m.sessionResumptionUpdate;
    if (typeof u.newHandle === 'string' && u.newHandle) out.resumption = { handle: u.newHandle, resumable: u.resumable !== false };
  }
  return out;
}

/**
 * The billed meters of one usageMetadata. Gemini Live reports each turn on its own (the prompt side is the
 * whole context, re-billed every turn), so every report is billed in full: summing reports is the bill.
 * Per-modality details split a count into audio and text; what the details do not cover (a count with no
 * details, or details that add up to less, as seen on live models) is billed as text. Cached tokens are a
 * subset of the prompt: they move from the input meter to the cached one, never counted twice.
 */
export function usageMeters(u: GeminiUsage): Record<string, number> {
  const m: Record<string, number> = {};
  const add = (meter: string, n: number) => {
    if (n > 0) m[meter] = (m[meter] ?? 0) + n;
  };
  const split = (total: number | undefined, details: ModalityCount[] | undefined) => {
    const by = { audio: 0, text: 0 };
    for (const d of details ?? []) by[(d.modality ?? '').toUpperCase() === 'AUDIO' ? 'audio' : 'text'] += d.tokenCount ?? 0;
    by.text += Math.max(0, (total ?? 0) - by.audio - by.text);
    return by;
  };
  const prompt = split(u.promptTokenCount, u.promptTokensDetails);
  const cached = split(u.cachedContentTokenCount, u.cacheTokensDetails);
  for (const mod of ['audio', 'text'] as const) {
    const c = Math.min(cached[mod], prompt[mod]);
    add(`${mod}_cached_input`, c);
    add(`${mod}_input`, prompt[mod] - c);
  }
  const tool = split(u.toolUsePromptTokenCount, u.toolUsePromptTokensDetails);
  add('audio_input', tool.audio);
  add('text_input', tool.text);
  const response = split(u.responseTokenCount, u.responseTokensDetails);
  add('audio_output', response.audio);
  add('text_output', response.text);
  add('thinking_output', u.thoughtsTokenCount ?? 0);
  return m;
}
