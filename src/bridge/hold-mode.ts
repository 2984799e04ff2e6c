import type { VoiceEngine } from '../voice/engine.js';
import type { TimelineEventType } from '../shared/event-types.js';
import type { EndReason } from '../calls/state.js';
import { AudioChunk } from '../media/audio-chunk.js';
import { SoundClassifier, type SoundClass } from '../media/sound-classifier.js';
import type { CallMode, CallModes } from './call-mode.js';
import type { ModeHandler } from './mode-handler.js';
import { asksToHold, classifyHoldLine } from './hold-phrases.js';

export interface HoldHost {
  modes: CallModes;
  engine: VoiceEngine;
  record(type: TimelineEventType, data: Record<string, unknown>): void;
  /** Carrier audio (mu-law 8 kHz) in the engine's input format, through the call's audio path. */
  toEngine(carrierAudio: AudioChunk): AudioChunk;
  /** Stops what the agent is saying (it was talking over hold music). */
  cutAgent(): void;
  /** A limit's polite goodbye (CallSession.wrapUp); false when there is no conversation to wrap up. */
  wrapUp(reason: EndReason, instructions: string, graceMs: number): boolean;
  requestEnd(reason: EndReason, detail?: string): void;
}

export interface HoldOptions {
  /** Longest hold before the goodbye and hang-up (`hold-timeout`). */
  maxMs: number;
  /** Music heard this long while talking means we were put on hold. Default 3000 ms. */
  musicEnterMs?: number;
  /** Caller audio kept from before speech is recognised, sent ahead of it. Default 700 ms. */
  preRollMs?: number;
  /** Speech-free audio after which a stretch of speech has ended. Default 300 ms. */
  hangMs?: number;
  /**
   * Silence sent to the engine after each stretch of speech, so its turn detection ends the turn (it
   * hears nothing else while we hold). Above the engine's silence threshold (VAD_SILENCE_MS). Default 1000.
   */
  tailMs?: number;
  /** Quiet after a line (no music coming back) that makes it a person waiting for our answer. Default 1500. */
  settleMs?: number;
  /** With an engine that transcribes on hold: longest extra wait for a line's words. Default 2000 ms. */
  wordsWaitMs?: number;
  /** A stretch of speech longer than this is a recording, not a person's "thanks for holding". Default 15 s. */
  personMaxSpeechMs?: number;
  /** Longest wait for the goodbye when the hold limit ends the call. Default 10 s. */
  wrapUpGraceMs?: number;
}

const FRAME_MS = 20;
/** 20 ms of mu-law silence: the tail sent after a line heard on hold. */
const SILENT_FRAME = AudioChunk.fromBytes(new Uint8Array(160).fill(0xff));

export const RESUME_INSTRUCTIONS =
  'You were on hold and a person has just come back on the line. Greet them briefly and, in one short sentence, remind them who you are calling for and why you called (the task in your instructions). Then carry on with the task.';
export const HOLD_TIMEOUT_INSTRUCTIONS =
  'You have been on hold for too long and have to end this call now. In one short sentence, politely say you cannot hold any longer and will try again later, and say goodbye.';

type Verdict = { verdict: 'person' | 'announcement'; by: string };

/** One stretch of speech heard on hold, from its start until we know who said it. */
interface Line {
  startFrame: number;
  lastSpeechFrame: number;
  /** Frame at which the speech ended (undefined while it goes on). */
  endFrame?: number;
  words?: string;
  wordsVerdict?: 'person' | 'announcement' | 'unclear';
}

/**
 * The on-hold mode: entered when the callee asks us to hold or when music plays for a while; while in
 * it, the engine hears only speech (with a short pre-roll), never answers by itself, and is not
 * interrupted by music. Each line heard is judged: a recorded announcement keeps us holding, a person
 * coming back ends the hold with a one-line reminder of why we called. Past the hold limit the agent
 * says goodbye and the call ends `hold-timeout`. How a line is judged is in docs/hold.md.
 */
export class HoldMode implements ModeHandler {
  private readonly classifier = new SoundClassifier();
  /** Recent caller audio in the engine's format, with our class for each frame. */
  private readonly preRoll: Array<{ chunk: AudioChunk; cls: SoundClass }> = [];
  private frame = 0;
  private musicFrames = 0;
  private line?: Line;
  /** The engine is being sent this line's audio (and its silent tail). */
  private open = false;
  private linesHeard: string[] = [];
  private enteredAt = 0;
  private enteredBy = '';
  private enteredFrom: CallMode = 'talking';
  private timer?: NodeJS.Timeout;
  private timedOut = false;

