import { AudioChunk } from '../../media/audio-chunk.js';
import { mulawDecode, mulawEncode } from '../../media/mulaw.js';
import type { EngineCapabilities, EngineEvent, EngineListener, EngineStartOptions, ToolSpec, VoiceEngine } from '../engine.js';
import { ClauseSplitter } from './clauses.js';
import { Conversation, type Clause } from './conversation.js';
import { LlmTimer, StageTimer, TurnClock, timedLlm, timedTts } from './latency.js';
import { prefetch } from './prefetch.js';
import { StageError, type CascadeStages, type LlmChunk, type SttStream, type ToolCallRequest, type Transcript, type TurnDetector, type TurnEvent } from './stages.js';

export interface CascadeEngineOptions {
  stages: CascadeStages;
  /** Tell reasoning models not to think aloud (LLM_NO_THINK). */
  noThink: boolean;
  onEvent: EngineListener;
  /** Caller audio from before the detector confirmed speech, kept for the STT (its onset delay). */
  preRollMs?: number;
  /** Longest a reply that has not started waits for the callee to finish a turn they began (default 2000). */
  holdForCalleeMs?: number;
  /** Start the reply at the callee's pause, before the end-of-turn silence is over (default true). */
  speculative?: boolean;
  /** The detector's end-of-turn silence (VAD_SILENCE_MS): a setting, not added latency (latency.ts). */
  silenceMs?: number;
}

/** A reply being prepared at the callee's pause: used if the turn ends without more speech, else dropped. */
interface Speculation {
  itemId: string;
  version: number;
  abort: AbortController;
  transcript: Promise<Transcript | Error>;
  llm: AsyncIterable<LlmChunk>;
  sttTimer: StageTimer;
  llmTimer: LlmTimer;
  /** A reply took it: its transcript's arrival must not abort it. */
  taken?: boolean;
}

/** Longer than the carrier's 20 ms frames ever stall on a live line: the bridge stopped sending audio. */
const AUDIO_STOPPED_MS = 200;

/** Why the words must be plain: they are spoken by a synthesizer, not shown. */
export const SPOKEN_STYLE =
  'You are speaking on a phone call: everything you write is read aloud by a speech synthesizer. Write only the words to say, in short sentences: no markdown, lists, emojis or stage directions.';
/** Qwen3 also honours the `/no_think` switch; other models read the sentence. */
export const NO_THINK = 'Answer directly: do not think aloud or write out your reasoning. /no_think';

interface Reply {
  id: string;
  itemId: string;
  abort: AbortController;
  cancelled: boolean;
  finished: boolean;
  clauses: Clause[];
  toolCalls: ToolCallRequest[];
  audioMs: number;
  /** Clauses are spoken one after another in this chain, each synthesized ahead while the last plays. */
  chain: Promise<void>;
  /** The callee turn this reply answers by itself, timed for its latency report. */
  clock?: TurnClock;
}

/**
 * A voice engine made of separate stages: turn detection (Silero VAD in-process), speech-to-text, an
 * LLM with tools, and text-to-speech (stages.ts). It speaks mu-law 8 kHz both ways, so the bridge passes
 * audio through; each stage resamples for its model. The bridge sees it only through `capabilities`,
 * like the speech-to-speech engines: it answers a finished turn by itself once auto-replies are on,
 * reports the callee's speech at any time (its VAD hears everything), and truncates an item to the
 * clauses the callee heard.
 */
export class CascadeEngine implements VoiceEngine {
  readonly name = 'cascade';
  readonly capabilities: EngineCapabilities = {
    truncation: true,
    serverTurnDetection: true,
    autoReplyAfterTool: false,
    detectsSpeechDuringPlayback: true,
    cancelsInterruptedToolCalls: false,
    // A chat request needs every tool call's result: a reply while one runs would have to invent one.
    speaksWhileToolRuns: false,
    // So a long wait (ask_owner) is answered at once, and the holding lines and the owner's answer come as
    // instructions for a reply of their own: every request then shows the conversation as it happened.
    holdsWithTextTurns: true,
    hearsBeforeAutoRespond: true,
    answersTurnsWhileReplying: false,
    inputFormat: { encoding: 'pcmu', sampleRate: 8000 },
    outputFormat: { encoding: 'pcmu', sampleRate: 8000 },
  };

