import type { MediaStreamHandler, MediaTransport } from '../telephony/carrier.js';
import type { EngineEvent, VoiceEngine } from '../voice/engine.js';
import { PlayoutTracker } from '../media/playout-tracker.js';
import type { AudioChunk } from '../media/audio-chunk.js';
import { EnergyVad } from '../media/energy-vad.js';
import { audioPathFor, type AudioPath } from './audio-path.js';
import type { ToolRegistry } from '../tools/registry.js';
import { ToolCalls } from './tool-calls.js';
import { DtmfSender, isDtmfItem } from './dtmf-sender.js';
import type { TimelineEventType } from '../shared/event-types.js';
import type { EndReason } from '../calls/state.js';
import { GreetingGate, classifyVerdict, type GateOpenReason } from './greeting-gate.js';
import { AgentSpeech } from './agent-speech.js';
import { EndAfterPlayout } from './end-after-playout.js';
import { CallModes, type CallMode } from './call-mode.js';
import { AfterPreamble } from './after-preamble.js';
import type { PreambleWait, TransferRequest, TransferResult } from '../calls/transfer/transfer-types.js';
import { VoicemailMode, type VoicemailOptions } from './voicemail-mode.js';
import { ScreeningMode, SCREENING_ANSWER } from './screening-mode.js';

/**
 * Hears one frame of caller audio, already decoded to PCM16 8 kHz. The buffer is reused for the next
 * frame: copy what must outlive the call.
 */
export type CallerAudioHearer = (pcm8k: Int16Array) => void;

/** What the session needs from the rest of the product: a place to record, and a way to end the call. */
export interface SessionHooks {
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  /** Ends the call (hang up at the carrier). Idempotent; the first reason wins. Never throws. */
  requestEnd(reason: EndReason, detail?: string): void;
  /** The greeting gate opened: the agent may now speak. */
  conversationStarted(): void;
  /**
   * DTMF_MODE=carrier: has the carrier play the digits and reconnect the media stream (see
   * Carrier.playDigits). Absent: keys are pressed with in-band tones.
   */
  playDigitsViaCarrier?(digits: string): Promise<void>;
  /** transfer_call: hands the call over once `preamble` says the agent's words were heard (see calls/transfer/). */
  transfer?(req: TransferRequest, preamble: PreambleWait): Promise<TransferResult>;
}

export interface CallSessionOptions {
  callId: string;
  /** The call's client: tools that read documents look up only this client's. */
  clientId?: string;
  engine: VoiceEngine;
  tools: ToolRegistry;
  hooks: SessionHooks;
  /** Greet a callee who says nothing after this much silence from the first stream (no verdict awaited). */
  greetingSilenceMs: number;
  /** Longest opening speech that still sounds like a person answering ("Hello?"), not a voicemail greeting. */
  personOpeningMaxMs?: number;
  /** Largest audio chunk between two playout marks (bounds the heard-position error). */
  markChunkMs?: number;
  /** Safety net for end_call if marks never come back: hang up after the pending audio plus this. */
  hangupGraceMs?: number;
  /**
   * With an engine that cancels interrupted tool calls: how long a result finished after a barge-in
   * waits for that cancellation before it is sent anyway (the engine may not have heard the callee).
   */
  toolCancelWaitMs?: number;
  /**
   * Keys given with the call (an extension), pressed when the callee's first utterance ends. Interim:
   * until phone-menu detection exists, that first utterance stands for the menu's first prompt.
   */
  dtmfOnAnswer?: string;
  /** What to do when a machine answers (default: hang up). */
  voicemail?: VoicemailOptions;
  /** An inbound call: the caller is already waiting, so the agent greets as soon as it can be heard. */
  greetFirst?: boolean;
}

/** Longest a voicemail message may take to play before the call is cut anyway. */
const VOICEMAIL_MESSAGE_GRACE_MS = 120_000;

/**
 * One live call: the carrier's media stream joined to a voice engine. Routes caller audio and engine
 * events, and decides, per the call's mode (see call-mode.ts), what reaches the engine and what a
 * callee's speech means. Playout and the transcript are AgentSpeech's, hanging up after the last words
 * EndAfterPlayout's, the first words the GreetingGate's. Knows neither Twilio nor OpenAI by name.
 */
