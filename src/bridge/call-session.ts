import type { MediaStreamHandler, MediaTransport } from '../telephony/carrier.js';
import type { EngineEvent, VoiceEngine } from '../voice/engine.js';
import type { PlayoutTracker } from '../media/playout-tracker.js';
import { MediaLink } from './media-link.js';
import type { AudioChunk } from '../media/audio-chunk.js';
import { EnergyVad } from '../media/energy-vad.js';
import { audioPathFor, type AudioPath } from './audio-path.js';
import type { ToolCalls } from './tool-calls.js';
import { DtmfSender, isDtmfItem } from './dtmf-sender.js';
import type { TimelineEventType } from '../shared/event-types.js';
import type { EndReason } from '../calls/state.js';
import { GreetingGate, type GateOpenReason } from './greeting-gate.js';
import { AgentSpeech, type CutCause } from './agent-speech.js';
import { EndAfterPlayout } from './end-after-playout.js';
import { CallModes, type CallMode } from './call-mode.js';
import type { MenuMode } from './menu-mode.js';
import { AfterPreamble } from './after-preamble.js';
import type { MachineAnswers } from './machine-answers.js';
import type { HoldMode } from './hold-mode.js';
import { createSessionModes } from './session-modes.js';
import type { OwnerWait } from './owner-wait.js';
import type { ReplyTurns } from './reply-turns.js';
import { createSessionTools } from './session-tools.js';
import { BargeInListener, type Cut } from './barge-in-listener.js';
import { DEFAULT_BARGE_IN } from './barge-in.js';
import type { ModeHandler } from './mode-handler.js';
import type { CallerAudioHearer, CallSessionOptions } from './call-session-types.js';
import { createVoiceActivityDetector } from '../media/vad-factory.js';

export type { CallerAudioHearer, CallSessionOptions, SessionHooks } from './call-session-types.js';

/**
 * One live call: the carrier's media stream joined to a voice engine. Routes caller audio and engine
 * events, and decides, per the call's mode (see call-mode.ts), what reaches the engine and what a
 * callee's speech means. Playout and the transcript are AgentSpeech's, hanging up after the last words
 * EndAfterPlayout's, the first words the GreetingGate's. Knows neither Twilio nor OpenAI by name.
 */
export class CallSession {
  private readonly link: MediaLink;
  private engineReady = false;
  private readonly gate: GreetingGate;
  private readonly modes: CallModes;
  private calleeSpeaking = false;
  private readonly calleeTurnStartedAt = new Map<string, string>();
  private activeResponse?: string;
  private readonly speech: AgentSpeech;
  private readonly endAfterPlayout: EndAfterPlayout;
  private readonly toolCalls: ToolCalls;
  private readonly preambles: AfterPreamble;
  private ending = false;
  private shutdownPromise?: Promise<void>;
  private readonly audio: AudioPath;
  /** Whose speech events find the end of the callee's first utterance: the engine's, or our VAD's. */
  private readonly openingByEngine: boolean;
  private readonly dtmf: DtmfSender;
  private readonly menu: MenuMode;
  /** Some of the agent's speech has been heard: callee words after that are no longer the opening. */
  private agentHeard = false;
  /** Local listeners on the caller audio (PCM16 8 kHz, every frame): voice activity, tones, music. */
  private readonly hearers: CallerAudioHearer[] = [];
  private readonly machine: MachineAnswers;
  private readonly hold: HoldMode;
  /** The call's modes, told of audio, words, replies, mode changes and the end in this order. */
  private readonly handlers: ModeHandler[];
  private readonly ownerWait: OwnerWait;
  private readonly replies: ReplyTurns;
  /** Decides barge-in for every engine: our neural VAD, a minimum speech length, backchannels. */
  private readonly ears: BargeInListener;

  /** The live media stream, if any, and the tracker of what was played on it (see media-link.ts). */
  private get transport(): MediaTransport | undefined {
    return this.link.transport;
  }

  private get tracker(): PlayoutTracker | undefined {
    return this.link.tracker;
  }