  private instructions = '';
  private tools: ToolSpec[] = [];
  private autoRespond = false;
  private closed = false;
  private readonly convo = new Conversation();
  private turns?: TurnDetector;
  private utterance?: { itemId: string; stt: SttStream; clock: TurnClock };
  private preRoll: Int16Array[] = [];
  private readonly preRollFrames: number;
  /** Transcriptions in order: a reply waits for them, so it answers what was said. */
  private pendingUser: Promise<void> = Promise.resolve();
  private reply?: Reply;
  private seq = 0;
  private spec?: Speculation;
  /**
   * The opening's reply, prepared at the callee's pause before auto-replies are on ("Hello?" before the
   * greeting gate opens): the greeting asked for next, without instructions, speaks it. `version` is the
   * conversation it was prepared for (the turn's transcript, once added, moves it on).
   */
  private held?: { spec: Speculation; version: number; clock: TurnClock };
  /** Any reply has been asked for: before it, the engine prepares the greeting at the callee's pause. */
  private greeted = false;
  /** When the last caller frame arrived: a callee turn with no audio coming cannot end, so holds nothing. */
  private lastAudioAt = 0;
  /** Caller audio through the turn detector so far (ms): where its events happened, for the greeting gate. */
  private heardMs = 0;
  /** Transcriptions not yet added to the conversation. */
  private transcribing = 0;
  /** Resolves when the callee's current turn ends (a reply about to start waits for it). */
  private turnOver?: { promise: Promise<void>; resolve: () => void };

  constructor(private readonly o: CascadeEngineOptions) {
    this.preRollFrames = Math.ceil((o.preRollMs ?? 300) / 20);
  }

  private emit(e: EngineEvent): void {
    this.o.onEvent(e);
  }

  async start(start: EngineStartOptions): Promise<void> {
    this.instructions = [start.instructions, SPOKEN_STYLE, ...(this.o.noThink ? [NO_THINK] : [])].join('\n\n');
    this.tools = start.tools;
    this.autoRespond = start.autoRespond;
    // A model that is missing fails the call here, as a server that cannot be reached would, not mid-call.
    await Promise.all([this.o.stages.stt.ready?.(), this.o.stages.tts.ready?.()]);
    this.turns = this.o.stages.turns();
  }

  pushAudio(frame: AudioChunk): void {
    if (this.closed || !this.turns) return;
    this.lastAudioAt = performance.now();
    const pcm = mulawDecode(frame.bytes);
    // The turn detector's Silero runs in the VAD worker: the frame goes to the STT (or the pre-roll) once
    // its event is known, in frame order, so each frame lands on the same side of a turn's start as before.
    this.turns.hear(pcm, (event) => this.heard(pcm, event));
  }

  /** Resolves once every caller frame so far has been through the turn detector (tests). */
  async drainTurns(): Promise<void> {
    await this.turns?.drain?.();
  }

  private heard(pcm: Int16Array, event: TurnEvent | undefined): void {
    if (this.closed) return;
    this.heardMs += pcm.length / 8; // mu-law decoded at 8 kHz
    if (this.utterance) this.utterance.stt.push(pcm);
    else {
      this.preRoll.push(pcm);
      if (this.preRoll.length > this.preRollFrames) this.preRoll.shift();
    }
    if (event === 'speechStarted') this.speechStarted();
    else if (event === 'speechPaused') this.speculate();
    else if (event === 'speechResumed') this.dropSpeculation();
    else if (event === 'turnEnded') this.turnEnded();
  }

  private speechStarted(): void {
    this.dropHeld();
    const itemId = `cuser_${++this.seq}`;
    const stt = this.o.stages.stt.open();
    for (const p of this.preRoll) stt.push(p);
    this.preRoll = [];
    this.utterance = { itemId, stt, clock: new TurnClock(itemId, this.o.silenceMs ?? 0) };
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.turnOver = { promise, resolve };
    this.emit({ type: 'user.speechStarted', itemId, audioMs: this.heardMs });
  }

