import type { MediaStreamHandler, MediaTransport } from '../telephony/carrier.js';
import type { EngineEvent, VoiceEngine } from '../voice/engine.js';
import { PlayoutTracker } from '../media/playout-tracker.js';
import type { AudioChunk } from '../media/audio-chunk.js';
import type { ToolRegistry } from '../tools/registry.js';
import { heardPart } from '../records/transcript.js';
import type { EndReason } from '../calls/state.js';

/** What the session needs from the rest of the product: a place to record, and a way to end the call. */
export interface SessionHooks {
  record(type: string, data: Record<string, unknown>): void;
  /** Ends the call (hang up at the carrier). Idempotent; the first reason wins. */
  requestEnd(reason: EndReason, detail?: string): void;
  /** The greeting gate opened: the agent may now speak. */
  conversationStarted(): void;
}

export interface CallSessionOptions {
  callId: string;
  engine: VoiceEngine;
  tools: ToolRegistry;
  hooks: SessionHooks;
  /** Greet even without an AMD verdict after this long from the stream start. */
  greetingFallbackMs: number;
  /** Largest audio chunk between two playout marks (bounds the heard-position error). */
  markChunkMs?: number;
  /** Safety net for end_call if marks never come back: hang up after the pending audio plus this. */
  hangupGraceMs?: number;
}

interface AgentItem {
  responseId: string;
  /** When the callee began to hear it (first echoed mark), else when its first audio was sent. */
  startedAt: string;
  heard?: boolean;
  text?: string;
  written: boolean;
  interrupted?: { heardMs: number; sentMs: number };
}

interface PendingHangup {
  responseId: string;
  resolve(outcome: 'hung-up' | 'interrupted'): void;
  guard: NodeJS.Timeout;
}

/**
 * One live call: the carrier's media stream joined to a voice engine. Owns playout (marks), barge-in,
 * the greeting gate and tool dispatch. Knows neither Twilio nor OpenAI by name.
 */
export class CallSession implements MediaStreamHandler {
  private transport?: MediaTransport;
  private tracker?: PlayoutTracker;
  private streams = 0;
  private engineReady = false;
  private gateOpen = false;
  private verdict: 'person' | 'unknown' | undefined;
  private calleeSpeaking = false;
  private calleeSpeechStartedAt?: string;
  private activeResponse?: string;
  private readonly items = new Map<string, AgentItem>();
  private pendingHangup?: PendingHangup;
  private fallbackTimer?: NodeJS.Timeout;
  private ended = false;
  /** Counters for diagnostics and the benchmark. */
  readonly stats = { framesIn: 0, framesOut: 0, framesDroppedNoStream: 0, bargeIns: 0 };

  constructor(private readonly o: CallSessionOptions) {}

  /** Engine events, wired by the factory's onEvent. */
  readonly onEngineEvent = (e: EngineEvent): void => {
    if (this.ended && e.type !== 'usage') return;
    try {
      this.handleEngineEvent(e);
    } catch (err) {
      this.o.hooks.record('error', { source: 'bridge', message: (err as Error).message, eventType: e.type });
    }
  };

  /** Called once the engine is configured (while the phone rings). */
  engineStarted(): void {
    this.engineReady = true;
    this.maybeOpenGate();
  }

  /** Attaches a (new) media stream. A TwiML update opens a new stream for the same call. */
  attach(transport: MediaTransport): void {
    this.transport = transport;
    this.streams++;
    this.tracker = new PlayoutTracker({ chunkMs: this.o.markChunkMs ?? 40, markPrefix: `s${this.streams}m` });
    this.o.hooks.record('media.attached', { stream: this.streams });
    if (this.streams === 1 && !this.fallbackTimer) {
      this.fallbackTimer = setTimeout(() => {
        if (!this.gateOpen && !this.verdict) {
          this.verdict = 'unknown';
          this.o.hooks.record('greeting.fallback', { afterMs: this.o.greetingFallbackMs });
          this.maybeOpenGate();
        }
      }, this.o.greetingFallbackMs);
    }
    this.maybeOpenGate();
  }