export class CallSession {
  private transport?: MediaTransport;
  private tracker?: PlayoutTracker;
  private streams = 0;
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
  /** Set while a stream replacement is expected (e.g. after a TwiML update): its end is not the call's. */
  private reattachTimer?: NodeJS.Timeout;
  private shutdownPromise?: Promise<void>;
  private readonly audio: AudioPath;
  /** Whose speech events find the end of the callee's first utterance: the engine's, or our VAD's. */
  private readonly openingByEngine: boolean;
  private readonly dtmf: DtmfSender;
  private dtmfOnAnswerSent = false;
  /** Local listeners on the caller audio (PCM16 8 kHz, every frame): voice activity, tones, music. */
  private readonly hearers: CallerAudioHearer[] = [];
  private readonly voicemail: VoicemailMode;
  private readonly screening: ScreeningMode;

  constructor(private readonly o: CallSessionOptions) {
    const caps = o.engine.capabilities;
    const record = (type: TimelineEventType, data: Record<string, unknown>) => o.hooks.record(type, data);
    this.audio = audioPathFor(caps);
    this.openingByEngine = caps.hearsBeforeAutoRespond;
    // Our own ears for engines that go deaf to barge-in once they finish generating, or hear nothing
    // before the greeting.
    if (!caps.detectsSpeechDuringPlayback || !caps.hearsBeforeAutoRespond) {
      const vad = new EnergyVad();
      this.hearers.push((pcm) => {
        const change = vad.pushPcm(pcm);
        if (change) this.onCalleeSpeech(change === 'started', undefined, 'vad');
      });
    }
    this.modes = new CallModes({ record, entered: (mode) => this.enteredMode(mode) });
    this.gate = new GreetingGate({
      silenceMs: o.greetingSilenceMs,
      personOpeningMaxMs: o.personOpeningMaxMs ?? 2500,
      record,
      open: (reason) => this.openGate(reason),
      voicemail: (answeredBy) => this.veto(answeredBy),
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
    this.voicemail = new VoicemailMode(o.voicemail ?? { action: 'hangup', silenceMs: 3000, beepTimeoutMs: 30_000 }, {
      record,
      speakThenHangUp: (instructions) =>
        this.endAfterPlayout.wrapUp('voicemail-left', instructions, VOICEMAIL_MESSAGE_GRACE_MS, { reason: 'voicemail', detail: 'the voicemail message did not finish playing in time' }),
      hangUp: (detail) => o.hooks.requestEnd('voicemail', detail),
      // What sounded like a screener ends in a beep: it was a mailbox (its greeting asked for a name and reason).
      beepHeard: () => {
        if (this.modes.current === 'screening') this.veto('beep-after-screening');
      },
    });
    // Listens only before the greeting, while screening and while waiting for a beep (see listen()).
    this.hearers.push(this.voicemail.hear);
    this.screening = new ScreeningMode({
      record,
      mode: () => this.modes.current,
      setMode: (to, reason) => {
        // A mailbox whose greeting asks for a name and reason ends in a beep: that is voicemail, not a screener.
        if (to === 'screening' && this.voicemail.beepJustHeard) return this.veto('beep-after-screening');
        // A screener may still turn into a mailbox: its beep is listened for until the person answers.
        if (this.modes.set(to, reason)) this.voicemail.listen(to === 'screening');
      },
      answerBeforeGreeting: () => this.gate.screening(),
      toVoicemail: (reason) => this.veto(reason),
      nobodyCame: (waitedMs) => o.hooks.requestEnd('no-answer', `call screening: nobody picked up within ${Math.round(waitedMs / 1000)} s`),
    });
    this.toolCalls = new ToolCalls({
      callId: o.callId,
      clientId: o.clientId,
      engine: o.engine,
      tools: o.tools,
      record,
      hangupAfterPlayout: (responseId, _callId, signal) => this.endAfterPlayout.hangup(responseId, signal),
      sendDtmf: (digits) => this.dtmf.send(digits, 'tool'),
      transfer: (responseId, signal, req) =>
        o.hooks.transfer ? o.hooks.transfer(req, () => this.preambles.wait(responseId, signal).then((p) => (p === 'unconfirmed' ? 'played' : p))) : Promise.resolve({ status: 'refused', httpStatus: 501, message: 'transfers are not available on this call' }),
      ending: () => this.ending,
      cancelWaitMs: o.toolCancelWaitMs,
    });
  }

  /** What the call is doing now (greeting, talking, menu, on-hold, ...). */
  get mode(): CallMode {
    return this.modes.current;
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
    clearTimeout(this.reattachTimer);
    this.reattachTimer = undefined;
    const previous = this.transport;
    this.transport = transport;
    this.streams++;
    this.tracker?.clear();
    this.tracker = new PlayoutTracker({ chunkMs: this.o.markChunkMs ?? 40, markPrefix: `s${this.streams}m` });
    this.o.hooks.record('media.attached', { stream: this.streams, streamId: transport.streamId });
    previous?.close();
    if (this.streams === 1) this.gate.listening(this.o.greetFirst ? 'inbound' : undefined);
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
      onInvalidFrames: (report) => this.o.hooks.record('media.invalidFrames', { stream: this.streams, ...report }),
    };
  }

  /**
   * The carrier is about to replace the media stream (updating a live call's TwiML ends the running
   * stream with a normal `stop`): that stop must not end the call. If no new stream arrives in time,
   * the call ends as a media error.
   */
  expectNewStream(timeoutMs: number | false = 10_000): void {
    clearTimeout(this.reattachTimer);
    this.reattachTimer = undefined;
    if (timeoutMs === false) return; // not coming after all (the update was refused)
    this.reattachTimer = setTimeout(() => {
      this.reattachTimer = undefined;
      if (!this.transport) this.o.hooks.requestEnd('media-error', 'the replacement media stream never arrived');
    }, timeoutMs);
  }

  /**
   * The carrier's answering-machine verdict (Twilio's `AnsweredBy`). It never holds the greeting back;
   * a machine verdict vetoes the call even mid-greeting (see greeting-gate.ts).
   */
  answeredBy(answeredBy: string): void {
    // A screening assistant sounds like a machine to AMD; the person behind it may still pick up.
    if (this.screening.detected && classifyVerdict(answeredBy) === 'voicemail') return this.o.hooks.record('amd.ignored', { answeredBy, reason: 'call-screening' });
    if (!this.ending) this.gate.verdict(answeredBy);
  }

  /** A mode's rules take effect on entering it. */
  private enteredMode(mode: CallMode): void {
    if (mode !== 'ending') this.o.engine.setAutoRespond(this.modes.policy.autoReply);
  }

  private openGate(reason: GateOpenReason): void {
    if (this.ending) return;
    if (reason !== 'screening') this.modes.set('talking', reason);
    this.voicemail.listen(reason === 'screening');
    this.o.hooks.record('greeting.start', { reason, calleeSpeaking: this.calleeSpeaking });
    this.o.hooks.conversationStarted();
    // One response at a time: if the callee is mid-sentence, the engine answers when they finish.
    if (!this.calleeSpeaking && !this.activeResponse) this.o.engine.generateReply(reason === 'screening' ? { instructions: SCREENING_ANSWER } : undefined);
  }

  /**
   * A machine answered: nothing more may be said to it. What is playing stops now (the carrier's buffer
   * is flushed, the response cancelled, the transcript keeps what was heard) and the call ends as voicemail.
   */
  private veto(answeredBy: string): void {
    this.gate.close();
    this.modes.set('voicemail', 'answering-machine', { answeredBy });
    if (this.activeResponse !== undefined || this.tracker?.hasPending) {
      this.o.hooks.record('amd.veto', { answeredBy });
      this.cutAgent('answering-machine');
    }
    if (this.voicemail.begin(answeredBy)) return; // leave-message: silent until the beep (voicemail-mode.ts)
    this.beginEnd();
    this.o.hooks.requestEnd('voicemail');
  }

  // ---- carrier side ---------------------------------------------------------------------------
  private onAudio(frame: AudioChunk): boolean {
    const toEngine = this.audio.toEngine(frame, this.hearers.length ? this.listen : undefined);
    if (this.modes.policy.engineHears !== 'none') this.o.engine.pushAudio(toEngine);
    return true;
  }

  /** Our own ears hear the caller audio the audio path has just decoded. */
  private readonly listen = (pcm8k: Int16Array): void => {
    for (const hear of this.hearers) hear(pcm8k);
  };

  private onCalleeSpeech(started: boolean, itemId: string | undefined, source: 'engine' | 'vad'): void {
    if (!this.gate.isOpen) {
      // Before the greeting only one detector speaks for the opening: the engine's if it hears audio
      // before auto-replies are on, else ours (Gemini is sent nothing until the gate opens).
      if ((source === 'engine') !== this.openingByEngine) return;
      this.calleeSpeaking = started;
      if (started && itemId) this.calleeTurnStartedAt.set(itemId, new Date().toISOString());
      if (started) this.o.hooks.record('callee.speechStarted', {});
      else this.sendDtmfOnAnswer();
      this.gate.calleeSpeech(started);
      return;
    }
    // After the greeting our VAD hears barge-in only for engines that go deaf during playback.
    if (source === 'vad' && this.o.engine.capabilities.detectsSpeechDuringPlayback) return;
    if (!started) {
      this.calleeSpeaking = false;
      this.sendDtmfOnAnswer();
      return;
    }
    this.calleeSpeaking = true;
    if (itemId) this.calleeTurnStartedAt.set(itemId, new Date().toISOString());
    this.o.hooks.record('callee.speechStarted', {});
    if (this.modes.policy.bargeIn && (this.tracker?.hasPending || this.activeResponse)) this.bargeIn();
  }

  private onMark(name: string): boolean {
    const state = this.tracker?.onMark(name);
    if (!state) return false;
    if (isDtmfItem(state.itemId)) this.dtmf.onPlayout(state);
    this.dtmf.onPlayoutChanged();
    this.speech.played(state);
    this.endAfterPlayout.check();
    this.preambles.check();
    return true;
  }

  private onStreamEnd(expected: boolean): void {
    this.speech.cutUnplayed();
    this.transport = undefined;
    this.o.hooks.record('media.ended', { expected, replacing: Boolean(this.reattachTimer) });
    if (this.reattachTimer) return;
    // `stop` means the call is over (the callee hung up, or we did). A drop without `stop` also leaves
    // the call with no audio path, so it ends too, with a reason that says so.
    this.o.hooks.requestEnd(expected ? 'callee-hangup' : 'media-error', expected ? undefined : 'media stream closed without stop');
  }

  // ---- engine side ----------------------------------------------------------------------------
  private handleEngineEvent(e: EngineEvent): void {
    switch (e.type) {
      case 'agent.audio':
        // Waiting for the beep: whatever the engine still says (a greeting requested just before the verdict) is not played.
        if (this.voicemail.waiting) return this.o.engine.interrupt();
        this.speech.play(e);
        return;
      case 'user.speechStarted':
        // The engine's own detector, or its report that it was interrupted: either way a barge-in.
        this.onCalleeSpeech(true, e.itemId, 'engine');
        return;
      case 'user.speechStopped':
        this.onCalleeSpeech(false, undefined, 'engine');
        return;
      case 'session.resumed':
        this.o.hooks.record('engine.resumed', { reason: e.reason, gapMs: e.gapMs });
        return;
      case 'user.transcript': {
        const startedAt = this.calleeTurnStartedAt.get(e.itemId);
        this.calleeTurnStartedAt.delete(e.itemId);
        this.o.hooks.record('transcript', { speaker: 'callee', text: e.text, itemId: e.itemId, ...(startedAt ? { startedAt } : {}) });
        this.screening.heard(e.text);
        return;
      }
      case 'agent.responseStarted':
        this.activeResponse = e.responseId;
        this.endAfterPlayout.responseStarted(e.responseId);
        return;
      case 'agent.transcript':
        // Words of a reply dropped while waiting for the beep were never heard: not part of the transcript.
        if (this.voicemail.waiting && !this.speech.has(e.itemId)) return;
        this.speech.transcript(e);
        return;
      case 'agent.responseDone':
        if (this.activeResponse === e.responseId) this.activeResponse = undefined;
        this.screening.agentReplied();
        this.endAfterPlayout.check();
        this.preambles.check();
        return;
      case 'tool.call':
        void this.toolCalls.run(e.responseId, e.callId, e.name, e.arguments);
        return;
      case 'tool.cancelled':
        for (const callId of e.callIds) this.toolCalls.cancel(callId);
        return;
      case 'usage':
        this.o.hooks.record('usage', { ...e.usage });
        return;
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
   * A call's keys known in advance (`dtmf`) go when the callee's first utterance ends: until menus are
   * detected, that utterance is taken as the menu's prompt. Before the greeting starts, so the tones are
   * queued ahead of it.
   */
  private sendDtmfOnAnswer(): void {
    if (!this.o.dtmfOnAnswer || this.dtmfOnAnswerSent || !this.transport) return;
    this.dtmfOnAnswerSent = true;
    void this.dtmf.send(this.o.dtmfOnAnswer, 'call');
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

  private cutAgent(cause: 'callee' | 'answering-machine' | 'mode'): number {
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
    clearTimeout(this.reattachTimer);
    if (this.activeResponse) this.o.engine.interrupt();
    this.activeResponse = undefined;
    this.dtmf.close();
    this.voicemail.close();
    this.screening.close();
    this.endAfterPlayout.close();
    this.preambles.close();
  }

  /** Stops everything this session runs and writes what is left of the transcript. Idempotent. */
  shutdown(): Promise<void> {
    this.beginEnd();
    this.shutdownPromise ??= (async () => {
      this.speech.cutUnplayed();
      this.speech.writeRemaining();
      this.transport?.close();
      this.transport = undefined;
      await this.o.engine.close().catch(() => undefined);
    })();
    return this.shutdownPromise;
  }
}
