/**
 * The cascade bench's stage process: the simulated STT, LLM and TTS servers (test/sim/cascade) with fixed,
 * known delays, in a process of their own as a user's model servers are. Forked by cascade-bench.ts with
 * an IPC channel: sends `{url}` once listening, answers `report` with each request's time to its first
 * answer byte on this process's clock (`{answerTimes}`), and closes when the channel does.
 */
import { startCascadeSim } from '../../test/sim/cascade/index.js';

export interface StageDelays {
  sttMs: number;
  llmFirstTokenMs: number;
  ttsFirstAudioMs: number;
}

const delays = JSON.parse(process.env.BENCH_STAGE_DELAYS!) as StageDelays;
const sim = await startCascadeSim({
  // Every utterance is the same question (the text does not change the timing); the scripted
  // transcripts go by utterance, so there is one per utterance the run can make.
  transcripts: Array.from({ length: 100_000 }, () => 'Could you tell me more about that?'),
  reply: () => ({ say: 'Sure, happy to help with that.' }),
  msPerChar: 20,
  sttDelayMs: delays.sttMs,
  firstTokenDelayMs: delays.llmFirstTokenMs,
  ttsFirstAudioDelayMs: delays.ttsFirstAudioMs,
});
process.send!({ url: sim.baseUrl });
process.on('message', (m) => m === 'report' && process.send!({ answerTimes: sim.server.answerTimes }));
process.on('disconnect', () => void sim.close().finally(() => process.exit(0)));
