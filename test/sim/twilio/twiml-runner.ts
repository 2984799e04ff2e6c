/**
 * Executes TwiML for one answered call: fetches documents, runs verbs in order, owns the media
 * stream of <Connect><Stream>, and lets a REST update replace the running document at any point
 * (which, as on Twilio, ends the current stream first).
 */
import type { HangupBy, MediaFormat, SimStream } from './types.js';
import { whenAborted } from './util.js';
import { parseTwiml, readStream, type StreamSpec, type TwimlNode } from './twiml.js';
import type { WebhookResult } from './webhooks.js';
import { MediaStreamClient } from './media-stream-client.js';
import type { Line } from './line.js';
import { speech, speechDurationMs } from './callee-audio.js';
import type { Conferences } from './conference.js';
import { dtmfAudio } from '../../../src/media/dtmf.js';

/** A document to run: inline, or fetched (with `params` added to the request, e.g. a <Dial> action's DialCallStatus). */
export type DocSource = { twiml: string } | { url: string; method: string; params?: Record<string, string> };

/** How a <Dial> ended, as its `action` request reports it (DialCallStatus, DialCallSid, DialCallDuration). */
export interface DialOutcome {
  status: 'completed' | 'answered' | 'busy' | 'no-answer' | 'failed' | 'canceled';
  durationSec: number;
  childSid?: string;
}

export interface TwimlHost {
  readonly accountSid: string;
  readonly authToken: string;
  readonly callSid: string;
  readonly line: Line;
  /** What the call's streams announce in `start` (default: Twilio's mu-law 8 kHz mono). */
  readonly mediaFormat?: MediaFormat;
  isEnded(): boolean;
  log(type: string, fields?: Record<string, unknown>): void;
  /** Signed TwiML request with the call's parameters; null if the sim is shutting down. */
  fetchTwiml(url: string, method: string, extra?: Record<string, string>): Promise<WebhookResult | null>;
  /** <Dial>number</Dial>: rings the number (a simulated second party) and bridges it until one side leaves. */
  dialNumber(to: string, opts: { callerId?: string; timeoutSec: number }, signal: AbortSignal): Promise<DialOutcome | 'aborted'>;
  readonly conferences: Conferences;
  end(by: HangupBy, status?: 'completed' | 'failed'): void;
  /** Media is flowing: the callee starts following its script. */
  startCallee(): void;
  onStreamCreated(info: SimStream): void;
  onAgentBytes(n: number): void;
  onDigitsPlayed(digits: string): void;
  streamEvent(spec: StreamSpec, streamSid: string, event: string, error?: string): void;
}

type StreamOutcome = 'server' | 'sim' | 'dropped' | 'aborted' | 'failed';

export class TwimlRunner {
  private docAbort = new AbortController();
  private pendingDoc: DocSource | null = null;
  /** URL of the last fetched document, the base for relative URLs in it. */
  private docUrl: string | undefined;
  private current: MediaStreamClient | null = null;

  constructor(private readonly host: TwimlHost) {}

  /** The open stream, if any: the callee's DTMF, raw frames and socket drops go there. */
  get stream(): MediaStreamClient | null {
    return this.current;
  }

  /** REST update: the running document stops and `doc` runs next. */
  replace(doc: DocSource): void {
    this.pendingDoc = doc;
    this.docAbort.abort();
  }

  /** The call is over: abort the document; the caller stops the stream it gets back. */
  abort(): MediaStreamClient | null {
    this.docAbort.abort();
    return this.current;
  }

  /** Runs documents until one finishes without a redirect, then ends the call. */
  async run(initial: DocSource): Promise<void> {
    const host = this.host;
    let next: DocSource | null = initial;
    let lastEnd: HangupBy = 'twiml';
    while (next && !host.isEnded()) {
      if (this.pendingDoc) {
        next = this.pendingDoc;
        this.pendingDoc = null;
      }
      this.docAbort = new AbortController();
      const signal = this.docAbort.signal;
      const verbs = await this.load(next);
      if (host.isEnded()) return;
      if (this.pendingDoc) continue;
      if (!verbs) return host.end('webhook-failed', 'failed');
      const r = await this.runVerbs(verbs, signal);
      if (host.isEnded()) return;
      if (this.pendingDoc) continue;
      lastEnd = r.endedBy;
      next = r.redirect ?? null;
    }
    if (!host.isEnded()) host.end(lastEnd);
  }

