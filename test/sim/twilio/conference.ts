/**
 * Conference rooms (`<Dial><Conference>name</Conference></Dial>`), shared by every call of one account, with
 * the state changes and status callbacks Twilio documents (see README.md, "Dial and Conference"). Audio is
 * not mixed: what matters to the product is who is in which room, when the conference starts and ends,
 * and the callbacks that say so.
 */
import { newSid, rfc2822 } from './util.js';
import type { WebhookRequest } from './webhooks.js';

export type ConferenceEvent = 'conference-start' | 'conference-end' | 'participant-join' | 'participant-leave';

export interface ParticipantSpec {
  callSid: string;
  /** Default true: the conference starts when this participant is in it with someone else. */
  startConferenceOnEnter: boolean;
  /** Default false: when this participant leaves, the conference ends for everyone. */
  endConferenceOnExit: boolean;
  statusCallback?: string;
  statusCallbackMethod?: string;
  /** Short names as in TwiML: start end join leave (mute hold speaker are accepted and never fire here). */
  statusCallbackEvent: string[];
}

export interface ConferenceRecord {
  sid: string;
  friendlyName: string;
  /** Every participant that joined, in order, with when they left and why (null while in the room). */
  participants: Array<{ callSid: string; joinedAtMs: number; leftAtMs: number | null; reason: string | null }>;
  events: Array<{ event: ConferenceEvent; callSid?: string; atMs: number }>;
  started: boolean;
  ended: boolean;
}

export interface ConferenceDeps {
  accountSid: string;
  /** Sends one status callback (signed, retried); never throws. */
  send(req: WebhookRequest): void;
  log?: (msg: string) => void;
}

interface Member {
  spec: ParticipantSpec;
  /** Called when the conference removes this participant (it ended): their <Dial> is over. */
  removed: () => void;
}

class Room {
  readonly record: ConferenceRecord;
  readonly members = new Map<string, Member>();
  /** Callback URLs (the first participant naming each), including those who already left: the conference reports to them until it ends. */
  private readonly subscribers: ParticipantSpec[] = [];
  private seq = 0;
  private readonly t0 = performance.now();

  constructor(private readonly deps: ConferenceDeps, name: string) {
    this.record = { sid: newSid('CF'), friendlyName: name, participants: [], events: [], started: false, ended: false };
  }

  private get nowMs(): number {
    return Math.round(performance.now() - this.t0);
  }

  join(m: Member): void {
    this.members.set(m.spec.callSid, m);
    this.record.participants.push({ callSid: m.spec.callSid, joinedAtMs: this.nowMs, leftAtMs: null, reason: null });
    // One report per event per callback URL: participants naming the same URL share it (see README).
    if (m.spec.statusCallback && !this.subscribers.some((x) => x.statusCallback === m.spec.statusCallback)) this.subscribers.push(m.spec);
    this.emit('participant-join', m.spec);
    // "The conference has started ... when there is at least one participant in the conference and a
    // participant with startConferenceOnEnter=true joins"; until then callers hear the wait music.
    if (!this.record.started && this.members.size >= 2 && [...this.members.values()].some((x) => x.spec.startConferenceOnEnter)) {
      this.record.started = true;
      this.emit('conference-start');
    }
  }

  /** A participant left (hung up, or its call was given new TwiML). */
  leave(callSid: string, reason: string): void {
    const m = this.members.get(callSid);
    if (!m) return;
    this.members.delete(callSid);
    const p = this.record.participants.find((x) => x.callSid === callSid && x.leftAtMs === null);
    if (p) Object.assign(p, { leftAtMs: this.nowMs, reason });
    this.emit('participant-leave', m.spec);
    // "The last participant has left the conference or a participant with endConferenceOnExit=true leaves."
    if (this.members.size === 0 || m.spec.endConferenceOnExit) this.end(m.spec.endConferenceOnExit ? 'participant_with_end_conference_on_exit_left' : 'last_participant_left');
  }

  private end(reason: string): void {
    if (this.record.ended) return;
    this.record.ended = true;
    for (const [sid, other] of [...this.members]) {
      this.members.delete(sid);
      const p = this.record.participants.find((x) => x.callSid === sid && x.leftAtMs === null);
      if (p) Object.assign(p, { leftAtMs: this.nowMs, reason: 'conference-ended' });
      this.emit('participant-leave', other.spec);
      other.removed();
    }
    this.emit('conference-end', undefined, reason);
  }

  private emit(event: ConferenceEvent, who?: ParticipantSpec, endReason?: string): void {
    this.record.events.push({ event, ...(who ? { callSid: who.callSid } : {}), atMs: this.nowMs });
    this.deps.log?.(`[twilio-sim conference ${this.record.sid.slice(0, 8)}] ${event}${who ? ' ' + who.callSid.slice(0, 8) : ''}`);
    const short = event.replace(/^(conference|participant)-/, '');
    const sequenceNumber = String(++this.seq);
    for (const s of this.subscribers) {
      if (!s.statusCallbackEvent.includes(short)) continue;
      const params: Record<string, string> = {
        AccountSid: this.deps.accountSid,
        ConferenceSid: this.record.sid,
        FriendlyName: this.record.friendlyName,
        StatusCallbackEvent: event,
        SequenceNumber: sequenceNumber,
        Timestamp: rfc2822(new Date()),
      };
      if (who) {
        Object.assign(params, {
          CallSid: who.callSid,
          Muted: 'false',
          Hold: 'false',
          Coaching: 'false',
          EndConferenceOnExit: String(who.endConferenceOnExit),
          StartConferenceOnEnter: String(who.startConferenceOnEnter),
        });
      }
      if (endReason) params.ReasonConferenceEnded = endReason;
      this.deps.send({ kind: 'conference-status', url: s.statusCallback!, method: s.statusCallbackMethod, params });
    }
  }
}

/** The account's conference rooms by name; a room that ended is gone and the name can start a new one. */
export class Conferences {
  private readonly rooms = new Map<string, Room>();
  /** Every conference there has been, for assertions. */
  readonly all: ConferenceRecord[] = [];

  constructor(private readonly deps: ConferenceDeps) {}

  /**
   * Puts a call in the named room. `removed` fires if the conference ends while the call is in it; the
   * returned `leave` is for the call leaving by itself (hang-up, TwiML update).
   */
  join(name: string, spec: ParticipantSpec, removed: () => void): { leave(reason: string): void; room: ConferenceRecord } {
    let room = this.rooms.get(name);
    if (!room || room.record.ended) {
      room = new Room(this.deps, name);
      this.rooms.set(name, room);
      this.all.push(room.record);
    }
    const r = room;
    r.join({ spec, removed });
    return {
      room: r.record,
      leave: (reason) => {
        r.leave(spec.callSid, reason);
        if (r.record.ended && this.rooms.get(name) === r) this.rooms.delete(name);
      },
    };
  }
}
