/**
 * The model process: OpenAI Realtime (GA event names, as test/sim/openai-realtime and
 * /work/shared/PROTOCOL-NOTES.md describe them), in a process of its own. Every session is answered
 * with an endless reply: once asked for a response, it sends a tagged 20 ms `audio/pcmu` delta every
 * 20 ms (drift-free) until the socket closes. Caller audio (`input_audio_buffer.append`) is scanned for
 * the load process's tags. A `response.cancel` (the bridge thought the callee barged in) is honoured and
 * counted: with the bench's silent caller it should never come.
 *
 * Which call a session belongs to comes from its instructions ("Benchmark call N."), or else from the
 * first tagged caller frame; the outgoing tags carry it, so both sides can count frames per call.
 */
import { randomBytes } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';
import { FrameReceiver, FrameSender } from './frame-log.js';
import { monoUs, TagScanner } from './tag.js';
import { FrameTicker } from './ticker.js';

const FRAME_BYTES = 160;
const ticker = new FrameTicker();
const outbound = new FrameSender();
const inbound = new FrameReceiver();
/** Per call: when its session was configured (session.updated sent), and when it closed (monoUs). */
const readyUs = new Map<number, number>();
const closedUs = new Map<number, number>();
let sessions = 0;
let cancels = 0;
let unknownCall = 0;

const hex = (n: number) => randomBytes(n).toString('hex');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await new Promise((r) => wss.once('listening', r));

wss.on('connection', (ws: WebSocket) => {
  sessions++;
  let call = -1;
  let n = 0;
  let speaking = false;
  let untick: (() => void) | undefined;
  const scanner = new TagScanner();
  const ev = (o: object) => ws.send(JSON.stringify({ event_id: `ev_${n++}`, ...o }));
  ev({ type: 'session.created', session: { type: 'realtime', id: 'sess_' + hex(8), model: 'gpt-realtime', output_modalities: ['audio'] } });

  const speak = () => {
    const responseId = 'resp_' + hex(8);
    const itemId = 'item_' + hex(8);
    speaking = true;
    ev({ type: 'response.created', response: { object: 'realtime.response', id: responseId, status: 'in_progress', output: [] } });
    ev({ type: 'response.output_item.added', response_id: responseId, output_index: 0, item: { id: itemId, object: 'realtime.item', type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
    untick = ticker.add((lateMs) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (call < 0) return void unknownCall++;
      const frame = Buffer.alloc(FRAME_BYTES, 0xff);
      outbound.stamp(frame, call, lateMs);
      ws.send(`{"type":"response.output_audio.delta","event_id":"e","response_id":"${responseId}","item_id":"${itemId}","output_index":0,"content_index":0,"delta":"${frame.toString('base64')}"}`);
    });
    return { responseId, itemId };
  };
  let current: { responseId: string; itemId: string } | undefined;

  ws.on('message', (data) => {
    const raw = String(data);
    if (raw.includes('"type":"input_audio_buffer.append"')) {
      const at = raw.indexOf('"audio":"') + 9;
      scanner.scan(Buffer.from(raw.slice(at, raw.indexOf('"', at)), 'base64'), (tag) => {
        if (call < 0) call = tag.call;
        inbound.take(tag);
      });
      return;
    }
    let msg: { type?: string; session?: { instructions?: string }; event_id?: string };
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    if (msg.type === 'session.update') {
      const m = /Benchmark call (\d+)\./.exec(msg.session?.instructions ?? '');
      if (m && call < 0) call = Number(m[1]);
      ev({ type: 'session.updated', session: { type: 'realtime', ...msg.session } });
      if (call >= 0 && !readyUs.has(call)) readyUs.set(call, monoUs());
    } else if (msg.type === 'response.create') {
      // One response at a time, as the real API: a second one while speaking is an error.
      if (speaking) ev({ type: 'error', error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response', message: 'Conversation already has an active response', event_id: msg.event_id } });
      else current = speak();
    } else if (msg.type === 'response.cancel' && current) {
      cancels++;
      untick?.();
      speaking = false;
      ev({ type: 'response.done', response: { object: 'realtime.response', id: current.responseId, status: 'cancelled', status_details: { type: 'cancelled', reason: 'client_cancelled' }, output: [], usage: null } });
      current = undefined;
    }
  });
  ws.on('error', () => undefined);
  ws.on('close', () => {
    untick?.();
    if (call >= 0) closedUs.set(call, monoUs());
  });
});

export interface ModelResult {
  sessions: number;
  cancels: number;
  /** Frame ticks skipped because the session's call was not known yet. */
  unknownCall: number;
  outboundSent: Array<[number, { firstSendUs: number; lastSeq: number }]>;
  inbound: ReturnType<FrameReceiver['report']>;
  readyUs: Array<[number, number]>;
  closedUs: Array<[number, number]>;
}

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'report') {
    const r: ModelResult = { sessions, cancels, unknownCall, outboundSent: [...outbound.calls], inbound: inbound.report(), readyUs: [...readyUs], closedUs: [...closedUs] };
    process.send!({ type: 'report', result: r });
  }
  if (m.cmd === 'exit') process.exit(0);
});
process.send!({ type: 'ready', url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/v1/realtime` });
