/**
 * Gemini Live API (BidiGenerateContent) simulator for end-to-end tests on 127.0.0.1. See README.md.
 */
import { nthWaiter } from '../shared/nth-waiter.js';
import { GeminiSimServer } from './server.js';
import type { GeminiSimSession } from './session.js';
import type { GeminiLiveSimOptions, RejectedConnection } from './types.js';

export type { GeminiSimSession, ConnectionView } from './session.js';
export type {
  ClientContentRecord,
  CloseInfo,
  GeminiLiveSimOptions,
  GeminiScenario,
  GeminiTurn,
  InterruptionCause,
  InterruptionRecord,
  Pacing,
  ReceivedMessage,
  RejectedConnection,
  ResumptionRecord,
  SentMessage,
  ToolCallRecord,
  ToolResponseRecord,
  TurnRecord,
  TurnStatus,
  TurnTrigger,
  UsageMetadata,
  UserTurnRecord,
} from './types.js';
export { synthVoice, OUTPUT_RATE } from './audio.js';
export { AUDIO_MS_PER_TOKEN, TEXT_CHARS_PER_TOKEN } from './usage.js';

export interface GeminiLiveSim {
  /** 'http://127.0.0.1:<port>': what a client passes as its base URL (the SDK's httpOptions.baseUrl). */
  readonly baseUrl: string;
  /** The full WebSocket URL (v1beta path; v1 and v1alpha work too); append `?key=...` or send x-goog-api-key. */
  readonly wsUrl: string;
  /** One per conversation, in creation order; resumed connections attach to their conversation. */
  readonly sessions: GeminiSimSession[];
  /** Upgrades accepted with a valid key (including ones that then failed setup). */
  readonly connections: number;
  /** Wrong path, bad or missing key, bad first message, unknown resumption handle. */
  readonly rejected: RejectedConnection[];
  /** The n-th call resolves with the n-th conversation (waiting for it if needed). */
  waitForSession(timeoutMs?: number): Promise<GeminiSimSession>;
  /** Closes every connection (1001, then terminate) and the listener; leaves no timers or sockets behind. */
  close(): Promise<void>;
}

export async function startGeminiLiveSim(opts: GeminiLiveSimOptions): Promise<GeminiLiveSim> {
  const server = new GeminiSimServer(opts);
  await server.listen();
  return {
    baseUrl: server.baseUrl,
    wsUrl: server.wsUrl,
    sessions: server.sessions,
    get connections() {
      return server.connectionCount;
    },
    rejected: server.rejected,
    waitForSession: nthWaiter('gemini-live sim', server.sessions, (l) => server.onSessionsChanged(l)),
    close: () => server.close(),
  };
}
