/**
 * Public types of the Twilio simulator. Kept apart from the implementation so tests and other
 * simulators can import them without pulling in servers.
 */
import type { SimMessage, SimInboundMessage } from './messages.js';

import type { ConferenceRecord } from './conference.js';
export type { ConferenceRecord } from './conference.js';

/** The form parameters of a Calls.json create, as the SDK sent them. */
export interface CreateParams {
  To: string;
  From: string;
  Url?: string;
  Twiml?: string;
  Method?: string;
  StatusCallback?: string;
  StatusCallbackMethod?: string;
  /** Normalised: repeated fields and space-separated values both end up as one entry per event. */
  StatusCallbackEvent: string[];
  MachineDetection?: string;
  MachineDetectionTimeout?: string;
  MachineDetectionSpeechThreshold?: string;
  MachineDetectionSpeechEndThreshold?: string;
  MachineDetectionSilenceTimeout?: string;
  AsyncAmd?: string;
  AsyncAmdStatusCallback?: string;
  AsyncAmdStatusCallbackMethod?: string;
  Record?: string;
  RecordingChannels?: string;
  RecordingStatusCallback?: string;
  RecordingStatusCallbackMethod?: string;
  RecordingStatusCallbackEvent: string[];
  Timeout?: string;
  TimeLimit?: string;
  /** `inbound`: a call placed to one of the account's numbers (placeInboundCall); absent: `outbound-api`. */
  Direction?: 'inbound';
  /** Every field exactly as received (repeated fields as arrays), for assertions on the wire format. */
  raw: Record<string, string | string[]>;
}

export type AnsweredBy = 'human' | 'machine_start' | 'machine_end_beep' | 'machine_end_silence' | 'machine_end_other' | 'fax' | 'unknown';

export type CalleeStep =
  | { say: string; durationMs?: number }
  | { waitForAgent: true; quietMs?: number; timeoutMs?: number }
  | { waitAgentPlayedMs: number; timeoutMs?: number }
  | { pauseMs: number }
  /** Silent on the line until `until` settles (or `timeoutMs`, default 30 s): a test holds the call up while it looks at something. */
  | { until: Promise<unknown>; timeoutMs?: number }
  /** A phone menu waiting for keys: until its DTMF receiver has heard `waitForKeys` keys in all. */
  | { waitForKeys: number; timeoutMs?: number }
  /** Until the call is bridged to another party: a <Dial>ed number answered, or its conference started. */
  | { waitForBridge: true; timeoutMs?: number }
  | { digits: string }
  /** A tone (a mailbox's beep); once it has played, the machine records (`SimCall.mailbox`). */
  | { beep: { hz?: number; durationMs?: number } }
  /**
   * The business puts us on hold: generated music (`music`, default 'chords') for `holdMs` in all, with a
   * recorded `announcement` every `announceEveryMs` of music (none if absent). See hold-audio.ts.
   */
  | { holdMs: number; music?: 'chords' | 'noise'; announcement?: string; announceEveryMs?: number; seed?: number }
  /** A phone menu (IVR) that listens for keys with its DTMF receiver: see PhoneMenu. */
  | { menu: PhoneMenu }
  | { hangup: true }
  | { dropSocket: true }
  | { sendRaw: string }
  /** Line noise (not speech) for this long: a neural VAD must not take it for the callee talking. */
  | { noise: NoiseKind; durationMs: number; seed?: number }
  /** A recorded acknowledgement ("mhm", "okay") said while the agent talks: it must not stop the agent. */
  | { backchannel: Backchannel }
  /** A recorded person talking (test/fixtures/audio/speech-NAME.ulaw): a true interruption. */
  | { speech: SpeechClip };

export type NoiseKind = 'hiss' | 'clicks' | 'hum' | 'music' | 'crackle';
export type Backchannel = 'mhm' | 'uh-huh' | 'okay' | 'yeah' | 'right';
export type SpeechClip = 'wait' | 'question' | 'cancel' | 'repeat' | 'stop';

/**
 * A phone menu level. It plays its prompt, then waits for one key (keys pressed during the prompt count,
 * as real menus let callers key ahead). A key in `options` leads to a submenu or to a line said (a
 * person picking up, say), after which the script goes on with its next steps; any other key gets
 * `invalid` and the prompt again, no key within `timeoutMs` gets `noInput` and the prompt again. After
 * `maxTries` playings without a valid key the menu says `goodbye` and hangs up.
 */
export interface PhoneMenu {
  /** One string, or sentences with `gapMs` of silence between them (menus pause between options). */
  prompt: string | string[];
  options: Record<string, PhoneMenu | { say: string }>;
  /** Default "I'm sorry, that is not a valid option." (said with the prompt that follows, as one utterance). */
  invalid?: string;
  /** Default "I'm sorry, I didn't get that." */
  noInput?: string;
  /** Wait for a key after the prompt; default 5000 (Twilio <Gather>'s default timeout). */
  timeoutMs?: number;
  /** Default 3 (FreeSWITCH max-failures, 46elks repeat). */
  maxTries?: number;
  /** Silence between the sentences of an array prompt; default 700. */
  gapMs?: number;
  /** Default "Goodbye." */
  goodbye?: string;
}

