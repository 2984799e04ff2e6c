import type { AudioChunk } from '../media/audio-chunk.js';

/**
 * The carrier seam: everything calls/ and tools/ may ask of a phone network. A new carrier is a new
 * folder implementing this interface plus its own webhook/media routes that emit CarrierEvents.
 */

export interface DialRequest {
  callId: string;
  to: string;
  from: string;
  /** Public origin the carrier reaches us on (PUBLIC_URL). */
  publicUrl: string;
  record: boolean;
  timeLimitSec: number;
  amdSpeechEndThresholdMs: number;
}

export interface CarrierPrice {
  price: number | null;
  unit: string | null;
  durationSec: number | null;
}

/**
 * A recording of a call as the carrier lists it. `completed`: ready to fetch (recordingSource); `absent`:
 * there will be none (the carrier's `errorCode` may say why); any other status: not ready yet.
 */
export interface CarrierRecording {
  recordingId: string;
  status: 'in-progress' | 'paused' | 'stopped' | 'processing' | 'completed' | 'absent';
  errorCode?: number;
}

export interface Carrier {
  readonly name: string;
  dial(req: DialRequest): Promise<{ carrierCallId: string }>;
  hangup(carrierCallId: string): Promise<void>;
  /** Where to fetch a recording: always on the carrier's configured API host. */
  recordingSource(recordingId: string): { url: string; headers: Record<string, string> };
  callPrice(carrierCallId: string): Promise<CarrierPrice | undefined>;
  /**
   * The call's recordings as the carrier lists them, for a call whose recording callback will never come
   * (it was addressed to a node that died: lost-node-calls.ts). Throws a CarrierError when the carrier
   * cannot answer. Optional: without it, such a call keeps no recording.
   */
  callRecordings?(carrierCallId: string): Promise<CarrierRecording[]>;
  /**
   * Has the carrier itself play DTMF digits on the live call (`w` = half-second pause), then reconnects
   * the media stream with these parameters. Ends the running stream: a new one (new id) follows once the
   * digits have played. Optional: a carrier without it supports only in-band tones.
   */
  playDigits?(carrierCallId: string, digits: string, stream: { publicUrl: string; params: Record<string, string> }): Promise<void>;
  /**
   * Cold transfer: connects the live call to `to` through the carrier; our media stream ends (the AI
   * leaves the call) and the carrier call goes on with the new party. Optional, like every hand-over.
   */
  transfer?(carrierCallId: string, to: string, opts: { callerId: string; ringTimeoutSec: number }): Promise<void>;
  /**
   * Warm transfer, first step: places a second call (to the owner) whose progress comes back through
   * the TransferLegHandler (answered with a machine verdict, briefed, status).
   */
  dialTransferLeg?(req: TransferLegRequest): Promise<{ carrierCallId: string }>;
  /** Warm transfer, last step: moves a live call into a conference room (its media stream ends). */
  joinRoom?(carrierCallId: string, room: string): Promise<void>;
  /** Sends a text message (SMS) from one of our numbers. Optional: a carrier without it sends none. */
  sendMessage?(msg: { to: string; from: string; body: string }): Promise<{ messageId: string }>;
  /**
   * Starts a dual-channel recording of a live call we did not dial (an inbound call: an outbound one is
   * recorded from the dial request). Its progress comes back as `recording` CarrierEvents for `callId`.
   */
  startRecording?(carrierCallId: string, opts: { callId: string; publicUrl: string }): Promise<void>;
  /**
   * Points our number's incoming calls at this server (the carrier's voice webhook and call status
   * callback). Optional: a carrier configured by hand needs nothing here.
   */
  configureNumber?(number: string, publicUrl: string): Promise<NumberConfiguration>;
}

/** A number's incoming-call configuration as the carrier now holds it. */
export interface NumberConfiguration {
  /** The carrier's id for the number. */
  numberId: string;
  voiceUrl: string;
  voiceMethod: string;
  statusCallback: string | null;
}

/** A call to our number, as the carrier's webhook announces it (no call of ours exists yet). */
export interface IncomingCall {
  carrierCallId: string;
  /** Caller ID as the carrier reports it (may be anonymous: not always a number). */
  from: string;
  /** The number that was called (ours). */
  to: string;
}

/**
 * What to do with an incoming call: connect its media stream with these parameters (an AI session is
 * waiting for it), or decline with a short sentence the caller hears before the line is hung up.
 */
export type IncomingCallAnswer = { connect: Record<string, string> } | { decline: string };

export interface TransferLegRequest {
  /** Our call the leg belongs to. */
  callId: string;
  to: string;
  from: string;
  publicUrl: string;
  ringTimeoutSec: number;
}

/**
 * The carrier reports a warm-transfer leg (the call to the owner) here, carrier-neutral. The carrier's
 * routes turn the answers into its own call-control language.
 */
export interface TransferLegHandler {
  /** The leg answered; `human` is the carrier's machine-detection verdict. What to say, or undefined: hang up. */
  answered(callId: string, legCarrierId: string, human: boolean): { brief: string } | undefined;
  /** The brief has been spoken: the room to join, or undefined: hang up (the transfer is off). */
  briefed(callId: string, legCarrierId: string): { room: string } | undefined;
  status(callId: string, legCarrierId: string, status: CarrierCallStatus): void;
}

/** A text message someone sent to one of our numbers (carrier-neutral; from a signed webhook). */
export interface InboundMessage {
  messageId: string;
  from: string;
  to: string;
  body: string;
}

export type CarrierCallStatus = 'initiated' | 'ringing' | 'answered' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

/** What a carrier's webhooks tell us, carrier-neutral. */
export type CarrierEvent =
  | { type: 'status'; status: CarrierCallStatus; durationSec?: number }
  | { type: 'amd'; answeredBy: string; machine: boolean }
  | { type: 'recording'; recordingId: string; status: string; durationSec?: number; /** The origin of the URL the callback named (the URL itself is dropped). */ advertisedOrigin?: string };

/** The carrier side of a live media stream, as the bridge sees it. */
export interface MediaTransport {
  readonly streamId: string;
  /** Sends audio followed by a mark (if given) that the carrier echoes when playback reaches it. */
  sendAudio(audio: AudioChunk, mark?: string): void;
  /** Sends a mark on its own (after audio sent without one). A transport without it gets a mark after every chunk. */
  sendMark?(mark: string): void;
  clear(): void;
  close(): void;
}

/** What the bridge receives from a media stream. */
export interface MediaStreamHandler {
  onAudio(frame: AudioChunk): void;
  onMark(name: string): void;
  onDtmf(digit: string): void;
  /** The stream ended: `stop` received (expected) or the socket dropped (unexpected). */
  onStreamEnd(expected: boolean): void;
  /** Malformed frames were dropped: reported at most once a second, and once more when the stream ends. */
  onInvalidFrames?(report: InvalidFramesReport): void;
}

export interface InvalidFramesReport {
  /** Frames dropped since the previous report. */
  count: number;
  /** Frames dropped on this stream so far. */
  total: number;
  /** Why the latest one was dropped (never its content). */
  lastReason: string;
}

export class CarrierError extends Error {
  constructor(message: string, readonly retryable: boolean, readonly status?: number, readonly code?: number) {
    super(message);
    this.name = 'CarrierError';
  }
}
