import type { MediaStreamHandler, MediaTransport } from '../telephony/carrier.js';
import type { EngineEvent, VoiceEngine } from '../voice/engine.js';
import { PlayoutTracker } from '../media/playout-tracker.js';
import type { AudioChunk } from '../media/audio-chunk.js';
import { EnergyVad } from '../media/energy-vad.js';
import { audioPathFor, type AudioPath } from './audio-path.js';
import type { ToolRegistry } from '../tools/registry.js';
import { heardPart } from '../records/transcript.js';
import { ToolCalls, type HangupOutcome } from './tool-calls.js';
import { DtmfSender, isDtmfItem } from './dtmf-sender.js';
import type { TimelineEventType } from '../shared/event-types.js';
import type { EndReason } from '../calls/state.js';
import { GreetingGate, type GateOpenReason } from './greeting-gate.js';

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
}

interface AgentItem {
  responseId: string;
  /** When the callee began to hear it (first echoed mark), else when its first audio was sent. */
  startedAt: string;
  heard: boolean;
  text?: string;
  /** Audio the engine generated for the item, including any dropped after a cut. */
  generatedMs?: number;
  written: boolean;
  interrupted?: { heardMs: number };
}

interface PendingHangup {
  responseId: string;
  /** The end_call tool calls waiting on this hang-up; when the engine has cancelled all of them, it is off. */
  owners: Set<string>;
  promise: Promise<HangupOutcome>;
  resolve(outcome: HangupOutcome): void;
  guard: NodeJS.Timeout;
}

/**
 * One live call: the carrier's media stream joined to a voice engine. Owns playout (marks), barge-in,
 * the greeting gate and tool dispatch. Knows neither Twilio nor OpenAI by name.
 */
export class CallSession {
  private transport?: MediaTransport;
  private tracker?: PlayoutTracker;
  private streams = 0;
  private engineReady = false;
  private readonly gate: GreetingGate;
  private calleeSpeaking = false;
  private readonly calleeTurnStartedAt = new Map<string, string>();
  private activeResponse?: string;
  private readonly items = new Map<string, AgentItem>();
  private pendingHangup?: PendingHangup;
  private readonly toolCalls: ToolCalls;
  private ending = false;
  /** Set while a stream replacement is expected (e.g. after a TwiML update): its end is not the call's. */
  private reattachTimer?: NodeJS.Timeout;
  private shutdownPromise?: Promise<void>;
  /** A limit is ending the call: the goodbye response it asked for, and the guard that cuts the line anyway. */
  private wrapping?: { reason: EndReason; responseId?: string; guard: NodeJS.Timeout };
  private readonly audio: AudioPath;
  /** Our own ears on the caller audio, for engines that go deaf to barge-in once they finish generating. */
  private readonly vad?: EnergyVad;
  /** Whose speech events find the end of the callee's first utterance: the engine's, or our VAD's. */
  private readonly openingByEngine: boolean;
  private readonly dtmf: DtmfSender;
  private dtmfOnAnswerSent = false;

  constructor(private readonly o: CallSessionOptions) {
    const caps = o.engine.capabilities;
    this.audio = audioPathFor(caps);
    this.openingByEngine = caps.hearsBeforeAutoRespond;
    if (!caps.detectsSpeechDuringPlayback || !caps.hearsBeforeAutoRespond) this.vad = new EnergyVad();
    this.gate = new GreetingGate({
      silenceMs: o.greetingSilenceMs,
      personOpeningMaxMs: o.personOpeningMaxMs ?? 2500,
      record: (type, data) => o.hooks.record(type, data),
      open: (reason) => this.openGate(reason),
      voicemail: (answeredBy) => this.veto(answeredBy),
    });
    this.dtmf = new DtmfSender({
      stream: () => (this.transport && this.tracker && !this.ending ? { transport: this.transport, tracker: this.tracker } : undefined),
      record: (type, data) => o.hooks.record(type, data),
      carrier: o.hooks.playDigitsViaCarrier && { play: o.hooks.playDigitsViaCarrier, expectNewStream: (ms) => this.expectNewStream(ms) },
    });
    this.toolCalls = new ToolCalls({
      callId: o.callId,
      clientId: o.clientId,
      engine: o.engine,
      tools: o.tools,
      record: (type, data) => o.hooks.record(type, data),
      hangupAfterPlayout: (responseId, callId, signal) => this.hangupAfterPlayout(responseId, callId, signal),
      sendDtmf: (digits) => this.dtmf.send(digits, 'tool'),
      ending: () => this.ending,
      cancelWaitMs: o.toolCancelWaitMs,
    });
  }