/** What a stream's `start` message announces in `mediaFormat`. */
export interface MediaFormat {
  encoding: string;
  sampleRate: number;
  channels: number;
}

export interface CalleeScript {
  answeredBy?: AnsweredBy;
  /**
   * The `mediaFormat` this call's streams announce in `start`. Default (Twilio's only one):
   * `{encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1}`. Another value models a carrier or
   * proxy that streams something else; the frames the callee sends are unchanged (see README).
   */
  mediaFormat?: MediaFormat;
  /** Delay from answer to the async AMD callback. Default 600 ms; for a machine, the end of greeting + beep. */
  amdDelayMs?: number;
  /**
   * Length of a machine's voicemail greeting (before the beep). Default 3000 ms. 0: the machine plays no
   * recorded greeting and `steps` are what it says (e.g. a short "Hello?" that AMD still calls a machine).
   */
  greetingMs?: number;
  /**
   * The tone a machine plays after its greeting: any steady single frequency (see README, "Voicemail").
   * Default: 1000 Hz for 400 ms when `answeredBy` is `machine_end_beep`, none otherwise; `false`: none.
   */
  beep?: { hz?: number; durationMs?: number } | false;
  /** The call never connects: final status instead of answering (after ringMs). Default: answers. */
  result?: 'busy' | 'no-answer' | 'failed';
  /** After the last step the callee stays silent this long, then hangs up. Default: the sim's idleHangupMs. */
  idleHangupMs?: number;
  steps: CalleeStep[];
}

export interface TwilioSimOptions {
  accountSid: string;
  authToken: string;
  script?: (call: CreateParams) => CalleeScript;
  /** The account's phone numbers (E.164), with no voice URL until configured through IncomingPhoneNumbers. */
  numbers?: string[];
  recordingFailures?: number;
  /**
   * How long a recording stays `processing` after its call ends before it is `completed` (downloadable,
   * listed as such, and its callback sent). Default 0; on Twilio, a couple of seconds (README).
   */
  recordingProcessingMs?: number;
  ringMs?: number;
  log?: (msg: string) => void;
  /** Safety limit: the callee hangs up this long after its last step. Default 60000. */
  idleHangupMs?: number;
  /** Per-attempt webhook timeout. Default 10000 (Twilio uses 15 s). */
  webhookTimeoutMs?: number;
  /** Pause before retrying a failed webhook. Default 100. */
  webhookRetryDelayMs?: number;
  /**
   * Encodes a recording's MP3 (once, on its first download) from its mu-law channels (left = callee,
   * right = agent). Default: lamejs on the simulator's own thread, which stalls its event loop for ~0.3 s
   * per minute of call; a load test passes one that runs on another thread.
   */
  encodeMp3?: (left: Uint8Array, right: Uint8Array, channels: 1 | 2) => Promise<Uint8Array>;
  /** Called once a recording's media (`.mp3` or `.wav`) has been sent in full. */
  onRecordingDownloaded?: (sid: string) => void;
  /**
   * Holds back the response to `POST Calls.json` this long (ms) while the call goes on: ringing, answer,
   * TwiML fetch, status callbacks and the media stream can all reach the product before it learns the
   * CallSid from the response. Default 0. Keep it under the SDK's request timeout (15 s in the product).
   */
  createResponseDelayMs?: number | ((call: CreateParams) => number);
}

export interface LogEntry {
  /** Milliseconds since the call was created. */
  atMs: number;
  type: string;
  [key: string]: unknown;
}

export interface ClearRecord {
  /** Milliseconds since the stream started. */
  atMs: number;
  /** Agent audio played in the segment the clear cut (a gap of 200 ms or more starts a new one). */
  segmentPlayedMs: number;
  /**
   * All agent audio played on the stream before the clear. For the first reply of a call this is what the
   * callee heard of it even when its audio ran dry midway (a slow TTS on a loaded machine) and the
   * segment restarted.
   */
  playedMs: number;
  droppedMs: number;
}

export interface SimStream {
  streamSid: string;
  url: string;
  customParameters: Record<string, string>;
  received: { media: number; marks: number; clears: number };
  /** Callee audio frames sent to the server (20 ms each). */
  sent: { media: number };
  /** Raw text of every frame the sim rejected. */
  invalid: string[];
  clears: ClearRecord[];
  agentPlayedMs: number;
  /** Agent audio played in the current utterance: since the buffer was last empty for 200 ms, or cleared. */
  segmentPlayedMs: number;
  marksEchoed: string[];
  closedBy: 'server' | 'sim' | null;
}

export type CallStatus =
  | 'queued'
  | 'ringing'
  | 'in-progress'
  | 'completed'
  | 'busy'
  | 'no-answer'
  | 'failed'
  | 'canceled';

