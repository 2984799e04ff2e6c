/**
 * The session configuration: GA defaults as the real server reports them in `session.created`, and the merge
 * rules `session.update` follows.
 */
import type { SessionObject } from './protocol.js';

export const DEFAULT_INSTRUCTIONS =
  "Your knowledge cutoff is 2023-10. You are a helpful, witty, and friendly AI. Act like a human, but remember that you aren't a human and that you can't do human things in the real world. Your voice and personality should be warm and engaging, with a lively and playful tone.";

/** Server VAD defaults; also used to fill fields a client omits when it (re-)enables server_vad. */
export const SERVER_VAD_DEFAULTS = {
  type: 'server_vad',
  threshold: 0.5,
  prefix_padding_ms: 300,
  silence_duration_ms: 200,
  idle_timeout_ms: null,
  create_response: true,
  interrupt_response: true,
} as const;

const SEMANTIC_VAD_DEFAULTS = { type: 'semantic_vad', eagerness: 'auto', create_response: true, interrupt_response: true } as const;

/** The SDK types omit `null` for fields the real server reports as null when unset. */
const UNSET = null as never;

export function defaultSession(id: string, model: string, nowSeconds: number): SessionObject {
  return {
    type: 'realtime',
    object: 'realtime.session',
    id,
    model,
    output_modalities: ['audio'],
    instructions: DEFAULT_INSTRUCTIONS,
    tools: [],
    tool_choice: 'auto',
    max_output_tokens: 'inf',
    tracing: null,
    truncation: 'auto',
    prompt: null,
    expires_at: nowSeconds + 3600,
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 24000 },
        transcription: UNSET,
        noise_reduction: UNSET,
        turn_detection: { ...SERVER_VAD_DEFAULTS },
      },
      output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1 },
    },
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Objects merge recursively; arrays and nulls replace (so `tools: []` clears tools and `turn_detection: null`
 * disables VAD). A format object replaces wholesale, otherwise `{type:'audio/pcmu'}` merged over the default
 * would keep a stray `rate: 24000`.
 */
export function deepMerge(target: unknown, patch: unknown, key = ''): unknown {
  if (!isPlainObject(patch) || !isPlainObject(target) || key === 'format') return structuredClone(patch);
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    out[k] = deepMerge(target[k], v, k);
  }
  return out;
}

/** Applies a validated `session.update` payload, returning the new full session (input is not mutated). */
export function mergeSession(current: SessionObject, patch: Record<string, unknown>): SessionObject {
  // Cloned so no object is shared with the previous config (tests may keep references to old snapshots).
  const merged = structuredClone(deepMerge(current, patch)) as SessionObject;
  const patchTd = (patch as { audio?: { input?: { turn_detection?: { type: string } | null } } }).audio?.input?.turn_detection;
  if (patchTd && merged.audio?.input) {
    // Same VAD type: fields merge. Switching type: start from that type's defaults, because fields of the
    // other type (e.g. silence_duration_ms on semantic_vad) are not valid there.
    const previous = current.audio?.input?.turn_detection;
    const base = previous && previous.type === patchTd.type ? previous : patchTd.type === 'semantic_vad' ? SEMANTIC_VAD_DEFAULTS : SERVER_VAD_DEFAULTS;
    merged.audio.input.turn_detection = { ...base, ...patchTd } as NonNullable<typeof previous>;
  }
  return merged;
}

/** The few values the simulator's behaviour depends on, read from the session config each time they are needed. */
export interface EffectiveTurnDetection {
  silenceDurationMs: number;
  prefixPaddingMs: number;
  createResponse: boolean;
  interruptResponse: boolean;
}

/** Semantic VAD has no silence knob; these mimic its eagerness by picking a plausible end-of-turn pause. */
const SEMANTIC_SILENCE_MS = { low: 1200, medium: 700, auto: 700, high: 300 } as const;

export function effectiveTurnDetection(session: SessionObject): EffectiveTurnDetection | null {
  const td = session.audio?.input?.turn_detection;
  if (!td) return null;
  if (td.type === 'semantic_vad') {
    return {
      silenceDurationMs: SEMANTIC_SILENCE_MS[td.eagerness ?? 'auto'],
      prefixPaddingMs: 300,
      createResponse: td.create_response !== false,
      interruptResponse: td.interrupt_response !== false,
    };
  }
  return {
    silenceDurationMs: td.silence_duration_ms ?? SERVER_VAD_DEFAULTS.silence_duration_ms,
    prefixPaddingMs: td.prefix_padding_ms ?? SERVER_VAD_DEFAULTS.prefix_padding_ms,
    createResponse: td.create_response !== false,
    interruptResponse: td.interrupt_response !== false,
  };
}

export function formatLabel(format: { type?: string; rate?: number } | undefined): string {
  if (!format?.type) return 'unset';
  return format.rate ? `${format.type}@${format.rate}` : format.type;
}
