import type { TimelineEventType } from '../shared/event-types.js';
import type { VoiceEngine } from '../voice/engine.js';
import type { EndReason } from '../calls/state.js';
import type { CallMode } from './call-mode.js';
import type { ModeHandler } from './mode-handler.js';
import type { DtmfOutcome, DtmfSource } from './dtmf-sender.js';
import { MenuStuckTracker, looksLikeMenu, soundsLikeMenuOptions, soundsLikePerson, type MenuVerdict } from './menu-prompts.js';

/** What the engine is asked when a menu prompt has ended: choose, and press; never speak. */
export const MENU_CHOICE_INSTRUCTIONS =
  'You are at an automated phone menu, not a person. Do not speak. Choose the option that best serves your task and press its key now with the send_dtmf tool. If no option fits, press the key for an operator or representative (often 0).';
/** How long after a reply's end a tool call it made may still be on its way to enginePress. */
const CHOICE_AFTER_REPLY_MS = 150;
/** What the engine is asked when a person picks up after the menu. */
export const PERSON_ANSWERED_INSTRUCTIONS =
  'A person has just picked up after the phone menu. Greet them briefly, say who you are calling for as your instructions say, and continue with your task.';
/** The second operator route: one word, spoken, for menus that take speech. */
export const SAY_REPRESENTATIVE_INSTRUCTIONS = 'You are at an automated phone menu that is not getting anywhere. Say only the single word "Representative." and nothing else.';

export interface MenuModeHost {
  engine: VoiceEngine;
  /** The timeline; the call becoming a conversation (status `talking`); ending the call. */
  hooks: {
    record(type: TimelineEventType, data: Record<string, unknown>): void;
    conversationStarted(): void;
    requestEnd(reason: EndReason, detail?: string): void;
  };
  /** The call's modes: the menu moves the call in and out of `menu`. */
  modes: { readonly current: CallMode; set(to: CallMode, reason: string, data?: Record<string, unknown>): boolean };
  /** Plays keys on the call (in-band tones or the carrier), resolved once played. */
  press(digits: string, source: DtmfSource): Promise<DtmfOutcome>;
  /** Keys given with the call (an extension), pressed when the menu's first prompt has ended. */
  keysGiven?: string;
  /** Silence after the callee's speech that ends a menu prompt (menus pause between options). */
  promptEndMs: number;
  /** Longest wait, after a prompt ended, for its transcript (the engine transcribes after the speech). */
  transcriptWaitMs?: number;
  /**
   * The engine hears the caller only while it may answer by itself (capabilities.hearsBeforeAutoRespond
   * false): in a menu it is left answering, its audio is dropped and its key presses wait for the prompt
   * to end. Otherwise it listens silently and is asked to choose when a prompt ends.
   */
  engineRepliesByItself: boolean;
  /** A response is in flight (asking for another now would collide with it). */
  responding?(): boolean;
}

interface QueuedPress {
  digits: string;
  resolve(o: DtmfOutcome): void;
}

/**
 * The call is at a phone menu (IVR). The menu is heard in full: a prompt ends at the callee's silence of
 * `promptEndMs` after speech, and only then is a key pressed (keys given with the call, or the engine's
 * choice); nothing the engine says reaches the menu. A menu going round in circles (the same prompt three
 * times, "that is not a valid option") gets the operator route: 0, then the word "representative", then
 * the call ends as `menu-stuck`. A person picking up ("Hi, this is Sam, how can I help?") turns the call
 * into a conversation.
 */
export class MenuMode implements ModeHandler {
  private readonly stuck = new MenuStuckTracker();
  /** Callee transcripts since the last decision: the prompt being heard. */
  private prompt: string[] = [];
  private speaking = false;
  private lastSpeechEnd = 0;
  private promptTimer?: NodeJS.Timeout;
  /** The prompt has ended (silence) but its words have not arrived yet. */
  private awaitingText = false;
  /** The engine's key presses waiting for the prompt to end. */
  private queued: QueuedPress[] = [];
  private keysPending: string | undefined;
  private operatorTries = 0;
  /** Responses begun in menu mode: their audio is never played. */
  private readonly silenced = new Set<string>();
  /** The next response may speak (the operator route's "representative"). */
  private speakNext = false;
  private closed = false;
  /** Keys pressed (or asked to be) so far: a choice asked for after a reply is void if one came meanwhile. */
  private presses = 0;
  /** A prompt ended while a reply was running: the choice is asked for once it is done (see replyDone). */
  private chooseWhenDone?: { presses: number; timer?: NodeJS.Timeout };

  constructor(private readonly h: MenuModeHost) {
    this.keysPending = h.keysGiven;
  }

  get active(): boolean {
    return this.h.modes.current === 'menu' && !this.closed;
  }

  /** Keys given with the call are still to be pressed: the opening is taken as the menu's. */
  get expectsMenu(): boolean {
    return this.keysPending !== undefined;
  }