  constructor(private readonly o: CallSessionOptions) {
    const caps = o.engine.capabilities;
    const record = (type: TimelineEventType, data: Record<string, unknown>) => o.hooks.record(type, data);
    this.link = new MediaLink({ record, requestEnd: (reason, detail) => o.hooks.requestEnd(reason, detail), markChunkMs: o.markChunkMs ?? 40, clock: o.playoutClock });
    this.audio = audioPathFor(caps);
    this.openingByEngine = caps.hearsBeforeAutoRespond;
    // Our own ears for engines that go deaf to barge-in once they finish generating, or hear nothing
    // before the greeting.
    if (!caps.detectsSpeechDuringPlayback || !caps.hearsBeforeAutoRespond) {
      const vad = new EnergyVad();
      let heardMs = 0;
      this.hearers.push((pcm) => {
        heardMs += pcm.length / 8; // 8 kHz
        const change = vad.pushPcm(pcm);
        if (change) this.onCalleeSpeech(change === 'started', undefined, 'vad', heardMs);
      });
    }
    const b = o.bargeIn ?? { ...DEFAULT_BARGE_IN, vad: 'silero' as const };
    this.ears = new BargeInListener({
      ...b,
      vad: createVoiceActivityDetector(b.vad, { floorDbfs: b.vadFloorDbfs, onLost: (reason) => record('error', { source: 'bridge', fatal: false, code: 'vad_fallback', message: `${reason}; barge-in hears by energy for the rest of the call` }) }),
      carriedOn: (v) => record('bargeIn.ignored', { ...v }),
      cut: (cut) => this.onEars(cut),
    });
    this.hearers.push((pcm) => this.ears.hear(pcm, this.agentTalking()));
    this.hearers.push((pcm) => {
      for (const h of this.handlers) h.hear?.(pcm);
    });
    this.modes = new CallModes({
      record,
      entered: (mode, from, reason) => {
        this.enteredMode(mode, reason);
        for (const h of this.handlers) h.modeChanged?.(mode, from, reason);
      },
    });
    this.gate = new GreetingGate({
      silenceMs: o.greetingSilenceMs,
      personOpeningMaxMs: o.personOpeningMaxMs ?? 2500,
      record,
      open: (reason) => this.openGate(reason),
      voicemail: (answeredBy) => this.machine.veto(answeredBy),
      menu: (answeredBy) => this.menu.enter('menu-verdict', { answeredBy }),
      longOpening: () => this.machine.openingLong(),
    });
    this.dtmf = new DtmfSender({
      stream: () => (this.transport && this.tracker && !this.ending ? { transport: this.transport, tracker: this.tracker } : undefined),
      record,
      carrier: o.hooks.playDigitsViaCarrier && { play: o.hooks.playDigitsViaCarrier, expectNewStream: (ms) => this.expectNewStream(ms) },
    });
    this.speech = new AgentSpeech({
      engine: o.engine,
      audio: this.audio,
      dtmf: this.dtmf,
      record,
      transport: () => this.transport,
      tracker: () => this.tracker,
    });
    this.preambles = new AfterPreamble({ engine: o.engine, activeResponse: () => this.activeResponse, playout: () => this.tracker, graceMs: o.hangupGraceMs });
    this.endAfterPlayout = new EndAfterPlayout({
      engine: o.engine,
      record,
      requestEnd: (reason, detail) => o.hooks.requestEnd(reason, detail),
      activeResponse: () => this.activeResponse,
      cancelResponse: () => {
        if (this.activeResponse) o.engine.interrupt();
        this.activeResponse = undefined;
      },
      playout: () => this.tracker,
      preambles: this.preambles,
    });
    const m = createSessionModes(o, {
      modes: this.modes,
      gate: this.gate,
      dtmf: this.dtmf,
      endAfterPlayout: this.endAfterPlayout,
      record,
      toEngine: (carrierAudio) => this.audio.toEngine(carrierAudio),
      responding: () => this.activeResponse !== undefined,
      agentSpeaking: () => this.activeResponse !== undefined || Boolean(this.tracker?.hasPending),
      cutAgent: (cause) => void this.cutAgent(cause),
      wrapUp: (reason, instructions, graceMs) => this.wrapUp(reason, instructions, graceMs),
      beginEnd: () => this.beginEnd(),
    });
    this.machine = m.machine;
    this.hold = m.hold;
    this.menu = m.menu;
    this.handlers = [this.machine, this.hold, this.menu];
    const t = createSessionTools(o, {
      record,
      endAfterPlayout: this.endAfterPlayout,
      preambles: this.preambles,
      menu: this.menu,
      hold: this.hold,
      responding: () => this.activeResponse !== undefined,
      ending: () => this.ending,
      quiet: () => this.modes.current === 'talking' && !this.ending && !this.calleeSpeaking && !this.tracker?.hasPending,
    });
    this.toolCalls = t.toolCalls;
    this.ownerWait = t.ownerWait;
    this.replies = t.replies;
  }

