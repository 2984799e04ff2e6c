/**
 * What the service does with each client message after setup. Handlers throw ProtocolError for anything the
 * real service would reject; the connection turns it into a close frame.
 */
import { decodeBase64, decodePcm16, parsePcmMime } from './audio.js';
import type { SimConnection } from './connection.js';
import { CLOSE_INVALID, CLOSE_POLICY, ProtocolError } from './protocol.js';
import type { ClientContent, ParsedClientMessage, RealtimeInput, ToolResponse } from './schemas.js';
import { textOf, type GeminiSimSession } from './session.js';
import type { ActivityEvent } from './user-input.js';

export function handleClientMessage(s: GeminiSimSession, conn: SimConnection, msg: Exclude<ParsedClientMessage, { kind: 'setup' }>): void {
  switch (msg.kind) {
    case 'realtimeInput':
      return realtimeInput(s, conn, msg.body);
    case 'clientContent':
      return clientContent(s, conn, msg.body);
    case 'toolResponse':
      return toolResponse(s, msg.body);
  }
}

/** Fields are handled in the order a client would mean them when it packs several into one message. */
function realtimeInput(s: GeminiSimSession, conn: SimConnection, ri: RealtimeInput): void {
  const input = conn.input!;
  const events: Array<ActivityEvent | null> = [];
  if (ri.activityStart) events.push(input.activityStart());
  const blobs = [...(ri.audio ? [{ blob: ri.audio, path: 'realtimeInput.audio' }] : [])];
  ri.mediaChunks?.forEach((blob, i) => blobs.push({ blob, path: `realtimeInput.mediaChunks[${i}]` }));
  for (const { blob, path } of blobs) events.push(...audio(s, conn, blob, path));
  if (ri.video) s.warn('realtimeInput.video is accepted but ignored by the simulator', 'video');
  if (ri.activityEnd) events.push(input.activityEnd());
  if (ri.audioStreamEnd) events.push(input.streamEnd());
  for (const ev of events) if (ev) s.dialogue.onUserActivity(ev);
  if (ri.text !== undefined) {
    s.textInputs.push(ri.text);
    s.counters.inputTextChars += ri.text.length;
    s.dialogue.onText('text', true);
  }
}

function audio(s: GeminiSimSession, conn: SimConnection, blob: { mimeType?: string; data: string }, path: string): ActivityEvent[] {
  const format = parsePcmMime(blob.mimeType);
  if (!format) {
    s.warn(`${path}.mimeType '${blob.mimeType}' is not audio/pcm; chunk ignored`, `mime:${blob.mimeType}`);
    return [];
  }
  const bytes = decodeBase64(blob.data);
  if (!bytes) throw new ProtocolError(CLOSE_INVALID, `Invalid value at '${path}.data' (TYPE_BYTES), Base64 decoding failed`);
  if (bytes.length % 2 !== 0) s.warn(`${path}: odd byte count ${bytes.length}; PCM16 needs whole samples`, 'odd-bytes');
  const pcm = decodePcm16(bytes);
  s.counters.inputAudioMs += (pcm.length * 1000) / format.rate;
  return conn.input!.audio(pcm, format.rate);
}

function clientContent(s: GeminiSimSession, conn: SimConnection, cc: ClientContent): void {
  const turns = cc.turns ?? [];
  const text = turns.map((t) => textOf(t.parts)).join('\n');
  const turnComplete = cc.turnComplete === true;
  s.clientContents.push({ connection: conn.index, turns, turnComplete, text });
  s.counters.inputTextChars += text.length;
  if (!turnComplete) s.warn('clientContent without turnComplete: true gets no reply (the proto default is false)', 'cc-no-complete');
  s.dialogue.onText('clientContent', turnComplete);
}

function toolResponse(s: GeminiSimSession, tr: ToolResponse): void {
  const responses = tr.functionResponses.map((fr, i) => {
    if (!fr.id) {
      throw new ProtocolError(CLOSE_INVALID, `Invalid value at 'toolResponse.functionResponses[${i}].id': a FunctionResponse needs the id of its FunctionCall.`);
    }
    return { id: fr.id, name: fr.name, response: fr.response };
  });
  const unknown = s.dialogue.onToolResponse(responses);
  // Reported in the wild for tool responses the service cannot match: 1008 "Requested entity was not found."
  if (unknown.length > 0) throw new ProtocolError(CLOSE_POLICY, 'Requested entity was not found.');
}