  /** Enters the menu (a verdict, a menu-like opening, keys given with the call, the engine pressing). */
  enter(reason: string, data: Record<string, unknown> = {}): void {
    if (this.closed) return;
    const from = this.h.modes.current;
    if (from === 'menu' || from === 'voicemail' || from === 'ending') return;
    // The engine pressed a key on what it had heard: that is acted on already.
    if (reason === 'send_dtmf') this.prompt = [];
    this.h.modes.set('menu', reason, data);
  }

  modeChanged(mode: CallMode, from: CallMode): void {
    if (mode === 'menu') this.entered();
    else if (from === 'menu') this.left();
  }

  /** The mode changed to menu (after the change is recorded). */
  entered(): void {
    if (!this.speaking && (this.prompt.length || this.keysPending)) this.armPromptEnd(Math.max(0, this.h.promptEndMs - (Date.now() - this.lastSpeechEnd)));
  }

  /** The mode changed away from menu. */
  left(): void {
    clearTimeout(this.promptTimer);
    this.awaitingText = false;
    this.dropDeferredChoice();
    this.refuseQueued('Nothing was pressed: a person picked up. Talk to them.');
  }

  /** Callee speech edges from the detector that hears the callee (always fed, for the silence clock). */
  calleeSpeech(started: boolean): void {
    if (started) {
      this.speaking = true;
      clearTimeout(this.promptTimer);
      this.awaitingText = false;
      // The menu speaks again: its next prompt's end decides anew.
      this.dropDeferredChoice();
      return;
    }
    if (!this.speaking) return;
    this.speaking = false;
    this.lastSpeechEnd = Date.now();
    if (this.active) this.armPromptEnd(this.h.promptEndMs);
  }

  /**
   * A callee transcript, in any mode. A menu's options ("for billing, press 1") move a conversation into
   * the menu whenever they come (a menu often opens with a short "Acme." the agent greets); a recorded
   * welcome does only at the opening (`opening`: nothing of the agent's heard yet). In the menu, a
   * person's wording moves the call out.
   */
  heard(text: string, opening: boolean): void {
    if (this.closed || !text.trim()) return;
    const mode = this.h.modes.current;
    if (mode === 'menu') {
      if (soundsLikePerson(text)) return this.personAnswered(text);
      this.prompt.push(text);
      if (this.awaitingText && !this.speaking) this.promptEnded();
      return;
    }
    // In a conversation only the latest words are kept: a menu recognised later is answered on them.
    this.prompt = opening ? [...this.prompt, text] : [text];
    if ((mode === 'greeting' || mode === 'talking') && (opening ? looksLikeMenu(text) : soundsLikeMenuOptions(text))) this.enter('menu-prompt');
  }

  /** The agent spoke in a conversation (the greeting gate opened): what was heard so far is answered. */
  agentActed(): void {
    this.prompt = [];
  }