export type HangupBy =
  | 'api'
  | 'callee'
  | 'twiml'
  | 'server-close'
  | 'socket-drop'
  | 'time-limit'
  | 'webhook-failed'
  | 'not-answered'
  | 'sim-closed';

export interface SimCall {
  readonly sid: string;
  /** Wall clock at creation; log entries' `atMs` count from here. */
  readonly dateCreated: Date;
  /** Wall clock at the end (completed, busy, no-answer...); null while the call goes on. */
  readonly endTime: Date | null;
  readonly params: CreateParams;
  readonly status: CallStatus;
  readonly log: LogEntry[];
  readonly streams: SimStream[];
  readonly agentAudioBytesReceived: number;
  /** Media time (ms from answer) at which agent audio was first / last played to the callee; null before any. */
  readonly firstAgentAudioLineMs: number | null;
  readonly lastAgentAudioLineMs: number | null;
  /** Resolves once the call has ended and every final webhook (status, recording) has been delivered. */
  readonly done: Promise<void>;
  readonly recordingSid?: string;
  /** The recording's status as `GET Calls/{sid}/Recordings.json` lists it; undefined while there is none. */
  readonly recordingStatus?: 'in-progress' | 'processing' | 'completed';
  readonly answeredBy: AnsweredBy;
  readonly hangupBy: HangupBy | null;
  /** DTMF digits the server asked Twilio to play (`<Play digits>`). */
  readonly digitsPlayed: string[];
  /**
   * Keys a DTMF receiver at the callee's end decoded from the agent's audio as played (in-band tones),
   * with line time (ms since answer) and the wall clock (Date.now()) when each was recognised.
   */
  readonly dtmfHeard: HeardDigit[];
  /** Numbers this call <Dial>ed (child calls), with how each went. */
  readonly dials: DialRecord[];
  /** A machine with a greeting: what its mailbox recorded once the greeting (and beep) was over. */
  readonly mailbox: Mailbox | null;
}

export interface DialRecord {
  to: string;
  callerId: string | null;
  childSid: string;
  status: 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';
  /** ms since the parent call was created; null if not (yet). */
  answeredAtMs: number | null;
  endedAtMs: number | null;
}

export interface Mailbox {
  /** Media time (ms from answer) at which the greeting and beep ended and recording began. */
  recordingFromMs: number;
  /** Agent audio played before that: talking over the greeting. */
  agentMsOverGreeting: number;
  /** Agent audio played since: what the message box holds. */
  agentMsRecorded: number;
}

export interface HeardDigit {
  digit: string;
  startMs: number;
  endMs: number;
  recognisedAt: number;
}

export type { SimMessage, SimInboundMessage };

/** One of the account's phone numbers (IncomingPhoneNumbers), as its voice configuration stands. */
export interface SimNumber {
  sid: string;
  phoneNumber: string;
  voiceUrl: string;
  voiceMethod: string;
  statusCallback: string;
  statusCallbackMethod: string;
  /** Every update the REST API applied, in order (the form fields as received). */
  updates: Array<Record<string, string>>;
}

export interface InboundCallOptions {
  /** Caller ID (From). */
  from: string;
  /** The number called: one of the account's numbers (To). */
  to: string;
  /** What the caller does once the call is connected. */
  script: CalleeScript;
}

export interface TwilioSim {
  url: string;
  calls: SimCall[];
  /** The account's phone numbers (IncomingPhoneNumbers). */
  numbers: SimNumber[];
  /**
   * Someone calls one of the account's numbers: Twilio's signed voice webhook to the number's VoiceUrl
   * (Direction=inbound, CallStatus=ringing), the returned TwiML run as for any call, and the call status
   * callback to the number's StatusCallback when it ends. Throws if the number has no VoiceUrl.
   */
  placeInboundCall(o: InboundCallOptions): SimCall;
  /** Every conference room that existed, with its participants and events. */
  conferences: ConferenceRecord[];
  /** SMS the product sent (`POST Messages.json`), in order. */
  messages: SimMessage[];
  /** SMS delivered to the product's incoming-message webhook, with its answer. */
  inboundMessages: SimInboundMessage[];
  /** The messaging webhook of the account's numbers (a number's SmsUrl): where replies are delivered. */
  incomingSmsUrl: string | undefined;
  waitForMessage(pred?: (m: SimMessage) => boolean, timeoutMs?: number): Promise<SimMessage>;
  /** Someone texts `to` (one of the account's numbers): the signed incoming-message webhook goes out. */
  sendSms(m: { from: string; to: string; body: string; url?: string }): Promise<SimInboundMessage>;
  waitForCall(timeoutMs?: number): Promise<SimCall>;
  /** Fault injection: the next `n` recording downloads fail (HTTP 5xx), as `recordingFailures` at start. */
  failRecordings(n: number): void;
  close(): Promise<void>;
}