  private async load(src: DocSource): Promise<TwimlNode[] | null> {
    const host = this.host;
    let xml: string;
    if ('twiml' in src) xml = src.twiml;
    else {
      let url: string;
      try {
        // <Redirect> and action URLs may be relative to the document that contained them.
        url = new URL(src.url, this.docUrl).toString();
      } catch {
        host.log('twiml-fetch-failed', { url: src.url, error: 'invalid URL' });
        return null;
      }
      const r = await host.fetchTwiml(url, src.method, src.params);
      if (!r || !r.ok) {
        host.log('twiml-fetch-failed', { url, status: r?.status ?? null, error: r?.error });
        return null;
      }
      this.docUrl = url;
      xml = r.body;
    }
    try {
      const verbs = parseTwiml(xml);
      host.log('twiml', { verbs: verbs.map((v) => v.name), xml });
      return verbs;
    } catch (e) {
      // Twilio error 12100: Document parse failure.
      host.log('twiml-invalid', { code: 12100, error: (e as Error).message, xml });
      return null;
    }
  }

  private async runVerbs(verbs: TwimlNode[], signal: AbortSignal): Promise<{ redirect?: DocSource; endedBy: HangupBy }> {
    const host = this.host;
    const line = host.line;
    let endedBy: HangupBy = 'twiml';
    for (const verb of verbs) {
      if (signal.aborted || host.isEnded()) return { endedBy };
      endedBy = 'twiml';
      switch (verb.name) {
        case 'Connect': {
          const node = verb.children.find((c) => c.name === 'Stream');
          if (!node) {
            host.log('twiml-unsupported', { verb: 'Connect', children: verb.children.map((c) => c.name) });
            break;
          }
          let spec: StreamSpec;
          try {
            spec = readStream(node);
          } catch (e) {
            host.log('twiml-invalid', { code: 12100, error: (e as Error).message });
            host.end('webhook-failed', 'failed');
            return { endedBy };
          }
          const how = await this.runStream(spec, signal);
          if (how === 'aborted' || host.isEnded()) return { endedBy };
          if (how === 'server') endedBy = 'server-close';
          else if (how === 'dropped') endedBy = 'socket-drop';
          if (verb.attrs.action) {
            return { redirect: { url: verb.attrs.action, method: verb.attrs.method ?? 'POST' }, endedBy };
          }
          break;
        }
        case 'Say': {
          host.startCallee();
          const text = verb.text.trim();
          host.log('say', { text, voice: verb.attrs.voice, language: verb.attrs.language });
          line.playSystem(speech(text, speechDurationMs(text)));
          if ((await this.race(line.waitFor(() => line.systemQueuedBytes === 0), signal)) === 'aborted') {
            return { endedBy };
          }
          break;
        }
        case 'Play':
          host.startCallee();
          if (verb.attrs.digits !== undefined) {
            host.onDigitsPlayed(verb.attrs.digits);
            host.log('play-digits', { digits: verb.attrs.digits });
            // Twilio plays the tones on the call, 0.5 s per w, before the next verb runs.
            const keys = verb.attrs.digits.replace(/[^0-9*#A-Dw]/g, '');
            if (keys) {
              line.playSystem(dtmfAudio(keys).audio);
              if ((await this.race(line.waitFor(() => line.systemQueuedBytes === 0), signal)) === 'aborted') return { endedBy };
            }
          } else host.log('play', { url: verb.text.trim() });
          break;
        case 'Pause': {
          host.startCallee();
          const secs = Number(verb.attrs.length ?? '1');
          host.log('pause', { seconds: secs });
          if ((await this.race(line.waitMs(secs * 1000), signal)) === 'aborted') return { endedBy };
          break;
        }
        case 'Hangup':
        case 'Reject':
          host.log('twiml-hangup', { verb: verb.name });
          host.end('twiml');
          return { endedBy };
        case 'Redirect':
          return { redirect: { url: verb.text.trim(), method: verb.attrs.method ?? 'POST' }, endedBy };
        case 'Dial': {
          host.startCallee();
          const outcome = await this.runDial(verb, signal);
          if (outcome === 'aborted' || host.isEnded()) return { endedBy };
          // "Twilio will make a GET or POST request to the action URL (if provided) when the <Dial> call
          // ends"; without one the document goes on with the next verb.
          if (verb.attrs.action) {
            const params: Record<string, string> = { DialCallStatus: outcome.status, DialCallDuration: String(outcome.durationSec), ...(outcome.childSid ? { DialCallSid: outcome.childSid } : {}) };
            return { redirect: { url: verb.attrs.action, method: verb.attrs.method ?? 'POST', params }, endedBy };
          }
          break;
        }
        default:
          host.log('twiml-unsupported', { verb: verb.name });
      }
    }
    return { endedBy };
  }

  /** <Dial>: a conference room, or a number (text or one <Number>). */
  private async runDial(verb: TwimlNode, signal: AbortSignal): Promise<DialOutcome | 'aborted'> {
    const host = this.host;
    const conf = verb.children.find((c) => c.name === 'Conference');
    if (conf) return this.runConference(conf, signal);
    const to = (verb.children.find((c) => c.name === 'Number')?.text ?? verb.text).trim();
    const timeoutSec = Number(verb.attrs.timeout ?? '30');
    host.log('dial', { to, callerId: verb.attrs.callerId, timeoutSec });
    const r = await host.dialNumber(to, { callerId: verb.attrs.callerId, timeoutSec }, signal);
    host.line.bridged = false;
    if (r !== 'aborted') host.log('dial-ended', { to, dialCallStatus: r.status, durationSec: r.durationSec });
    return r;
  }

  /** In the room until the call leaves it (aborted: hang-up or new TwiML) or the conference ends. */
  private async runConference(node: TwimlNode, signal: AbortSignal): Promise<DialOutcome | 'aborted'> {
    const host = this.host;
    const name = node.text.trim();
    const bool = (v: string | undefined, d: boolean) => (v === undefined ? d : v === 'true');
    let removed!: () => void;
    const over = new Promise<void>((r) => (removed = r));
    const started = performance.now();
    const member = host.conferences.join(
      name,
      {
        callSid: host.callSid,
        startConferenceOnEnter: bool(node.attrs.startConferenceOnEnter, true),
        endConferenceOnExit: bool(node.attrs.endConferenceOnExit, false),
        statusCallback: node.attrs.statusCallback,
        statusCallbackMethod: node.attrs.statusCallbackMethod,
        statusCallbackEvent: (node.attrs.statusCallbackEvent ?? '').split(/[\s,]+/).filter(Boolean),
      },
      () => removed(),
    );
    host.log('conference-joined', { name, conferenceSid: member.room.sid });
    const watch = setInterval(() => (host.line.bridged = member.room.started && !member.room.ended), 20);
    host.line.bridged = member.room.started;
    const r = await Promise.race([over.then(() => 'over' as const), whenAborted(signal).then(() => 'aborted' as const)]);
    clearInterval(watch);
    host.line.bridged = false;
    if (r === 'aborted') {
      member.leave(host.isEnded() ? 'hangup' : 'twiml-updated');
      host.log('conference-left', { name, reason: host.isEnded() ? 'hangup' : 'twiml-updated' });
      return 'aborted';
    }
    host.log('conference-left', { name, reason: 'conference-ended' });
    return { status: 'completed', durationSec: Math.round((performance.now() - started) / 1000) };
  }

  private async race<T>(p: Promise<T>, signal: AbortSignal): Promise<T | 'aborted'> {
    const r = await Promise.race([p, whenAborted(signal).then(() => 'aborted' as const)]);
    // A replaced document silences Twilio's own speech at once.
    if (r === 'aborted') this.host.line.clearSystem();
    return r;
  }

  private async runStream(spec: StreamSpec, signal: AbortSignal): Promise<StreamOutcome> {
    const host = this.host;
    const client = new MediaStreamClient(
      {
        accountSid: host.accountSid,
        authToken: host.authToken,
        callSid: host.callSid,
        mediaFormat: host.mediaFormat,
        log: (type, fields) => host.log(type, fields),
        onAgentBytes: (n) => host.onAgentBytes(n),
      },
      spec.url,
      spec.customParameters,
    );
    const sid = client.info.streamSid;
    host.onStreamCreated(client.info);
    this.current = client;
    host.log('stream-connecting', { url: spec.url, streamSid: sid });
    const ok = await client.open();
    if (!ok) {
      this.current = null;
      host.streamEvent(spec, sid, 'stream-error', 'Stream - WebSocket - Connection failed');
      return signal.aborted ? 'aborted' : 'failed';
    }
    if (signal.aborted || host.isEnded()) {
      await client.stop();
      this.current = null;
      return 'aborted';
    }
    host.line.stream = client;
    host.streamEvent(spec, sid, 'stream-started');
    host.startCallee();
    const r = await Promise.race([client.closed, whenAborted(signal).then(() => 'aborted' as const)]);
    if (r === 'aborted') await client.stop();
    if (host.line.stream === client) host.line.stream = null;
    if (this.current === client) this.current = null;
    host.streamEvent(spec, sid, 'stream-stopped');
    if (r === 'aborted') return 'aborted';
    return client.dropped ? 'dropped' : r;
  }
}