  /** What the call is doing now (greeting, talking, menu, on-hold, ...). */
  get mode(): CallMode {
    return this.modes.current;
  }

  /**
   * Resolves once every caller frame so far has been heard by the barge-in VAD (it runs in the VAD
   * worker, a moment behind the audio) and judged: tests await it before asserting on a barge-in.
   */
  drainHearing(): Promise<void> {
    return this.ears.drain();
  }

  /** Engine events, wired by the factory's onEvent. */
  readonly onEngineEvent = (e: EngineEvent): void => {
    // Once the call is ending nothing more reaches the callee; usage is still billed and recorded.
    // The words of an item the callee already heard part of (a machine verdict cut it) are still written.
    if (this.ending && e.type !== 'usage' && !(e.type === 'agent.transcript' && this.speech.has(e.itemId))) return;
    try {
      this.handleEngineEvent(e);
    } catch (err) {
      this.o.hooks.record('error', { source: 'bridge', fatal: false, code: 'bridge_error', message: (err as Error).message, eventType: e.type });
    }
  };

  /** Called once the engine is configured (while the phone rings). */
  engineStarted(): void {
    this.engineReady = true;
    if (this.transport) this.gate.speakable();
  }

  /**
   * Attaches a media stream and returns the handler for its events. A TwiML update opens a new stream
   * (new id) for the same call: it replaces the old one, whose late events are then ignored.
   */
  attach(transport: MediaTransport): MediaStreamHandler {
    this.link.attach(transport);
    if (this.link.streams === 1) this.gate.listening(this.o.greetFirst ? 'inbound' : undefined);
    if (this.engineReady) this.gate.speakable();
    this.dtmf.onAttached();
    const current = () => this.transport === transport && !this.ending;
    return {
      onAudio: (frame) => current() && this.onAudio(frame),
      onMark: (name) => current() && this.onMark(name),
      onDtmf: (digit) => current() && this.o.hooks.record('dtmf', { digit }),
      onStreamEnd: (expected) => {
        if (this.transport === transport) this.onStreamEnd(expected);
      },
      onInvalidFrames: (report) => this.o.hooks.record('media.invalidFrames', { stream: this.link.streams, ...report }),
    };
  }

  /**
   * The carrier is about to replace the media stream (updating a live call's TwiML ends the running
   * stream with a normal `stop`): that stop must not end the call. If no new stream arrives in time,
   * the call ends as a media error.
   */
  expectNewStream(timeoutMs: number | false = 10_000): void {
    this.link.expectNewStream(timeoutMs);
  }

  /**
   * The carrier's answering-machine verdict (Twilio's `AnsweredBy`). It never holds the greeting back;
   * a machine verdict vetoes the call even mid-greeting (see greeting-gate.ts).
   */
  answeredBy(answeredBy: string): void {
    // A screening assistant sounds like a machine to AMD; the person behind it may still pick up.
    if (!this.ending && this.machine.verdictCounts(answeredBy)) this.gate.verdict(answeredBy);
  }

