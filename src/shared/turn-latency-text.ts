/**
 * One line for a `turn.latency` timeline event (the cascade engine's per-turn breakdown,
 * docs/cascade.md#latency), for the CLI's verbose view and the web UI's event log. Importing nothing,
 * so the browser build can use it.
 */
export function describeTurnLatency(d: Record<string, any>): string {
  const m = (d.marks ?? {}) as Record<string, number | undefined>;
  const s = (d.stages ?? {}) as Record<string, { start: number; end: number } | undefined>;
  const ms = (v: number | undefined) => (typeof v === 'number' ? `${Math.round(v)} ms` : '-');
  const took = (x: { start: number; end: number } | undefined) => (x ? Math.round(x.end - x.start) : undefined);
  const llmFirst = s.llm && typeof m.llmFirstToken === 'number' ? m.llmFirstToken - s.llm.start : undefined;
  const parts = [`STT ${ms(took(s.stt))}`, `LLM first token ${ms(llmFirst)}`, `TTS first audio ${ms(took(s.tts))}`];
  if (typeof d.totalMs !== 'number') return `Reply latency: no audio sent (end of turn ${ms(m.endOfTurn)}; ${parts.join(', ')})`;
  return `Reply latency: ${ms(d.totalMs)} from the end of speech to the first audio sent (own ${ms(d.ownMs)}; end of turn ${ms(m.endOfTurn)}, ${parts.join(', ')}${d.speculative ? ', prepared at the pause' : ''})`;
}
