/**
 * The per-call spend cap sees what a long Gemini Live call really costs. Each usageMetadata is one turn's
 * bill and its prompt re-bills the whole context, so the cost grows with the square of the turns; an
 * engine that read the reports as running totals saw a fraction of it and let long calls run past the cap.
 * Text turns keep the token counts exact (no audio timing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGeminiLiveSim } from '../sim/gemini-live/index.js';
import { GeminiLiveEngine } from '../../src/voice/gemini-live/engine.js';
import { LiveCostLedger } from '../../src/calls/cost-ledger.js';
import { DEFAULT_PRICES } from '../../src/records/pricing.js';
import type { EngineEvent } from '../../src/voice/engine.js';

const TURNS = 20;
const MODEL = 'gemini-3.8-live';
const CAP_USD = 0.05;

test('a 20-turn Gemini call is billed every turn: the live ledger matches the reports and crosses a $0.05 per-call cap', async () => {
  // 50 characters at 60 ms each: 3 s (75 tokens) of model audio per turn.
  const sim = await startGeminiLiveSim({ apiKey: 'k', scenario: () => ({ turns: Array.from({ length: TURNS }, () => ({ say: 'x'.repeat(50) })) }) });
  const ledger = new LiveCostLedger(DEFAULT_PRICES, 0.014);
  const usage: Array<() => void> = [];
  const engine = new GeminiLiveEngine({
    apiKey: 'k',
    baseUrl: sim.baseUrl,
    apiVersion: 'v1beta',
    model: MODEL,
    voice: 'Puck',
    silenceMs: 500,
    onEvent: (e: EngineEvent) => {
      if (e.type !== 'usage') return;
      ledger.addUsage('call', e.usage);
      usage.shift()?.();
    },
  });
  try {
    await engine.start({ instructions: 'You are a phone agent.', tools: [], autoRespond: true });
    const crossedAt: number[] = [];
    for (let turn = 1; turn <= TURNS; turn++) {
      const done = new Promise<void>((r) => usage.push(r));
      engine.generateReply({ instructions: `Turn ${turn}.` });
      await done;
      if (ledger.cost('call', null, Date.now()) >= CAP_USD) crossedAt.push(turn);
    }
    const reports = (await sim.waitForSession()).usageReports;
    assert.equal(reports.length, TURNS);
    // The bill computed here from what the simulator sent, with the published prices.
    const p = DEFAULT_PRICES.models[`gemini:${MODEL}`];
    const audio = (l?: Array<{ modality?: string; tokenCount?: number }>) => l?.find((d) => d.modality === 'AUDIO')?.tokenCount ?? 0;
    const billed = reports.reduce((sum, r) => {
      const aIn = audio(r.promptTokensDetails);
      const aOut = audio(r.responseTokensDetails);
      return sum + (aIn * p.audio_input + ((r.promptTokenCount ?? 0) - aIn) * p.text_input + aOut * p.audio_output) / 1e6;
    }, 0);
    const ledgerUsd = ledger.cost('call', null, Date.now());
    assert.ok(Math.abs(ledgerUsd - billed) < 1e-9, `ledger ${ledgerUsd} vs ${billed} billed`);
    assert.ok(billed > CAP_USD, `the call cost $${billed.toFixed(4)}`);
    assert.ok(crossedAt.length > 0 && crossedAt[0] < TURNS, `the cap is reached before the last turn (at turn ${crossedAt[0]})`);
    // Read as running totals, the last report alone is what the old arithmetic came to: far under the cap.
    const last = reports[reports.length - 1];
    const asRunningTotal = (audio(last.promptTokensDetails) * p.audio_input + ((last.promptTokenCount ?? 0) - audio(last.promptTokensDetails)) * p.text_input + audio(last.responseTokensDetails) * p.audio_output) / 1e6;
    assert.ok(asRunningTotal < CAP_USD / 5, `running-total reading: $${asRunningTotal.toFixed(4)}`);
  } finally {
    await engine.close();
    await sim.close();
  }
});