  /** Engine events, wired by the factory's onEvent. */
  readonly onEngineEvent = (e: EngineEvent): void => {
    // Once the call is ending nothing more reaches the callee; usage is still billed and recorded.
    // The words of an item the callee already heard part of (a machine verdict cut it) are still written.
    if (this.ending && e.type !== 'usage' && !(e.type === 'agent.transcript' && this.items.has(e.itemId))) return;
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
    if (this.streams === 1) this.gate.listening();
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
    if (!this.ending) this.gate.verdict(answeredBy);
  }

  private openGate(reason: GateOpenReason): void {
    if (this.ending) return;
    this.o.engine.setAutoRespond(true);
    this.o.hooks.record('greeting.start', { reason, calleeSpeaking: this.calleeSpeaking });
    this.o.hooks.conversationStarted();
    // One response at a time: if the callee is mid-sentence, the engine answers when they finish.
    if (!this.calleeSpeaking && !this.activeResponse) this.o.engine.generateReply();
  }

  /**
   * A machine answered: nothing more may be said to it. What is playing stops now (the carrier's buffer
   * is flushed, the response cancelled, the transcript keeps what was heard) and the call ends as voicemail.
   */
  private veto(answeredBy: string): void {
    if (this.activeResponse !== undefined || this.tracker?.hasPending) {
      this.o.hooks.record('amd.veto', { answeredBy });
      this.cutAgent('answering-machine');
    }
    this.beginEnd();
    this.o.hooks.requestEnd('voicemail');
  }

  // ---- carrier side ---------------------------------------------------------------------------
  private onAudio(frame: AudioChunk): boolean {
    this.o.engine.pushAudio(this.audio.toEngine(frame, this.vad && this.listen));
    return true;
  }

  /** Our VAD hears the caller audio the audio path has just decoded. */
  private readonly listen = (pcm8k: Int16Array): void => {
    const change = this.vad!.pushPcm(pcm8k);
    if (change) this.onCalleeSpeech(change === 'started', undefined, 'vad');
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
    if (this.tracker?.hasPending || this.activeResponse) this.bargeIn();
  }

  private onMark(name: string): boolean {
    const state = this.tracker?.onMark(name);
    if (!state) return false;
    if (isDtmfItem(state.itemId)) this.dtmf.onPlayout(state);
    this.dtmf.onPlayoutChanged();
    const item = this.items.get(state.itemId);
    if (item && !item.heard) {
      item.heard = true;
      item.startedAt = new Date().toISOString();
    }
    if (item && item.text !== undefined && !item.written && state.playedMs >= state.sentMs) this.writeAgentItem(state.itemId, item);
    this.checkPendingHangup();
    this.checkWrapUp();
    return true;
  }