  /**
   * A mode's rules take effect on entering it. At a menu, an engine that hears only while it may answer
   * is left answering (menu-mode.ts keeps its words from the menu), so that it hears the menu.
   */
  private enteredMode(mode: CallMode, reason: string): void {
    if (mode !== 'ending') this.o.engine.setAutoRespond(this.modes.policy.autoReply || (mode === 'menu' && !this.o.engine.capabilities.hearsBeforeAutoRespond));
    if (mode !== 'menu') return;
    this.gate.handOver();
    // Whatever the agent was saying was said to a machine: it stops. Not when the agent itself pressed a
    // key: what it said first is its own, in order before the tones.
    if (reason !== 'send_dtmf' && (this.activeResponse !== undefined || this.tracker?.hasPending)) this.cutAgent('mode');
  }

  private openGate(reason: GateOpenReason): void {
    if (this.ending) return;
    // Keys given with the call and the callee still speaking (a person verdict came mid-opening): that
    // opening is the menu's, not a person's.
    if (this.menu.expectsMenu && this.calleeSpeaking) return this.menu.enter('keys-given');
    if (reason !== 'screening') this.modes.set('talking', reason);
    const first = this.machine.gateOpened(reason);
    this.menu.agentActed();
    this.o.hooks.record('greeting.start', { reason, calleeSpeaking: this.calleeSpeaking });
    this.o.hooks.conversationStarted();
    // One response at a time: if the callee is mid-sentence, the engine answers when they finish.
    if (!this.calleeSpeaking && !this.activeResponse) this.o.engine.generateReply(first);
  }

  // ---- carrier side ---------------------------------------------------------------------------
  private onAudio(frame: AudioChunk): boolean {
    const toEngine = this.audio.toEngine(frame, this.hearers.length ? this.listen : undefined);
    const hears = this.modes.policy.engineHears;
    if (hears === 'all' || this.machine.transcribingUnderVerdict) this.o.engine.pushAudio(toEngine);
    else if (hears === 'speech') this.hold.pass(toEngine);
    return true;
  }

  /** Our own ears hear the caller audio the audio path has just decoded. */
  private readonly listen = (pcm8k: Int16Array): void => {
    for (const hear of this.hearers) hear(pcm8k);
  };

  /** `audioMs`: where in the caller audio the detector heard it (EngineEvent), when it says. */
  private onCalleeSpeech(started: boolean, itemId: string | undefined, source: 'engine' | 'vad', audioMs?: number): void {
    // The detector that hears the callee's turns (not a barge-in report) also times a menu's prompts.
    const turns = (source === 'engine') === this.openingByEngine;
    if (turns) this.menu.calleeSpeech(started);
    // A menu is never barged in on: it is heard to the end.
    if (this.menu.active) return void (turns && this.calleeTurn(started, itemId));
    if (!this.gate.isOpen) {
      // Before the greeting only one detector speaks for the opening: the engine's if it hears audio
      // before auto-replies are on, else ours (Gemini is sent nothing until the gate opens).
      if (!turns) return;
      this.calleeTurn(started, itemId);
      // Keys given with the call: the opening is the menu answering.
      if (!started && this.menu.expectsMenu) this.menu.enter('keys-given');
      this.gate.calleeSpeech(started, audioMs);
      return;
    }
    // After the greeting the energy VAD tracks the callee's turns only for engines that go deaf during
    // playback. Neither it nor the engine's speech-start cuts the agent: `ears` decides barge-in.
    if (source === 'vad' && this.o.engine.capabilities.detectsSpeechDuringPlayback) return;
    if (!started) {
      this.calleeSpeaking = false;
      // Keys given with the call, and the gate opened on silence: the first words are the menu's.
      if (turns && this.menu.expectsMenu && !this.agentHeard) this.menu.enter('keys-given');
      return;
    }
    this.calleeTurn(true, itemId);
  }

  /** Agent audio is playing or being generated, and the mode lets the callee cut it. */
  private agentTalking(): boolean {
    return this.gate.isOpen && this.modes.policy.bargeIn && Boolean(this.tracker?.hasPending || this.activeResponse);
  }

