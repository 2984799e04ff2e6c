import type WebSocket from 'ws';
import type { FastifyBaseLogger } from 'fastify';
import type { MediaStreamHandler, MediaTransport } from '../carrier.js';
import { assertSafeId, buildClear, buildMark, buildMedia, parseFastFrame, parseInbound, StreamFrameError, unsupportedMediaFormat, type FastFrame } from './media-stream.js';
import { AudioChunk } from '../../media/audio-chunk.js';

export interface StreamOpenRequest {
  callId: string;
  secret: string;
  carrierCallId: string;
  streamId: string;
  /** The audio format the stream announced in `start`. */
  mediaFormat: { encoding: string; sampleRate: number; channels: number };
  /**
   * Set when the stream cannot be bridged (its format is not mu-law 8 kHz mono): the authorizer must not
   * return a handler, but if the stream is the call's own (right secret) it ends the call, saying why.
   */
  refusal?: string;
}

/** Returns the handler for a verified stream, or undefined to refuse it (unknown call, wrong secret, unusable format). */
export type StreamAuthorizer = (req: StreamOpenRequest, transport: MediaTransport) => MediaStreamHandler | undefined;

const START_TIMEOUT_MS = 10_000;
/** Malformed frames reach the call's record at most this often (counted in between), so a flood stays one line a second. */
const INVALID_REPORT_INTERVAL_MS = 1000;
/** Close a stream whose outgoing buffer grows past this: the peer is not reading. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * One Twilio Media Stream socket. Before `start` only `connected` is accepted; a `start` whose
 * customParameters do not name a live call with its secret closes the socket at once. Malformed frames
 * are counted and dropped: they never reach the call's audio, and never affect any other call. The
 * stream is not closed for them: a garbled frame says nothing about the audio around it, and hanging up
 * on a real callee over it would be worse than dropping it. The call's record gets the counts.
 */
export function handleMediaSocket(socket: WebSocket, authorize: StreamAuthorizer, log: FastifyBaseLogger): void {
  let handler: MediaStreamHandler | undefined;
  let streamSid: string | undefined;
  let ended = false;
  let invalid = 0;
  let unreported = 0;
  let lastReason = '';
  let lastReportAt = 0;

  const startTimer = setTimeout(() => {
    log.warn({ event: 'media.noStart' }, 'media stream sent no start; closing');
    socket.close(1008, 'no start');
  }, START_TIMEOUT_MS);

  // The TCP socket under ws (`_socket`, its own net.Socket). Every message sent during one callback (a
  // delta cut into chunks, its marks, a burst of deltas read at once, a clear) is held corked until the
  // callback is over and then goes out in one write: a write per message was over half the bridge's CPU
  // per frame (issue 18). nextTick, not setImmediate: the batch leaves as soon as the code that produced
  // it returns, before any other call's I/O is handled, so no frame waits on another call's work.
  const tcp = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
  let corked = false;
  const uncork = () => {
    corked = false;
    tcp?.uncork();
  };
  const send = (frame: string) => {
    if (!corked && tcp) {
      corked = true;
      tcp.cork();
      process.nextTick(uncork);
    }
    socket.send(frame);
  };

  const transport: MediaTransport = {
    get streamId() {
      return streamSid ?? '';
    },
    sendAudio(audio, mark) {
      if (socket.readyState !== socket.OPEN || !streamSid) return;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        socket.terminate();
        return;
      }
      send(buildMedia(streamSid, audio));
      if (mark !== undefined) send(buildMark(streamSid, mark));
    },
    sendMark(mark) {
      if (socket.readyState === socket.OPEN && streamSid) send(buildMark(streamSid, mark));
    },
    clear() {
      if (socket.readyState === socket.OPEN && streamSid) send(buildClear(streamSid));
    },
    close() {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(1000, 'call ended');
    },
  };

  const end = (expected: boolean) => {
    if (ended) return;
    ended = true;
    clearTimeout(startTimer);
    reportInvalid();
    handler?.onStreamEnd(expected);
  };

  // One scratch result per stream: the fast path allocates nothing but the payload string.
  const fast: FastFrame = { kind: 'media', text: '', outbound: false };

  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      noteInvalid(new StreamFrameError('binary frame'));
      return;
    }
    // Media and mark frames of this stream, as Twilio sends them: no JSON.parse, no regex (see parseFastFrame).
    if (handler && streamSid && Buffer.isBuffer(data) && parseFastFrame(data, streamSid, fast)) {
      if (fast.kind === 'mark') handler.onMark(fast.text);
      else if (!fast.outbound) handler.onAudio(AudioChunk.fromBase64(fast.text));
      return;
    }
    let ev;
    try {
      ev = parseInbound(data as Buffer);
    } catch (err) {
      noteInvalid(err as Error);
      return;
    }
    if (ev.event === 'media') {
      if (handler && ev.streamSid === streamSid && ev.track !== 'outbound') handler.onAudio(ev.payload);
      return;
    }
    switch (ev.event) {
      case 'connected':
        return;
      case 'start': {
        if (streamSid) return noteInvalid(new StreamFrameError('second start on one stream', 'start'));
        clearTimeout(startTimer);
        const { callId, secret } = ev.customParameters;
        let id: string;
        try {
          id = assertSafeId(ev.streamSid);
        } catch (err) {
          socket.close(1008, 'bad streamSid');
          return noteInvalid(err as Error);
        }
        streamSid = id;
        const refusal = unsupportedMediaFormat(ev.mediaFormat);
        const req: StreamOpenRequest = { callId, secret, carrierCallId: ev.callSid, streamId: id, mediaFormat: ev.mediaFormat, ...(refusal ? { refusal } : {}) };
        handler = callId && secret ? authorize(req, transport) : undefined;
        if (refusal) {
          // Never bridged, whatever the authorizer said: audio in another format would reach the voice
          // engine as noise. The call (if this is its stream) has recorded why and is ending.
          handler = undefined;
          log.warn({ event: 'media.unsupportedFormat', ...ev.mediaFormat }, 'media stream refused: unsupported audio format');
          ended = true;
          socket.close(1003, 'unsupported media format');
          return;
        }
        if (!handler) {
          log.warn({ event: 'media.refused' }, 'media stream refused: unknown call or wrong secret');
          ended = true;
          socket.close(1008, 'unknown stream');
        }
        return;
      }
      case 'mark':
        if (ev.streamSid === streamSid) handler?.onMark(ev.name);
        return;
      case 'dtmf':
        if (ev.streamSid === streamSid) handler?.onDtmf(ev.digit);
        return;
      case 'stop':
        if (ev.streamSid !== streamSid) return;
        end(true);
        socket.close(1000, 'stopped');
        return;
    }
  });

  socket.on('close', () => end(false));
  socket.on('error', (err) => log.warn({ event: 'media.socketError', err: err.message }, 'media socket error'));

  function noteInvalid(err: Error) {
    invalid++;
    // Logged sparsely: a flood of garbage must not become a flood of log lines.
    if (invalid <= 3 || invalid % 1000 === 0) log.warn({ event: 'media.invalidFrame', count: invalid, reason: err.message.slice(0, 120) }, 'invalid media stream frame dropped');
    unreported++;
    lastReason = err.message.slice(0, 120);
    if (Date.now() - lastReportAt >= INVALID_REPORT_INTERVAL_MS) reportInvalid();
  }

  function reportInvalid() {
    if (unreported === 0 || !handler) return;
    lastReportAt = Date.now();
    handler.onInvalidFrames?.({ count: unreported, total: invalid, lastReason });
    unreported = 0;
  }
}