  constructor(private readonly h: HoldHost, private readonly o: HoldOptions) {}

  private ms(v: number | undefined, d: number): number {
    return Math.max(1, Math.round((v ?? d) / FRAME_MS));
  }

  /** Every frame of caller audio (PCM16 8 kHz), in every mode: music can put us on hold. */
  readonly hear = (pcm8k: Int16Array): void => {
    const cls = this.classifier.push(pcm8k);
    this.frame++;
    const mode = this.h.modes.current;
    if (mode === 'talking' || mode === 'menu') {
      this.musicFrames = cls === 'music' ? this.musicFrames + 1 : 0;
      if (this.musicFrames >= this.ms(this.o.musicEnterMs, 3000)) {
        // An engine that will hear nothing on hold gets its turn on the music closed now, while it still
        // listens (else it would end, and be answered, when the person is back); what it starts to say to
        // the music is cut (see replyStarted), as is anything it had started already.
        if (!this.h.engine.capabilities.hearsBeforeAutoRespond) this.sendTail(true);
        this.h.cutAgent();
        this.h.modes.set('on-hold', 'music', { maxMinutes: this.maxMinutes });
      }
      return;
    }
    if (mode === 'on-hold' && !this.timedOut) this.onHoldFrame(cls);
  };

  /**
   * Caller audio for an engine that hears only speech (on hold): passes a line's audio, its pre-roll and
   * a silent tail, and nothing else. An engine that answers everything it hears is sent nothing at all.
   */
  pass(chunk: AudioChunk): void {
    if (!this.h.engine.capabilities.hearsBeforeAutoRespond) return;
    if (this.open) {
      this.h.engine.pushAudio(chunk);
      return;
    }
    this.preRoll.push({ chunk, cls: this.classifier.current });
    if (this.preRoll.length > this.ms(this.o.preRollMs, 700)) this.preRoll.shift();
  }

  /** Goes on hold now (the model's wait_on_hold), from talking or a phone menu. */
  enter(reason: string): void {
    const mode = this.h.modes.current;
    if (mode === 'talking' || mode === 'menu') this.h.modes.set('on-hold', reason, { maxMinutes: this.maxMinutes });
  }

  /** A callee turn's words (from an engine that transcribes). */
  heard(text: string): void {
    const mode = this.h.modes.current;
    if ((mode === 'talking' || mode === 'menu') && asksToHold(text)) {
      this.enter('asked');
      return;
    }
    if (mode !== 'on-hold' || this.timedOut) return;
    const verdict = classifyHoldLine(text, this.linesHeard);
    this.linesHeard.push(text);
    const line = this.line;
    if (!line || line.words !== undefined) return;
    line.words = text;
    line.wordsVerdict = verdict;
    // Words decide at once if the line is over, else when it ends (a person is not talked over).
    if (verdict !== 'unclear' && line.endFrame !== undefined) this.decide({ verdict, by: 'words' });
  }

  /**
   * The engine started a reply. On hold nobody asked for one (auto-replies are off), except the goodbye
   * at the hold limit, and an acknowledgement of "please hold" already under way when the hold began.
   * Returns true when the reply must be cut.
   */
  replyStarted(): boolean {
    if (this.h.modes.current !== 'on-hold' || this.timedOut) return false;
    // After wait_on_hold an engine that continues by itself after a tool result would speak: cut that.
    // A phone menu's "please hold" is a recording: nobody is there to hear an acknowledgement.
    return this.enteredBy === 'music' || this.enteredBy === 'tool' || this.enteredFrom === 'menu' || Date.now() - this.enteredAt > 2000;
  }