  /**
   * The callee spoke over the agent for real: cut it. When the callee's turn is already over (judged by
   * its final words) an engine that does not answer a turn that ended mid-reply is asked to answer it.
   */
  private onEars(cut: Cut | undefined): void {
    if (!cut || this.ending || !this.modes.policy.bargeIn) return;
    this.bargeIn();
    if (cut.turnOver && !this.o.engine.capabilities.answersTurnsWhileReplying) this.o.engine.generateReply();
  }

  /** The callee started or stopped a turn: kept for the transcript's times and on the timeline. */
  private calleeTurn(started: boolean, itemId: string | undefined): void {
    this.calleeSpeaking = started;
    if (started && itemId) this.calleeTurnStartedAt.set(itemId, new Date().toISOString());
    if (started) this.o.hooks.record('callee.speechStarted', {});
  }

  private onMark(name: string): boolean {
    const state = this.tracker?.onMark(name);
    if (!state) return false;
    if (isDtmfItem(state.itemId)) this.dtmf.onPlayout(state);
    else if (state.playedMs > 0) this.agentHeard = true;
    this.dtmf.onPlayoutChanged();
    this.speech.played(state);
    this.endAfterPlayout.check();
    this.preambles.check();
    return true;
  }

  private onStreamEnd(expected: boolean): void {
    this.speech.cutUnplayed();
    this.link.ended(expected);
  }

  // ---- engine side ----------------------------------------------------------------------------
  private handleEngineEvent(e: EngineEvent): void {
    switch (e.type) {
      case 'agent.audio':
        // Waiting for the beep: whatever the engine still says (a greeting requested just before the verdict) is not played.
        if (this.machine.waitingForBeep) return this.o.engine.interrupt();
        // Words begun at a phone menu are never played to it.
        if (!this.menu.silences(e.responseId)) this.speech.play(e);
        return;
      case 'user.speechStarted':
        // The engine's own detector: the callee's turn began (a barge-in is `ears`' to decide).
        this.onCalleeSpeech(true, e.itemId, 'engine', e.audioMs);
        return;
      case 'user.speechStopped':
        this.onCalleeSpeech(false, undefined, 'engine', e.audioMs);
        return;
      case 'session.resumed':
        return this.o.hooks.record('engine.resumed', { reason: e.reason, gapMs: e.gapMs });
      case 'turn.latency':
        return this.o.hooks.record('turn.latency', e.report);
      case 'user.transcript': {
        const startedAt = this.calleeTurnStartedAt.get(e.itemId);
        this.calleeTurnStartedAt.delete(e.itemId);
        this.o.hooks.record('transcript', { speaker: 'callee', text: e.text, itemId: e.itemId, ...(startedAt ? { startedAt } : {}) });
        for (const h of this.handlers) h.heard?.(e.text, !this.agentHeard);
        // A short utterance over the agent is judged by its words: "stop" cuts it, "mhm" does not.
        this.onEars(this.ears.words(e.text));
        return;
      }
      case 'aside.transcript':
        return this.machine.heardAside(e.text);
      case 'user.words':
        // Interim words of a short utterance over the agent: "stop" cuts it now. The callee's turn may
        // not be over yet, so no reply is asked for; the engine answers the turn when it ends.
        this.onEars(this.ears.interimWords(e.text));
        return;
      case 'agent.responseStarted':
        this.activeResponse = e.responseId;
        this.replies.responseStarted();
        this.endAfterPlayout.responseStarted(e.responseId);
        // Every mode hears of the reply (the menu marks it silenced); any may have it cut.
        if (this.handlers.reduce((cut, h) => (h.replyStarted?.(e.responseId) ?? false) || cut, false)) {
          // A reply on hold nobody asked for: stopped, never played (what was queued before it still is).
          this.speech.dropResponse(e.responseId);
          this.o.engine.interrupt();
          this.activeResponse = undefined;
        }
        return;
      case 'agent.transcript':
        // Words of a reply dropped while waiting for the beep were never heard: not part of the transcript.
        if (this.machine.waitingForBeep && !this.speech.has(e.itemId)) return;
        if (this.menu.silences(e.responseId)) this.menu.droppedItem(e.itemId, e.responseId, e.text);
        else this.speech.transcript(e);
        return;
      case 'agent.responseDone':
        if (this.activeResponse === e.responseId) this.activeResponse = undefined;
        for (const h of this.handlers) h.replyDone?.();
        this.endAfterPlayout.check();
        this.preambles.check();
        this.replies.responseDone();
        return;
      case 'tool.call':
        void this.toolCalls.run(e.responseId, e.callId, e.name, e.arguments);
        return;
      case 'tool.cancelled':
        for (const callId of e.callIds) this.toolCalls.cancel(callId);
        return;
      case 'usage':
        return this.o.hooks.record('usage', { ...e.usage });
      case 'error':
        this.o.hooks.record('error', { source: this.o.engine.name, ...e.error });
        if (e.error.fatal) this.o.hooks.requestEnd('provider-error', `${this.o.engine.name}: ${e.error.code}: ${e.error.message}`);
        return;
      case 'closed':
        if (!e.expected) {
          this.o.hooks.record('error', { source: this.o.engine.name, fatal: true, code: 'disconnected', message: e.reason });
          this.o.hooks.requestEnd('provider-error', `${this.o.engine.name} disconnected: ${e.reason}`);
        }
        return;
    }
  }