  private turnEnded(): void {
    const u = this.utterance;
    this.utterance = undefined;
    this.turnOver?.resolve();
    this.turnOver = undefined;
    if (!u) return this.dropSpeculation();
    u.clock.turnEnded();
    // The reply prepared at the pause stands if nothing was said or done since: the audio after the pause
    // was silence, so its transcript is the turn's, and its LLM request is already under way.
    const spec = this.spec;
    this.spec = undefined;
    const fresh = spec && spec.itemId === u.itemId && spec.version === this.convo.version && !this.reply && this.transcribing === 0;
    const usable = fresh && this.autoRespond;
    // Before the greeting (auto-replies off) it waits for the greeting to be asked for.
    if (fresh && !usable) this.held = { spec, version: this.convo.version, clock: u.clock };
    if (spec && !fresh) spec.abort.abort();
    if (fresh) u.stt.abort();
    if (fresh) Object.assign(u.clock, { speculative: true, stt: spec.sttTimer, llm: spec.llmTimer });
    else u.clock.stt = new StageTimer();
    // Transcriptions may overlap; their results join the conversation in the order they were spoken.
    const result = fresh ? spec.transcript : settle(u.stt.finish()).finally(() => u.clock.stt?.done());
    this.transcribing++;
    this.pendingUser = this.pendingUser.then(async () => {
      const t = await result;
      this.transcribing--;
      if (this.closed) return;
      if (t instanceof Error) return (spec && this.dropHeld(spec), this.stageFailed(t, 'stt'));
      if (t.usage && !fresh) this.emit({ type: 'usage', usage: t.usage });
      if (!t.text) return (spec && this.dropHeld(spec), spec?.abort.abort());
      this.convo.addUser(t.text);
      const held = this.held;
      if (held && held.spec === spec) held.version = this.convo.version;
      // Whether the turn is answered is settled before its transcript is out, as OpenAI's server VAD
      // creates the response before the transcription arrives: a mode its words start (a "please hold")
      // then stops replies after this one, which acknowledges it.
      const answer = this.autoRespond;
      this.emit({ type: 'user.transcript', itemId: u.itemId, text: t.text });
      // As OpenAI's server VAD with interrupt_response off: a turn that ends while the agent is replying
      // gets no reply of its own (the bridge asks for one if it cut the agent for it).
      if (answer && !this.reply) this.respond(undefined, false, usable ? spec : undefined, u.clock);
      else if (!spec?.taken && this.held?.spec !== spec) spec?.abort.abort();
    });
    // Reported once the turn's transcript is on its way: a reply asked for now (the greeting gate opens
    // at the end of "Hello?") waits for it and answers it.
    this.emit({ type: 'user.speechStopped', audioMs: this.heardMs });
  }

  /** The callee paused: transcribe what they said so far and start the LLM on it, not speaking yet. */
  private speculate(): void {
    const u = this.utterance;
    u?.clock.speechEnded();
    const peek = u?.stt.peek;
    // Before any reply, auto-replies are off until the greeting gate opens: the greeting is prepared too.
    const mayReply = this.autoRespond || !this.greeted;
    if (!u || !peek || this.o.speculative === false || !mayReply || this.reply || this.transcribing > 0) return;
    this.dropSpeculation();
    const abort = new AbortController();
    const sttTimer = new StageTimer();
    const llmTimer = new LlmTimer();
    const transcript = settle(peek.call(u.stt)).finally(() => sttTimer.done());
    const system = this.instructions;
    const version = this.convo.version;
    const llm = this.o.stages.llm;
    const tools = this.tools;
    const convo = this.convo;
    const emit = (e: EngineEvent) => this.emit(e);
    void transcript.then((t) => !(t instanceof Error) && t.usage && emit({ type: 'usage', usage: t.usage }));
    const stream = (async function* (): AsyncIterable<LlmChunk> {
      const t = await transcript;
      if (t instanceof Error || !t.text || abort.signal.aborted) return;
      llmTimer.begin();
      yield* timedLlm(llm.stream({ messages: convo.messages(system, t.text), tools }, abort.signal), llmTimer);
    })();
    this.spec = { itemId: u.itemId, version, abort, transcript, llm: prefetch(stream), sttTimer, llmTimer };
  }

  private dropSpeculation(): void {
    this.spec?.abort.abort();
    this.spec = undefined;
    this.dropHeld();
  }