  /** The carrier's answering-machine verdict. A person (or no verdict) opens the greeting gate. */
  answeredBy(machine: boolean): void {
    if (machine) {
      // Nothing may be said to a machine: keep the gate shut, end the call.
      this.o.hooks.requestEnd('voicemail');
      return;
    }
    this.verdict = 'person';
    this.maybeOpenGate();
  }

  private maybeOpenGate(): void {
    if (this.gateOpen || this.ended || !this.verdict || !this.engineReady || !this.transport) return;
    this.gateOpen = true;
    clearTimeout(this.fallbackTimer);
    this.o.engine.setAutoRespond(true);
    this.o.hooks.record('greeting.start', { calleeSpeaking: this.calleeSpeaking });
    this.o.hooks.conversationStarted();
    // One response at a time: if the callee is mid-sentence, the engine answers when they finish.
    if (!this.calleeSpeaking && !this.activeResponse) this.o.engine.generateReply();
  }

  // ---- carrier side ---------------------------------------------------------------------------
  onAudio(frame: AudioChunk): void {
    this.stats.framesIn++;
    if (!this.ended) this.o.engine.pushAudio(frame);
  }

  onMark(name: string): void {
    const state = this.tracker?.onMark(name);
    if (!state) return;
    const item = this.items.get(state.itemId);
    if (item && !item.heard) {
      item.heard = true;
      item.startedAt = new Date().toISOString();
    }
    if (item && item.text !== undefined && !item.written && state.playedMs >= state.sentMs) this.writeAgentItem(state.itemId, item);
    this.checkPendingHangup();
  }

  onDtmf(digit: string): void {
    this.o.hooks.record('dtmf', { digit });
  }

  onStreamEnd(expected: boolean): void {
    this.cutUnplayed();
    this.transport = undefined;
    this.o.hooks.record('media.ended', { expected });
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
        if (!t || !tracker) {
          this.stats.framesDroppedNoStream++;
          return;
        }
        if (!this.items.has(e.itemId)) this.items.set(e.itemId, { responseId: e.responseId, written: false, startedAt: new Date().toISOString() });
        for (const chunk of tracker.push(e.itemId, e.audio)) {
          t.sendAudio(chunk.audio);
          t.sendMark(chunk.mark);
          this.stats.framesOut++;
        }
        return;
      }
      case 'user.speechStarted':
        this.calleeSpeaking = true;
        this.calleeSpeechStartedAt = new Date().toISOString();
        this.o.hooks.record('callee.speechStarted', {});
        if (this.tracker?.hasPending || this.activeResponse) this.bargeIn();
        return;
      case 'user.speechStopped':
        this.calleeSpeaking = false;
        return;
      case 'user.transcript':
        this.o.hooks.record('transcript', { speaker: 'callee', text: e.text, itemId: e.itemId, ...(this.calleeSpeechStartedAt ? { startedAt: this.calleeSpeechStartedAt } : {}) });
        return;
      case 'agent.responseStarted':
        this.activeResponse = e.responseId;
        return;
      case 'agent.transcript': {
        const item = this.items.get(e.itemId) ?? { responseId: e.responseId, written: false, startedAt: new Date().toISOString() };
        this.items.set(e.itemId, item);
        item.text = e.text;
        const st = this.tracker?.state(e.itemId);
        if (item.interrupted || !st || st.playedMs >= st.sentMs) this.writeAgentItem(e.itemId, item);
        return;
      }
      case 'agent.responseDone':
        if (this.activeResponse === e.responseId) this.activeResponse = undefined;
        this.checkPendingHangup();
        return;
      case 'tool.call':
        void this.runTool(e.responseId, e.callId, e.name, e.arguments);
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
   * The callee spoke over the agent: flush the carrier's buffer, cancel the response, and cut the
   * engine's memory of each item to what the callee heard (per echoed marks). Unheard items are deleted.
   */
  private bargeIn(): void {
    const t = this.transport;
    const tracker = this.tracker;
    this.o.engine.interrupt();
    this.activeResponse = undefined;
    if (!t || !tracker || !tracker.hasPending) return;
    t.clear();
    const cut = tracker.clear();
    this.stats.bargeIns++;
    for (const c of cut) {
      if (c.playedMs > 0 && this.o.engine.capabilities.truncation) this.o.engine.truncate(c.itemId, c.playedMs);
      else if (c.playedMs === 0) this.o.engine.deleteItem(c.itemId);
      const item = this.items.get(c.itemId);
      if (item) {
        item.interrupted = { heardMs: c.playedMs, sentMs: c.sentMs };
        if (item.text !== undefined && !item.written) this.writeAgentItem(c.itemId, item);
      }
    }
    this.o.hooks.record('agent.interrupted', { items: cut.map((c) => ({ itemId: c.itemId, heardMs: c.playedMs, sentMs: c.sentMs })) });
    if (this.pendingHangup) {
      const p = this.pendingHangup;
      this.pendingHangup = undefined;
      clearTimeout(p.guard);
      this.o.hooks.record('hangup.cancelled', { reason: 'goodbye interrupted' });
      p.resolve('interrupted');
    }
  }