  /**
   * The engine's send_dtmf. At a menu it waits until the prompt has ended (the whole menu heard); from a
   * conversation it means the engine found a menu.
   */
  enginePress(digits: string, signal?: AbortSignal, responseId?: string): Promise<DtmfOutcome> {
    // A choice made at the menu that arrives after a person picked up is stale: it presses nothing (and
    // does not take the call back to the menu).
    if (!this.active && responseId !== undefined && this.silenced.has(responseId)) return Promise.resolve({ status: 'refused', pressed: '', why: 'Nothing was pressed: a person picked up. Talk to them.' });
    this.presses++;
    this.enter('send_dtmf');
    if (!this.active || !this.promptInProgress()) return this.h.press(digits, 'tool');
    return new Promise((resolve) => {
      const q: QueuedPress = { digits, resolve };
      this.queued.push(q);
      // The engine withdrew the call (the menu went on speaking over its turn): nothing is pressed.
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.queued.indexOf(q);
          if (i >= 0) this.queued.splice(i, 1)[0].resolve({ status: 'cancelled', pressed: '' });
        },
        { once: true },
      );
    });
  }

  /**
   * A response began; one begun at the menu is silenced (unless it is the operator route's word): it runs
   * on (its key presses count), but none of its audio is played (see `silences`). Never cut here.
   */
  replyStarted(responseId: string): boolean {
    if (!this.active) return false;
    if (this.speakNext) this.speakNext = false;
    else this.silenced.add(responseId);
    return false;
  }

  /** Whether this response's audio must not be played (it was begun at the menu). */
  silences(responseId: string): boolean {
    return this.silenced.has(responseId);
  }

  /** A silenced item's words: kept off the transcript and out of the engine's memory, but on the timeline. */
  droppedItem(itemId: string, responseId: string, text: string): void {
    if (!this.silenced.has(responseId)) return;
    this.h.engine.deleteItem(itemId);
    this.h.hooks.record('menu.speechDropped', { itemId, text });
  }

  /**
   * A reply ended. If a prompt ended while it ran (a reply to the options being silenced, on a slow LLM or
   * TTS), the engine is asked for its choice now; without this the menu waited for a key that nobody asked
   * for until it timed out. Not if the reply pressed a key: its tool call may reach enginePress a little
   * after the reply's end (the cascade emits both in one go), hence the short wait before deciding.
   */
  replyDone(): void {
    const d = this.chooseWhenDone;
    if (!d || d.timer) return;
    d.timer = setTimeout(() => {
      if (this.chooseWhenDone !== d) return;
      this.chooseWhenDone = undefined;
      if (!this.active || this.presses !== d.presses || this.promptInProgress() || this.queued.length) return;
      if (this.h.responding?.()) return void (this.chooseWhenDone = { presses: d.presses });
      this.h.engine.generateReply({ instructions: MENU_CHOICE_INSTRUCTIONS });
    }, CHOICE_AFTER_REPLY_MS);
    d.timer.unref();
  }

  private dropDeferredChoice(): void {
    clearTimeout(this.chooseWhenDone?.timer);
    this.chooseWhenDone = undefined;
  }

  close(): void {
    this.closed = true;
    this.dropDeferredChoice();
    clearTimeout(this.promptTimer);
    this.refuseQueued(undefined);
  }

  // ---- the prompt --------------------------------------------------------------------------------

  private promptInProgress(): boolean {
    return this.speaking || this.promptTimer !== undefined || this.awaitingText;
  }

  private armPromptEnd(ms: number): void {
    clearTimeout(this.promptTimer);
    this.promptTimer = setTimeout(() => {
      this.promptTimer = undefined;
      if (!this.active || this.speaking) return;
      if (this.prompt.length) return this.promptEnded();
      // The words come after the speech: wait for them a little, then decide without them.
      this.awaitingText = true;
      this.promptTimer = setTimeout(() => {
        this.promptTimer = undefined;
        if (this.awaitingText && this.active && !this.speaking) this.promptEnded();
      }, this.h.transcriptWaitMs ?? 1500);
      this.promptTimer.unref();
    }, ms);
    this.promptTimer.unref();
  }

  /** The menu has said its piece and waits for a key. */
  private promptEnded(): void {
    this.dropDeferredChoice();
    clearTimeout(this.promptTimer);
    this.promptTimer = undefined;
    this.awaitingText = false;
    const text = this.prompt.join(' ').trim();
    this.prompt = [];
    this.h.hooks.record('menu.prompt', { text });
    if (this.keysPending !== undefined) {
      const keys = this.keysPending;
      this.keysPending = undefined;
      this.refuseQueued(`Nothing was pressed: the keys given with the call (${keys}) were pressed instead. Listen to what the menu says next.`);
      void this.h.press(keys, 'call');
      return;
    }
    const verdict = this.stuck.prompt(text);
    if (verdict.stuck) return this.operatorRoute(verdict, text);
    if (this.queued.length) {
      for (const q of this.queued.splice(0)) void this.h.press(q.digits, 'tool').then(q.resolve);
      return;
    }
    if (this.h.engineRepliesByItself) return;
    // A response still running (the last choice, or words being silenced) may be answering already: if it
    // presses nothing, the choice is asked for when it is done (replyDone).
    if (this.h.responding?.()) this.chooseWhenDone = { presses: this.presses };
    else this.h.engine.generateReply({ instructions: MENU_CHOICE_INSTRUCTIONS });
  }

  /** The menu is going round in circles: 0, then "representative", then give up. */
  private operatorRoute(verdict: Extract<MenuVerdict, { stuck: true }>, text: string): void {
    this.h.hooks.record('menu.stuck', { why: verdict.why, ...(verdict.times ? { times: verdict.times } : {}), prompt: text });
    this.stuck.reset();
    const attempt = ++this.operatorTries;
    if (attempt === 1) {
      this.h.hooks.record('menu.operator', { route: '0' });
      this.refuseQueued('Nothing was pressed: the menu kept going round, so 0 (operator) was pressed instead. Listen to what comes next; say nothing.');
      void this.h.press('0', 'menu');
      return;
    }
    if (attempt === 2) {
      this.h.hooks.record('menu.operator', { route: 'representative' });
      this.refuseQueued('Nothing was pressed: the menu kept going round, so you were asked to say "representative".');
      if (this.h.responding?.()) this.h.engine.interrupt();
      this.speakNext = true;
      this.h.engine.generateReply({ instructions: SAY_REPRESENTATIVE_INSTRUCTIONS });
      return;
    }
    this.h.hooks.record('menu.gaveUp', { operatorTries: attempt - 1 });
    this.refuseQueued(undefined);
    this.h.hooks.requestEnd('menu-stuck', 'the phone menu kept repeating after 0 and "representative"');
  }

  private personAnswered(text: string): void {
    this.prompt = [];
    this.h.modes.set('talking', 'person-answered', { text });
    this.h.hooks.conversationStarted();
    // An engine left answering by itself is answering this person already. Otherwise a response begun at
    // the menu (silenced) gives way to one for the person.
    if (this.h.engineRepliesByItself) return;
    if (this.h.responding?.()) this.h.engine.interrupt();
    this.h.engine.generateReply({ instructions: PERSON_ANSWERED_INSTRUCTIONS });
  }

  /** Presses the engine asked for that will not happen; `why` goes back to it as the tool's result. */
  private refuseQueued(why: string | undefined): void {
    for (const q of this.queued.splice(0)) q.resolve({ status: 'refused', pressed: '', ...(why ? { why } : {}) });
  }
}