  /** Drops the greeting prepared at the pause (only `spec`'s, when given), unless a reply took it. */
  private dropHeld(spec?: Speculation): void {
    const h = this.held;
    if (!h || (spec && h.spec !== spec)) return;
    this.held = undefined;
    if (!h.spec.taken) h.spec.abort.abort();
  }

  generateReply(opts?: { instructions?: string }): void {
    this.respond(opts?.instructions, true);
  }

  setAutoRespond(on: boolean): void {
    this.autoRespond = on;
  }

  interrupt(): void {
    const r = this.reply;
    if (!r) return;
    r.cancelled = true;
    r.abort.abort();
    this.reply = undefined;
    // Reported after the bridge's cut has run (it truncates next), as a server's events would come.
    setImmediate(() => this.finish(r, 'cancelled'));
  }

  /** The bridge sent the reply's first audio to the carrier: the turn's latency report is complete. */
  audioSent(responseId: string): void {
    if (this.reply?.id === responseId) this.reportLatency(this.reply, performance.now());
  }

  private reportLatency(r: Reply, sentAt?: number): void {
    const report = r.clock?.report(sentAt);
    if (report) this.emit({ type: 'turn.latency', report: { ...report } });
  }

  truncate(itemId: string, playedMs: number): void {
    this.convo.truncate(itemId, playedMs);
  }

  deleteItem(itemId: string): void {
    this.convo.forget(itemId);
  }