  private onStreamEnd(expected: boolean): void {
    this.cutUnplayed();
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
      case 'agent.audio': {
        const t = this.transport;
        const tracker = this.tracker;
        // No stream (between a stream's end and its replacement): nothing can be played.
        if (!t || !tracker) return;
        if (!this.items.has(e.itemId)) this.items.set(e.itemId, { responseId: e.responseId, written: false, heard: false, startedAt: new Date().toISOString() });
        const audio = this.audio.toCarrier(e.audio);
        if (audio.length === 0) return;
        for (const chunk of tracker.push(e.itemId, audio)) {
          t.sendAudio(chunk.audio, chunk.mark);
        }
        return;
      }
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
        return;
      }
      case 'agent.responseStarted':
        this.activeResponse = e.responseId;
        if (this.wrapping && !this.wrapping.responseId) this.wrapping.responseId = e.responseId;
        return;
      case 'agent.transcript': {
        const item = this.items.get(e.itemId) ?? { responseId: e.responseId, written: false, heard: false, startedAt: new Date().toISOString() };
        this.items.set(e.itemId, item);
        item.text = e.text;
        item.generatedMs = e.audioMs;
        const st = this.tracker?.state(e.itemId);
        if (item.interrupted || !st || st.playedMs >= st.sentMs) this.writeAgentItem(e.itemId, item);
        return;
      }
      case 'agent.responseDone':
        if (this.activeResponse === e.responseId) this.activeResponse = undefined;
        this.checkPendingHangup();
        this.checkWrapUp();
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
    // A goodbye the callee talked over does not end the call, whether its audio was still queued or
    // its response was still being generated.
    const p = this.pendingHangup;
    if (p && (cut > 0 || interruptedResponse === p.responseId)) {
      this.pendingHangup = undefined;
      clearTimeout(p.guard);
      this.o.hooks.record('hangup.cancelled', { reason: 'goodbye interrupted' });
      p.resolve('interrupted');
    }
  }

  /** Stops the agent now: response cancelled, carrier buffer cleared, items cut to what was heard. Returns how many were cut. */
  private cutAgent(cause: 'callee' | 'answering-machine'): number {
    const t = this.transport;
    const tracker = this.tracker;
    this.o.engine.interrupt();
    this.activeResponse = undefined;
    const all = t && tracker?.hasPending ? (t.clear(), tracker.clear()) : [];
    // Key tones are not the agent's speech: the engine has no item to truncate for them.
    this.dtmf.onCut(all);
    this.dtmf.onPlayoutChanged();
    const cut = all.filter((c) => !isDtmfItem(c.itemId));
    if (cut.length) {
      for (const c of cut) {
        if (c.playedMs > 0 && this.o.engine.capabilities.truncation) this.o.engine.truncate(c.itemId, c.playedMs);
        else if (c.playedMs === 0) this.o.engine.deleteItem(c.itemId);
        const item = this.items.get(c.itemId);
        if (item) {
          item.interrupted = { heardMs: c.playedMs };
          if (item.text !== undefined && !item.written) this.writeAgentItem(c.itemId, item);
        }
      }
      this.o.hooks.record('agent.interrupted', { cause, items: cut.map((c) => ({ itemId: c.itemId, heardMs: c.playedMs, sentMs: c.sentMs })) });
    }
    return cut.length;
  }

  /** The line went dead with agent audio still queued: those items were cut off where playback stopped. */
  private cutUnplayed(): void {
    const tracker = this.tracker;
    if (!tracker?.hasPending) return;
    const cut = tracker.clear();
    this.dtmf.onCut(cut);
    for (const c of cut) {
      const item = this.items.get(c.itemId);
      if (item && !item.written) item.interrupted = { heardMs: c.playedMs };
    }
  }

  private writeAgentItem(itemId: string, item: AgentItem): void {
    item.written = true;
    this.items.delete(itemId);
    const text = item.text ?? '';
    if (item.interrupted) {
      // The heard fraction is taken of all audio generated for the item, including what was dropped.
      const totalMs = Math.max(item.generatedMs ?? 0, this.tracker?.state(itemId)?.sentMs ?? 0);
      this.o.hooks.record('transcript', {
        speaker: 'agent',
        text,
        itemId,
        startedAt: item.startedAt,
        interrupted: { heardText: heardPart(text, item.interrupted.heardMs, totalMs), heardMs: item.interrupted.heardMs, totalMs },
      });
    } else if (text) {
      this.o.hooks.record('transcript', { speaker: 'agent', text, itemId, startedAt: item.startedAt });
    }
  }

  // ---- tools ----------------------------------------------------------------------------------
  private hangupAfterPlayout(responseId: string, callId: string, signal: AbortSignal): Promise<HangupOutcome> {
    if (signal.aborted) return Promise.resolve('cancelled');
    // A second end_call while one waits joins it rather than starting another wait.
    let p = this.pendingHangup;
    if (!p) {
      let resolve!: (o: HangupOutcome) => void;
      const promise = new Promise<HangupOutcome>((r) => (resolve = r));
      const guard = setTimeout(() => {
        if (this.pendingHangup?.guard !== guard) return;
        this.pendingHangup = undefined;
        this.o.hooks.record('hangup.guard', { note: 'playout marks did not come back in time' });
        this.o.hooks.requestEnd('agent-hangup');
        resolve('hung-up');
      }, (this.tracker?.pendingMs ?? 0) + (this.o.hangupGraceMs ?? 30_000));
      p = { responseId, owners: new Set(), promise, resolve, guard };
      this.pendingHangup = p;
    }
    const pending = p;
    pending.owners.add(callId);
    signal.addEventListener(
      'abort',
      () => {
        pending.owners.delete(callId);
        if (this.pendingHangup !== pending || pending.owners.size > 0) return;
        this.pendingHangup = undefined;
        clearTimeout(pending.guard);
        this.o.hooks.record('hangup.cancelled', { reason: 'tool call cancelled by the engine' });
        pending.resolve('cancelled');
      },
      { once: true },
    );
    this.checkPendingHangup();
    return pending.promise;
  }

  /**
   * Hangs up once the response carrying end_call is done and all its audio was confirmed played. An
   * engine that continues by itself after a tool result holds its turn open until it gets one, so
   * there, all audio before the call is all there is.
   */
  private checkPendingHangup(): void {
    const p = this.pendingHangup;
    if (!p) return;
    if (this.activeResponse === p.responseId && !this.o.engine.capabilities.autoReplyAfterTool) return;
    if (this.tracker?.hasPending) return;
    this.pendingHangup = undefined;
    clearTimeout(p.guard);
    this.o.hooks.requestEnd(this.wrapping?.reason ?? 'agent-hangup');
    p.resolve('hung-up');
  }

  /**
   * Ends the call politely for a limit (cost, duration): no new turns, the engine is asked for a brief
   * goodbye, and the call ends once that goodbye has played, or after `graceMs` whatever happens.
   * Returns false when there is no conversation to wrap up (the caller then ends the call at once).
   */
  wrapUp(reason: EndReason, instructions: string, graceMs: number): boolean {
    if (this.ending) return true;
    if (!this.gate.isOpen || !this.transport) return false;
    if (this.wrapping) return true;
    const guard = setTimeout(() => this.o.hooks.requestEnd(reason, 'the goodbye did not finish in time'), graceMs);
    this.wrapping = { reason, guard };
    this.o.engine.setAutoRespond(false);
    if (this.activeResponse) this.o.engine.interrupt();
    this.activeResponse = undefined;
    this.o.engine.generateReply({ instructions });
    return true;
  }

  private checkWrapUp(): void {
    const w = this.wrapping;
    if (!w?.responseId || this.activeResponse === w.responseId || this.tracker?.hasPending) return;
    clearTimeout(w.guard);
    this.o.hooks.requestEnd(w.reason);
  }

  /**
   * The call is ending: from now on nothing reaches the callee or the engine, the gate stays shut and
   * timers stop. Synchronous, so that nothing more is said while the carrier hang-up is in flight.
   */
  beginEnd(): void {
    if (this.ending) return;
    this.ending = true;
    this.gate.close();
    clearTimeout(this.reattachTimer);
    if (this.wrapping) clearTimeout(this.wrapping.guard);
    if (this.activeResponse) this.o.engine.interrupt();
    this.activeResponse = undefined;
    this.dtmf.close();
    if (this.pendingHangup) {
      clearTimeout(this.pendingHangup.guard);
      this.pendingHangup.resolve('hung-up');
      this.pendingHangup = undefined;
    }
  }

  /** Stops everything this session runs and writes what is left of the transcript. Idempotent. */
  shutdown(): Promise<void> {
    this.beginEnd();
    this.shutdownPromise ??= (async () => {
      this.cutUnplayed();
      // Agent turns never confirmed as played are still part of what was said up to the end.
      for (const [id, item] of [...this.items]) if (item.text !== undefined && !item.written) this.writeAgentItem(id, item);
      this.transport?.close();
      this.transport = undefined;
      await this.o.engine.close().catch(() => undefined);
    })();
    return this.shutdownPromise;
  }
}