  /** The line went dead with agent audio still queued: those items were cut off where playback stopped. */
  private cutUnplayed(): void {
    const tracker = this.tracker;
    if (!tracker?.hasPending) return;
    for (const c of tracker.clear()) {
      const item = this.items.get(c.itemId);
      if (item && !item.written) item.interrupted = { heardMs: c.playedMs, sentMs: c.sentMs };
    }
  }

  private writeAgentItem(itemId: string, item: AgentItem): void {
    item.written = true;
    const text = item.text ?? '';
    if (item.interrupted) {
      this.o.hooks.record('transcript', {
        speaker: 'agent',
        text,
        itemId,
        startedAt: item.startedAt,
        interrupted: { heardText: heardPart(text, item.interrupted.heardMs, item.interrupted.sentMs), heardMs: item.interrupted.heardMs, totalMs: item.interrupted.sentMs },
      });
    } else if (text) {
      this.o.hooks.record('transcript', { speaker: 'agent', text, itemId, startedAt: item.startedAt });
    }
    this.items.delete(itemId);
  }

  // ---- tools ----------------------------------------------------------------------------------
  private async runTool(responseId: string, callId: string, name: string, argsJson: string): Promise<void> {
    this.o.hooks.record('tool.call', { callId, name, arguments: safeJson(argsJson) });
    const outcome = await this.o.tools.dispatch(
      {
        callId: this.o.callId,
        hangupAfterPlayout: () =>
          new Promise((resolve) => {
            const grace = this.o.hangupGraceMs ?? 3000;
            const guard = setTimeout(() => {
              if (this.pendingHangup?.guard !== guard) return;
              this.pendingHangup = undefined;
              this.o.hooks.record('hangup.guard', { note: 'playout marks did not arrive in time' });
              this.o.hooks.requestEnd('agent-hangup');
              resolve('hung-up');
            }, (this.tracker?.pendingMs ?? 0) + grace + 30_000);
            this.pendingHangup = { responseId, resolve, guard };
            this.checkPendingHangup();
          }),
      },
      name,
      argsJson,
    );
    this.o.hooks.record('tool.result', { callId, name, ok: outcome.ok, output: outcome.output ?? null });
    if (outcome.output !== undefined && !this.ended) this.o.engine.sendToolResult(callId, outcome.output, { reply: outcome.reply && !this.o.engine.capabilities.autoReplyAfterTool });
  }

  /** Hangs up once the response carrying end_call is done and all its audio was confirmed played. */
  private checkPendingHangup(): void {
    const p = this.pendingHangup;
    if (!p) return;
    if (this.activeResponse === p.responseId) return;
    if (this.tracker?.hasPending) return;
    this.pendingHangup = undefined;
    clearTimeout(p.guard);
    this.o.hooks.requestEnd('agent-hangup');
    p.resolve('hung-up');
  }

  /** Stops everything this session runs. Safe to call more than once. */
  async shutdown(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.fallbackTimer);
    if (this.pendingHangup) {
      clearTimeout(this.pendingHangup.guard);
      this.pendingHangup.resolve('hung-up');
      this.pendingHangup = undefined;
    }
    this.cutUnplayed();
    // Agent turns never confirmed as played are still part of what was said up to the end.
    for (const [id, item] of this.items) if (item.text !== undefined && !item.written) this.writeAgentItem(id, item);
    this.transport?.close();
    this.transport = undefined;
    await this.o.engine.close().catch(() => undefined);
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