  sendToolResult(callId: string, output: string, opts: { reply: boolean }): void {
    this.convo.addToolResult(callId, output);
    if (opts.reply) this.respond(undefined, true);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reply) {
      this.reply.cancelled = true;
      this.reply.abort.abort();
      this.reply = undefined;
    }
    this.utterance?.stt.abort();
    this.utterance = undefined;
    this.dropSpeculation();
    this.turns?.close();
    this.emit({ type: 'closed', expected: true, reason: 'call ended' });
  }

  // ---- a reply: LLM -> clauses -> TTS -----------------------------------------------------------
  private respond(instructions: string | undefined, awaitUser: boolean, prepared?: Speculation, clock?: TurnClock): void {
    // One reply at a time, as the speech-to-speech engines: the bridge cancels before it asks again.
    if (this.closed || this.reply) return prepared?.abort.abort();
    this.greeted = true;
    // The greeting prepared at the callee's pause, if it was prepared for this very request.
    const held = this.held;
    if (!prepared && !instructions && held && held.version === this.convo.version) {
      this.held = undefined;
      prepared = held.spec;
      clock ??= held.clock;
    }
    if (prepared) prepared.taken = true;
    else this.dropSpeculation();
    const n = ++this.seq;
    const r: Reply = { id: `cresp_${n}`, itemId: `citem_${n}`, abort: new AbortController(), cancelled: false, finished: false, clauses: [], toolCalls: [], audioMs: 0, chain: Promise.resolve(), clock };
    if (clock) clock.responseId = r.id;
    this.reply = r;
    this.emit({ type: 'agent.responseStarted', responseId: r.id });
    if (prepared) r.abort.signal.addEventListener('abort', () => prepared.abort.abort(), { once: true });
    void this.run(r, instructions, awaitUser, prepared?.llm);
  }

  private async run(r: Reply, instructions: string | undefined, awaitUser: boolean, prepared?: AsyncIterable<LlmChunk>): Promise<void> {
    try {
      if (awaitUser) await this.pendingUser;
      if (r.cancelled) return;
      const entry = this.convo.addAgent(r.itemId);
      r.clauses = entry.clauses;
      const system = instructions ? `${this.instructions}\n\n${instructions}` : this.instructions;
      const splitter = new ClauseSplitter();
      let stream = prepared ?? this.o.stages.llm.stream({ messages: this.convo.messages(system), tools: this.tools }, r.abort.signal);
      if (!prepared && r.clock) stream = timedLlm(stream, (r.clock.llm = new LlmTimer()));
      for await (const chunk of stream) {
        if (r.cancelled) return;
        if (chunk.type === 'text') for (const clause of splitter.push(chunk.text)) this.speak(r, clause);
        else if (chunk.type === 'toolCall') r.toolCalls.push(chunk.call);
        else this.emit({ type: 'usage', usage: chunk.usage });
      }
      if (r.cancelled) return;
      for (const clause of splitter.flush()) this.speak(r, clause);
      await r.chain;
      if (r.cancelled) return;
      entry.toolCalls.push(...r.toolCalls);
      this.finish(r, 'completed');
    } catch (err) {
      if (r.cancelled) return;
      this.stageFailed(err, 'llm');
      this.finish(r, 'failed');
    }
  }

  /** Queues a clause: its speech is synthesized now and played after the clauses before it. */
  private speak(r: Reply, text: string): void {
    let source = this.o.stages.tts.synthesize(text, r.abort.signal);
    if (r.clock && !r.clock.tts) source = timedTts(source, (r.clock.tts = new StageTimer()));
    const audio = prefetch(source);
    r.chain = r.chain.then(async () => {
      if (r.cancelled) return;
      // A reply that has not begun does not start over the callee (who began just as it was asked for,
      // "Hello?" as the greeting starts): it waits for their turn to end, as a person would, but not for
      // ever (speech-like noise).
      // A turn whose audio stopped coming (the bridge no longer sends it: a mailbox's greeting under a
      // machine verdict) can never end, so it holds nothing.
      if (!r.audioMs && this.turnOver && performance.now() - this.lastAudioAt < AUDIO_STOPPED_MS) await this.calleeTurnOver(this.turnOver.promise);
      if (r.cancelled) return;
      const clause: Clause = { text, audioMs: 0 };
      try {
        for await (const pcm of audio) {
          if (r.cancelled) return;
          if (!pcm.length) continue;
          if (!clause.audioMs) r.clauses.push(clause);
          const ms = pcm.length / 8;
          clause.audioMs += ms;
          r.audioMs += ms;
          this.emit({ type: 'agent.audio', responseId: r.id, itemId: r.itemId, audio: AudioChunk.fromBytes(mulawEncode(pcm)) });
        }
      } catch (err) {
        if (!r.cancelled) this.stageFailed(err, 'tts');
        return;
      }
      const usage = this.o.stages.tts.usageFor?.(text);
      if (usage) this.emit({ type: 'usage', usage });
    });
  }

  /** The callee's turn ends, their audio stops coming, or `holdForCalleeMs` passes, whichever first. */
  private async calleeTurnOver(turnOver: Promise<void>): Promise<void> {
    let poll: NodeJS.Timeout | undefined;
    let limit: NodeJS.Timeout | undefined;
    const stopped = new Promise<void>((done) => {
      poll = setInterval(() => performance.now() - this.lastAudioAt >= AUDIO_STOPPED_MS && done(), 50);
      limit = setTimeout(done, this.o.holdForCalleeMs ?? 2000);
    });
    await Promise.race([turnOver, stopped]);
    clearInterval(poll);
    clearTimeout(limit);
  }

  private finish(r: Reply, status: 'completed' | 'cancelled' | 'failed'): void {
    if (r.finished) return;
    r.finished = true;
    // A reply none of whose audio was sent (a tool call only, cut, dropped) still shows where it got to.
    this.reportLatency(r);
    if (this.reply === r) this.reply = undefined;
    const text = r.clauses.map((c) => c.text).join(' ');
    if (text || r.audioMs) this.emit({ type: 'agent.transcript', responseId: r.id, itemId: r.itemId, text, audioMs: r.audioMs });
    if (status === 'completed') for (const c of r.toolCalls) this.emit({ type: 'tool.call', responseId: r.id, callId: c.id, name: c.name, arguments: c.arguments });
    this.emit({ type: 'agent.responseDone', responseId: r.id, status });
  }

  private stageFailed(err: unknown, stage: 'stt' | 'llm' | 'tts'): void {
    const e = err instanceof StageError ? err : new StageError(stage, (err as Error)?.message ?? String(err));
    // A server that cannot be reached at all ends the call (as a lost connection does); a failed
    // request is recorded and the call goes on.
    this.emit({ type: 'error', error: { fatal: e.unreachable, code: `${e.stage}_${e.unreachable ? 'unreachable' : 'failed'}`, message: e.message } });
  }
}

/** A promise that resolves with its value or its error, so a failure waits its turn in a chain. */
function settle<T>(p: Promise<T>): Promise<T | Error> {
  return p.then(
    (v) => v,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
}
