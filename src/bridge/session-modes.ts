import type { TimelineEventType } from '../shared/event-types.js';
import type { EndReason } from '../calls/state.js';
import type { AudioChunk } from '../media/audio-chunk.js';
import type { CallModes } from './call-mode.js';
import type { CallSessionOptions } from './call-session-types.js';
import type { DtmfSender } from './dtmf-sender.js';
import type { EndAfterPlayout } from './end-after-playout.js';
import type { GreetingGate } from './greeting-gate.js';
import { HoldMode } from './hold-mode.js';
import { MachineAnswers } from './machine-answers.js';
import { MenuMode } from './menu-mode.js';

/** What the modes need from their session. */
export interface SessionModesHost {
  modes: CallModes;
  gate: GreetingGate;
  dtmf: DtmfSender;
  endAfterPlayout: EndAfterPlayout;
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  /** Carrier audio in the engine's input format (the call's audio path). */
  toEngine(carrierAudio: AudioChunk): AudioChunk;
  /** A response is in flight. */
  responding(): boolean;
  /** A response is in flight or its audio has not all played. */
  agentSpeaking(): boolean;
  /** Stops the agent now; `machine`: an answering machine is the reason. */
  cutAgent(cause: 'mode' | 'answering-machine'): void;
  wrapUp(reason: EndReason, instructions: string, graceMs: number): boolean;
  beginEnd(): void;
}

/**
 * The call's modes beyond a plain conversation, built from the call's options: answering machines
 * (voicemail, call screening), hold, and phone menus. The session tells them about the call through
 * their ModeHandler side (mode-handler.ts) and asks each directly only for what is its alone.
 */
export function createSessionModes(o: CallSessionOptions, h: SessionModesHost): { machine: MachineAnswers; hold: HoldMode; menu: MenuMode } {
  const requestEnd = (reason: EndReason, detail?: string) => o.hooks.requestEnd(reason, detail);
  const hold = new HoldMode(
    {
      modes: h.modes,
      engine: o.engine,
      record: h.record,
      toEngine: h.toEngine,
      cutAgent: () => void (h.agentSpeaking() && h.cutAgent('mode')),
      wrapUp: h.wrapUp,
      requestEnd,
    },
    { maxMs: o.hold?.maxMs ?? 45 * 60_000, tailMs: o.hold?.tailMs },
  );
  const menu = new MenuMode({
    engine: o.engine,
    hooks: o.hooks,
    modes: h.modes,
    press: (digits, source) => h.dtmf.send(digits, source),
    keysGiven: o.dtmfOnAnswer,
    promptEndMs: o.menuPromptEndMs ?? 1500,
    engineRepliesByItself: !o.engine.capabilities.hearsBeforeAutoRespond,
    responding: h.responding,
  });
  const machine = new MachineAnswers(o.voicemail, {
    record: h.record,
    requestEnd,
    modes: h.modes,
    gate: h.gate,
    endAfterPlayout: h.endAfterPlayout,
    agentSpeaking: h.agentSpeaking,
    cutAgent: () => h.cutAgent('answering-machine'),
    beginEnd: h.beginEnd,
    // An engine that hears before it may answer transcribes as it is (auto-replies are off while the call
    // waits for a beep); another must be told, if it can be at all.
    canTranscribe: o.engine.capabilities.hearsBeforeAutoRespond || o.engine.transcribeOnly !== undefined,
    transcribeOnly: (on) => {
      if (o.engine.capabilities.hearsBeforeAutoRespond) return true;
      if (!o.engine.transcribeOnly) return false;
      o.engine.transcribeOnly(on);
      return true;
    },
    listenAside: (on, forgetOpening) => {
      if (o.engine.capabilities.hearsBeforeAutoRespond || !o.engine.listenAside) return false;
      o.engine.listenAside(on, forgetOpening);
      return true;
    },
  });
  return { machine, hold, menu };
}
