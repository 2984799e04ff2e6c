import type { LlmChunk } from './stages.js';
import { ClauseSplitter } from './clauses.js';

/**
 * Where one callee turn's reply spent its time (docs/cascade.md#latency), on the monotonic clock
 * (performance.now()), reported as ms after the end of the callee's speech.
 *
 * "Own added latency" is the part of the wait that is the project's: the time from the end of the
 * callee's speech to the first audio sent to the carrier during which neither a stage (the STT request,
 * the LLM until its first speakable clause, the TTS until its first audio) nor the end-of-turn silence
 * (VAD_SILENCE_MS, a setting) was running. It is computed as the total minus the length of the union
 * of those intervals, so work done in parallel (the reply prepared at the callee's pause runs the STT
 * and the LLM inside the silence) is not subtracted twice.
 */
export interface TurnLatencyReport {
  /** The callee's item this reply answers. */
  itemId: string;
  responseId: string;
  /** The reply was prepared at the callee's pause (prefetch) and used. */
  speculative: boolean;
  /** The configured end-of-turn silence. */
  silenceMs: number;
  /** The six marks, ms after the end of the callee's speech; absent when it never happened (no audio). */
  marks: {
    speechEnd: 0;
    endOfTurn: number;
    sttFinal?: number;
    llmFirstToken?: number;
    ttsFirstAudio?: number;
    carrierFirstAudio?: number;
  };
  /** When each stage's request began and its part ended, ms after the end of speech. */
  stages: {
    stt?: { start: number; end: number };
    /** end: the LLM's first speakable clause (or tool call) arrived; firstToken is in `marks`. */
    llm?: { start: number; end: number };
    tts?: { start: number; end: number };
  };
  /** End of speech -> first audio sent to the carrier. */
  totalMs?: number;
  /** totalMs less the time a stage or the end-of-turn silence was running (see above). */
  ownMs?: number;
}

type Span = { start: number; end: number };

/** Length of the union of the spans, each clipped to [from, to]. */
function covered(spans: Span[], from: number, to: number): number {
  const clipped = spans.map((s) => ({ start: Math.max(s.start, from), end: Math.min(s.end, to) })).filter((s) => s.end > s.start);
  clipped.sort((a, b) => a.start - b.start);
  let total = 0;
  let cur: Span | undefined;
  for (const s of clipped) {
    if (cur && s.start <= cur.end) cur.end = Math.max(cur.end, s.end);
    else {
      if (cur) total += cur.end - cur.start;
      cur = { ...s };
    }
  }
  return total + (cur ? cur.end - cur.start : 0);
}

/**
 * The own added latency of a report. `known` replaces each stage's measured duration by a known one
 * (a simulator's configured delay) from the same start, so anything the stage took beyond it (the
 * client's encoding, HTTP, parsing) counts as the project's: the benchmark's stricter figure.
 */
export function ownAddedMs(r: TurnLatencyReport, known?: { sttMs: number; llmMs: number; ttsMs: number }): number | undefined {
  const sent = r.marks.carrierFirstAudio;
  if (sent === undefined) return undefined;
  const span = (s: Span | undefined, ms: number | undefined): Span[] => (s ? [{ start: s.start, end: ms === undefined ? s.end : s.start + ms }] : []);
  const spans = [{ start: 0, end: r.silenceMs }, ...span(r.stages.stt, known?.sttMs), ...span(r.stages.llm, known?.llmMs), ...span(r.stages.tts, known?.ttsMs)];
  return sent - covered(spans, 0, sent);
}

/** Times one stage's request: started when made (or at `begin()`), its part ended at the first `done()`. */
export class StageTimer {
  start = performance.now();
  end?: number;
  begin(): void {
    this.start = performance.now();
  }
  done(): void {
    this.end ??= performance.now();
  }
}

/** The LLM's times: its request, its first chunk, and its first speakable clause (or tool call). */
export class LlmTimer extends StageTimer {
  firstToken?: number;
}

/**
 * Passes an LLM stream through, timing it at the source (before any buffering, so a reply prepared at
 * the pause is timed when the server sent it, not when the reply read it). The stage's part ends with
 * the first clause the engine can speak, found with the engine's own splitter, or the first tool call.
 */
export async function* timedLlm(source: AsyncIterable<LlmChunk>, t: LlmTimer): AsyncIterable<LlmChunk> {
  const splitter = new ClauseSplitter();
  for await (const chunk of source) {
    if (chunk.type !== 'usage') t.firstToken ??= performance.now();
    if (t.end === undefined && (chunk.type === 'toolCall' || (chunk.type === 'text' && splitter.push(chunk.text).length))) t.done();
    yield chunk;
  }
  t.done();
}

/** Passes a TTS stream through, its part ending with the first audio. */
export async function* timedTts(source: AsyncIterable<Int16Array>, t: StageTimer): AsyncIterable<Int16Array> {
  for await (const pcm of source) {
    if (pcm.length) t.done();
    yield pcm;
  }
}

/**
 * One callee turn's clock: the engine marks its moments, the bridge reports the first audio sent (the
 * engine's `audioSent` hook), and the report comes out once, when the audio went or the reply ended.
 */
export class TurnClock {
  private speechEndAt: number;
  private endOfTurnAt?: number;
  stt?: StageTimer;
  llm?: LlmTimer;
  tts?: StageTimer;
  speculative = false;
  responseId?: string;
  private reported = false;

  constructor(
    readonly itemId: string,
    private readonly silenceMs: number,
  ) {
    this.speechEndAt = performance.now();
  }

  /** The detector heard the speech stop (the last stop of the turn counts). */
  speechEnded(): void {
    this.speechEndAt = performance.now();
  }

  turnEnded(): void {
    this.endOfTurnAt = performance.now();
  }

  /** The report, once: with the carrier's first audio when `sentAt` is given, else without it. */
  report(sentAt?: number): TurnLatencyReport | undefined {
    if (this.reported || !this.responseId || this.endOfTurnAt === undefined) return undefined;
    this.reported = true;
    const t0 = this.speechEndAt;
    const rel = (t: number | undefined) => (t === undefined ? undefined : round(t - t0));
    const span = (s: StageTimer | undefined) => (s?.end === undefined ? undefined : { start: rel(s.start)!, end: rel(s.end)! });
    const r: TurnLatencyReport = {
      itemId: this.itemId,
      responseId: this.responseId,
      speculative: this.speculative,
      silenceMs: this.silenceMs,
      marks: strip({ speechEnd: 0 as const, endOfTurn: rel(this.endOfTurnAt)!, sttFinal: rel(this.stt?.end), llmFirstToken: rel(this.llm?.firstToken), ttsFirstAudio: rel(this.tts?.end), carrierFirstAudio: rel(sentAt) }),
      stages: strip({ stt: span(this.stt), llm: span(this.llm), tts: span(this.tts) }),
    };
    if (sentAt !== undefined) {
      r.totalMs = rel(sentAt);
      r.ownMs = round(ownAddedMs(r)!);
    }
    return r;
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