  /** The call's mode changed (by us or by anyone else): the hold limit runs only while on hold. */
  modeChanged(mode: CallMode, from: CallMode, reason: string): void {
    if (mode === 'on-hold') {
      this.enteredAt = Date.now();
      this.enteredBy = reason;
      this.enteredFrom = from;
      this.line = undefined;
      this.open = false;
      this.linesHeard = [];
      this.preRoll.length = 0;
      this.timer = setTimeout(() => this.timeout(), this.o.maxMs);
      this.timer.unref?.();
      // A turn the engine's detector opened on the music (or the request to hold) is ended with silence.
      this.sendTail();
    } else if (from === 'on-hold') {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.musicFrames = 0;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private get maxMinutes(): number {
    return Math.round((this.o.maxMs / 60_000) * 1000) / 1000;
  }

  private onHoldFrame(cls: SoundClass): void {
    const f = this.frame;
    let line = this.line;
    if (cls === 'speech') {
      if (!line) {
        line = this.line = { startFrame: f, lastSpeechFrame: f };
        this.openGate();
      }
      if (line.endFrame !== undefined) {
        // The same line goes on after a pause.
        line.endFrame = undefined;
        this.openGate();
      }
      line.lastSpeechFrame = f;
      return;
    }
    if (!line) return;
    if (line.endFrame === undefined) {
      if (f - line.lastSpeechFrame < this.ms(this.o.hangMs, 300)) return;
      line.endFrame = f;
      this.closeGate();
      const speechMs = (line.lastSpeechFrame - line.startFrame + 1) * FRAME_MS;
      if (speechMs > (this.o.personMaxSpeechMs ?? 15_000)) return this.decide({ verdict: 'announcement', by: 'long-speech' });
      if (line.wordsVerdict === 'announcement' || line.wordsVerdict === 'person') return this.decide({ verdict: line.wordsVerdict, by: 'words' });
    }
    // After the line: music coming back means a recording played; quiet means someone waits for us.
    if (cls === 'music') return this.decide({ verdict: 'announcement', by: 'music-resumed' });
    const quietFrames = f - line.endFrame!;
    if (quietFrames < this.ms(this.o.settleMs, 1500)) return;
    const waitingForWords = this.h.engine.capabilities.hearsBeforeAutoRespond && line.words === undefined;
    if (waitingForWords && quietFrames < this.ms(this.o.settleMs, 1500) + this.ms(this.o.wordsWaitMs, 2000)) return;
    // Quiet means someone waits for us only if a voice went quiet. A recording's last words, a moment of
    // music, then the line going quiet (music stopped for a transfer) is still the phone system.
    if (this.classifier.soundEndedAsMusic) return this.decide({ verdict: 'announcement', by: 'music-stopped' });
    this.decide({ verdict: 'person', by: 'quiet-after' });
  }

  private openGate(): void {
    if (!this.h.engine.capabilities.hearsBeforeAutoRespond) return;
    this.open = true;
    // Speech right after music is recognised late, so the pre-roll goes along; speech after a pause
    // starts after it (the engine would take music, a pause, then speech for two turns).
    let from = 0;
    this.preRoll.forEach((p, i) => p.cls === 'silence' && (from = i + 1));
    for (const p of this.preRoll.slice(from)) this.h.engine.pushAudio(p.chunk);
    this.preRoll.length = 0;
  }

  private closeGate(): void {
    if (!this.open) return;
    this.open = false;
    this.sendTail();
  }

  /** The engine's own turn detection needs silence to end the turn: it is sent some, not the music. */
  private sendTail(evenIfDeafOnHold = false): void {
    if (!evenIfDeafOnHold && !this.h.engine.capabilities.hearsBeforeAutoRespond) return;
    const frames = this.ms(this.o.tailMs, 1000);
    for (let i = 0; i < frames; i++) this.h.engine.pushAudio(this.h.toEngine(SILENT_FRAME));
  }

  private decide(v: Verdict): void {
    const line = this.line;
    if (!line) return;
    this.line = undefined;
    this.closeGate();
    const speechMs = (line.lastSpeechFrame - line.startFrame + 1) * FRAME_MS;
    this.h.record('hold.heard', { verdict: v.verdict, by: v.by, speechMs });
    if (v.verdict !== 'person') return;
    // A person is back: talk again, starting with a one-line reminder of why we called.
    if (this.h.modes.set('talking', 'person-returned', { heldMs: Date.now() - this.enteredAt })) {
      this.h.engine.generateReply({ instructions: RESUME_INSTRUCTIONS });
    }
  }

  private timeout(): void {
    this.timer = undefined;
    if (this.h.modes.current !== 'on-hold') return;
    this.timedOut = true;
    const graceMs = this.o.wrapUpGraceMs ?? 10_000;
    this.h.record('wrapup.requested', { reason: 'hold-timeout', graceMs, maxMinutes: this.maxMinutes, heldMs: Date.now() - this.enteredAt });
    if (!this.h.wrapUp('hold-timeout', HOLD_TIMEOUT_INSTRUCTIONS, graceMs)) this.h.requestEnd('hold-timeout');
  }
}
