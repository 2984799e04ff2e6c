import { CascadeSimServer, type CascadeSimOptions, type SttRecord, type TtsRecord } from './server.js';
import type { LlmRecord, LlmTurn } from './llm.js';

export type { CascadeSimOptions, SttRecord, TtsRecord, LlmRecord, LlmTurn };
export { words } from './llm.js';
export type { CascadeScenario } from './scenario.js';

export interface CascadeSim {
  /** STT_BASE_URL, LLM_BASE_URL and TTS_BASE_URL all point here. */
  baseUrl: string;
  llm: LlmRecord[];
  stt: SttRecord[];
  tts: TtsRecord[];
  server: CascadeSimServer;
  close(): Promise<void>;
}

/** Starts the chat-completions + transcriptions + speech simulator on 127.0.0.1. */
export async function startCascadeSim(o: CascadeSimOptions = {}): Promise<CascadeSim> {
  const server = new CascadeSimServer(o);
  await server.listen();
  return { baseUrl: server.baseUrl, llm: server.llm, stt: server.stt, tts: server.tts, server, close: () => server.close() };
}

/** The environment that points the cascade engine's three stages at a running simulator. */
export function cascadeEnv(sim: CascadeSim): Record<string, string> {
  return { AI_PROVIDER: 'cascade', STT_BASE_URL: sim.baseUrl, LLM_BASE_URL: sim.baseUrl, TTS_BASE_URL: sim.baseUrl, STT_MODEL: 'whisper-sim', LLM_MODEL: 'llm-sim', TTS_MODEL: 'tts-sim', TTS_VOICE: 'sim-voice' };
}
