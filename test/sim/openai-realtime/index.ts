/**
 * OpenAI Realtime API (GA) simulator for end-to-end tests on 127.0.0.1. See README.md.
 */
import { nthWaiter } from '../shared/nth-waiter.js';
import { RealtimeSimServer, type RejectedUpgrade } from './server.js';
import type { SimSession } from './session.js';
import type { OpenAIRealtimeSimOptions } from './types.js';

export type { SimSession } from './session.js';
export type { RejectedUpgrade } from './server.js';
export type {
  AgentTurn,
  ErrorRecord,
  FunctionOutputRecord,
  MessageRecord,
  OpenAIRealtimeSimOptions,
  Pacing,
  RealtimeScenario,
  ReceivedEvent,
  ResponseRecord,
  ResponseStatus,
  TruncationRecord,
} from './types.js';
export { synthVoice } from './audio.js';

export interface OpenAIRealtimeSim {
  /** 'ws://127.0.0.1:<port>/v1/realtime'; the client appends `?model=...`. */
  readonly url: string;
  /** One per accepted WebSocket, in accept order. */
  readonly sessions: SimSession[];
  /** Upgrades refused before a session existed (bad key, bad path, missing model, beta header). */
  readonly rejectedUpgrades: RejectedUpgrade[];
  /** The n-th call resolves with the n-th session (waiting for it if needed). */
  waitForSession(timeoutMs?: number): Promise<SimSession>;
  /** Closes every session and the listener; leaves no timers or sockets behind. */
  close(): Promise<void>;
}

export async function startOpenAIRealtimeSim(opts: OpenAIRealtimeSimOptions): Promise<OpenAIRealtimeSim> {
  const server = new RealtimeSimServer(opts);
  await server.listen();
  return {
    url: server.url,
    sessions: server.sessions,
    rejectedUpgrades: server.rejectedUpgrades,
    waitForSession: nthWaiter('openai-realtime sim', server.sessions, (l) => server.onSessionsChanged(l)),
    close: () => server.close(),
  };
}