  /**
   * The callee spoke over the agent: flush the carrier's buffer, cancel the response, and cut the
   * engine's memory of each item to what the callee heard (per echoed marks). Unheard items are deleted.
   */
  private bargeIn(): void {
    const interruptedResponse = this.activeResponse;
    this.toolCalls.bargedIn();
    const cut = this.cutAgent('callee');
    this.preambles.bargedIn(cut, interruptedResponse);
  }

  /**
   * Warm transfer: the callee holds while the owner is called and briefed; the agent neither hears nor
   * answers them meanwhile. `holdingLine`: instructions for one sentence telling the callee to hold (a
   * transfer the user started; the model's own transfer said so in its preamble).
   */
  holdForTransfer(holdingLine?: string): void {
    if (this.ending) return;
    if (holdingLine && (this.activeResponse || this.tracker?.hasPending)) this.cutAgent('mode');
    this.modes.set('transferring', 'warm transfer');
    if (holdingLine) this.o.engine.generateReply({ instructions: holdingLine });
  }

  /** The owner was not reached: back to the callee. `instructions`: have the agent say so at once. */
  resumeAfterTransfer(instructions?: string): void {
    if (this.ending) return;
    this.modes.set('talking', 'transfer not completed');
    if (instructions) this.o.engine.generateReply({ instructions });
  }

  private cutAgent(cause: CutCause): number {
    this.activeResponse = undefined;
    return this.speech.cut(cause);
  }

  /**
   * Ends the call politely for a limit (cost, duration): see EndAfterPlayout.wrapUp. Returns false when
   * there is no conversation to wrap up (the caller then ends the call at once).
   */
  wrapUp(reason: EndReason, instructions: string, graceMs: number): boolean {
    if (this.ending) return true;
    if (!this.gate.isOpen || !this.transport) return false;
    this.endAfterPlayout.wrapUp(reason, instructions, graceMs);
    return true;
  }

  /**
   * The call is ending: from now on nothing reaches the callee or the engine, the gate stays shut and
   * timers stop. Synchronous, so that nothing more is said while the carrier hang-up is in flight.
   */
  beginEnd(): void {
    if (this.ending) return;
    this.ending = true;
    this.modes.set('ending', 'call ending');
    this.gate.close();
    this.link.stopWaiting();
    if (this.activeResponse) this.o.engine.interrupt();
    this.activeResponse = undefined;
    this.dtmf.close();
    for (const h of this.handlers) h.close();
    this.endAfterPlayout.close();
    this.preambles.close();
    this.ownerWait.close();
  }

  /** Stops everything this session runs and writes what is left of the transcript. Idempotent. */
  shutdown(): Promise<void> {
    this.beginEnd();
    this.shutdownPromise ??= (async () => {
      this.speech.cutUnplayed();
      this.speech.writeRemaining();
      this.link.close();
      this.ears.close();
      await this.o.engine.close().catch(() => undefined);
    })();
    return this.shutdownPromise;
  }
}
