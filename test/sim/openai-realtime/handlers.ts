/**
 * What the server does for each client event type. Handlers throw RealtimeRequestError for request errors;
 * the session turns those into `error` events and keeps the socket open.
 */
import { decodeBase64Audio } from './audio.js';
import { formatLabel, mergeSession } from './config.js';
import type { StoredItem } from './conversation.js';
import { RealtimeRequestError, type ConversationItem } from './protocol.js';
import { ClientEventSchemas, isClientEventType, parseClientEvent, type ClientEventType, type ItemInput } from './schemas.js';
import type { SimSession } from './session.js';

type Handler = (s: SimSession, raw: unknown) => void;

const handlers: Record<ClientEventType, Handler> = {
  'session.update': sessionUpdate,
  'input_audio_buffer.append': inputAudioAppend,
  'input_audio_buffer.commit': inputAudioCommit,
  'input_audio_buffer.clear': inputAudioClear,
  'output_audio_buffer.clear': outputAudioClear,
  'conversation.item.create': itemCreate,
  'conversation.item.retrieve': itemRetrieve,
  'conversation.item.delete': itemDelete,
  'conversation.item.truncate': itemTruncate,
  'response.create': responseCreate,
  'response.cancel': responseCancel,
};

export function handleClientEvent(s: SimSession, event: { type: string }): void {
  if (!isClientEventType(event.type)) {
    const supported = Object.keys(ClientEventSchemas).map((t) => `'${t}'`).join(', ');
    throw new RealtimeRequestError('invalid_value', `Invalid value: '${event.type}'. Supported values are: ${supported}.`, 'type');
  }
  handlers[event.type](s, event);
}

function sessionUpdate(s: SimSession, raw: unknown): void {
  const { session: patch } = parseClientEvent('session.update', raw);
  const newVoice = patch.audio?.output?.voice;
  const hasAssistantAudio = s.responses.some((r) => r.audioMsSent > 0);
  if (newVoice !== undefined && hasAssistantAudio && JSON.stringify(newVoice) !== JSON.stringify(s.config.audio?.output?.voice)) {
    throw new RealtimeRequestError(
      'cannot_update_voice',
      "Cannot update a conversation's voice if assistant audio is present.",
      'session.audio.output.voice',
    );
  }
  s.config = mergeSession(s.config, patch);
  const inFormat = s.config.audio?.input?.format;
  if (inFormat?.type !== 'audio/pcmu') {
    s.warn(`input format is ${formatLabel(inFormat)}; appended audio is still decoded as audio/pcmu`, `input-format:${formatLabel(inFormat)}`);
  }
  s.send({ type: 'session.updated', session: s.config });
}

function inputAudioAppend(s: SimSession, raw: unknown): void {
  const { audio } = parseClientEvent('input_audio_buffer.append', raw);
  const bytes = decodeBase64Audio(audio);
  if (!bytes) throw new RealtimeRequestError('invalid_value', "Invalid 'audio'. Expected base64-encoded audio bytes.", 'audio');
  if (s.config.audio?.input?.format?.type !== 'audio/pcmu') {
    s.warn(`audio appended while input format is ${formatLabel(s.config.audio?.input?.format)}; decoding it as audio/pcmu`, 'append-format');
  }
  const td = s.turnDetection();
  s.prints?.hear(bytes);
  const events = s.input.append(bytes, td);
  if (!td) return;
  for (const ev of events) {
    if (ev.kind === 'speech_started') {
      const itemId = s.ids.next('item');
      s.pendingUserItemId = itemId;
      s.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: s.input.speechStartMs(ev.onsetMs, td.prefixPaddingMs), item_id: itemId });
      if (td.interruptResponse) s.active?.cancel('turn_detected');
    } else {
      const itemId = s.pendingUserItemId ?? s.ids.next('item');
      s.pendingUserItemId = null;
      s.send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: ev.endMs, item_id: itemId });
      s.commitUserAudio(itemId, s.input.take(ev.endMs));
      if (!td.createResponse) continue;
      // The real server never runs two responses at once; with interrupt_response off the user can finish
      // a turn while the agent still talks, and that turn then gets no automatic reply.
      if (s.active) s.warn(`user turn ${s.userTurns} ended while ${s.active.record.id} was active; no auto-response`);
      else s.startResponse('vad');
    }
  }
}

function inputAudioCommit(s: SimSession, raw: unknown): void {
  parseClientEvent('input_audio_buffer.commit', raw);
  const ms = s.input.bufferedMs;
  if (ms < 100) {
    throw new RealtimeRequestError(
      'input_audio_buffer_commit_empty',
      `Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has ${ms.toFixed(2)}ms of audio.`,
    );
  }
  const itemId = s.pendingUserItemId ?? s.ids.next('item');
  s.pendingUserItemId = null;
  s.input.resetVad();
  s.commitUserAudio(itemId, s.input.take());
}

function inputAudioClear(s: SimSession, raw: unknown): void {
  parseClientEvent('input_audio_buffer.clear', raw);
  s.input.clear();
  s.prints?.take();
  s.pendingUserItemId = null;
  s.send({ type: 'input_audio_buffer.cleared' });
}

function outputAudioClear(_s: SimSession, raw: unknown): void {
  parseClientEvent('output_audio_buffer.clear', raw);
  // Over WebSocket the client owns playback; the server-side output buffer only exists for WebRTC/SIP.
  throw new RealtimeRequestError(
    'invalid_value',
    "'output_audio_buffer.clear' is only supported for WebRTC and SIP connections. Over WebSocket, stop local playback and send 'conversation.item.truncate'.",
    'type',
  );
}

const ALLOWED_CONTENT: Record<'user' | 'assistant' | 'system', readonly string[]> = {
  user: ['input_text', 'input_audio', 'input_image'],
  system: ['input_text'],
  assistant: ['output_text'],
};

function itemCreate(s: SimSession, raw: unknown): void {
  const { item, previous_item_id } = parseClientEvent('conversation.item.create', raw);
  const id = item.id ?? s.ids.next('item');
  const stored = storedItemFor(s, item, id);
  const prev = s.conversation.insert(stored, previous_item_id);
  if (item.type === 'function_call_output') s.functionOutputs.push({ callId: item.call_id, output: item.output, at: Date.now() });
  if (item.type === 'message') s.messages.push({ itemId: id, role: item.role, text: stored.text });
  s.send({ type: 'conversation.item.added', previous_item_id: prev, item: stored.wire });
  s.send({ type: 'conversation.item.done', previous_item_id: prev, item: stored.wire });
}

function storedItemFor(s: SimSession, item: ItemInput, id: string): StoredItem {
  const base = { id, audioMs: 0, sentAudioMs: 0 };
  if (item.type === 'function_call_output') {
    if (!s.conversation.hasFunctionCall(item.call_id)) {
      throw new RealtimeRequestError('invalid_value', `Tool call ID '${item.call_id}' not found in conversation.`, 'item.call_id');
    }
    const wire: ConversationItem = { ...item, id, object: 'realtime.item', status: 'completed' };
    return { ...base, kind: 'function_call_output', text: item.output, callId: item.call_id, wire };
  }
  if (item.type === 'function_call') {
    const callId = item.call_id ?? s.ids.next('call');
    const wire: ConversationItem = { ...item, id, call_id: callId, object: 'realtime.item', status: 'completed' };
    return { ...base, kind: 'function_call', text: item.arguments, callId, wire };
  }
  item.content.forEach((part, i) => {
    if (!ALLOWED_CONTENT[item.role].includes(part.type)) {
      const why = part.type === 'output_audio' ? ' Assistant audio messages cannot be created by the client.' : '';
      throw new RealtimeRequestError(
        'invalid_value',
        `Invalid value: '${part.type}'. Supported values for ${item.role} messages are: ${ALLOWED_CONTENT[item.role].join(', ')}.${why}`,
        `item.content[${i}].type`,
      );
    }
  });
  const text = item.content.map((p) => p.text ?? p.transcript ?? '').join('');
  const wire = { ...item, id, object: 'realtime.item', status: 'completed' } as ConversationItem;
  return { ...base, kind: 'message', role: item.role, text, wire };
}

function itemRetrieve(s: SimSession, raw: unknown): void {
  const { item_id } = parseClientEvent('conversation.item.retrieve', raw);
  const item = s.conversation.get(item_id);
  if (!item) throw new RealtimeRequestError('item_retrieve_invalid_item_id', `Item with item_id '${item_id}' not found.`, 'item_id');
  s.send({ type: 'conversation.item.retrieved', item: item.wire });
}

function itemDelete(s: SimSession, raw: unknown): void {
  const { item_id } = parseClientEvent('conversation.item.delete', raw);
  if (!s.conversation.delete(item_id)) {
    throw new RealtimeRequestError('item_delete_invalid_item_id', `Item with item_id '${item_id}' not found.`, 'item_id');
  }
  s.send({ type: 'conversation.item.deleted', item_id });
}

function itemTruncate(s: SimSession, raw: unknown): void {
  const ev = parseClientEvent('conversation.item.truncate', raw);
  const item = s.conversation.get(ev.item_id);
  const record = { itemId: ev.item_id, audioEndMs: ev.audio_end_ms, audioMsSentForItem: item?.sentAudioMs ?? 0, accepted: false };
  s.truncations.push(record);
  if (!item) {
    throw new RealtimeRequestError('item_truncate_invalid_item_id', `Item with item_id '${ev.item_id}' not found.`, 'item_id');
  }
  if (item.kind !== 'message' || item.role !== 'assistant') {
    throw new RealtimeRequestError('invalid_value', `Only assistant messages can be truncated; '${ev.item_id}' is not one.`, 'item_id');
  }
  if (ev.content_index !== 0) {
    throw new RealtimeRequestError('invalid_value', `Invalid content_index ${ev.content_index}: the item has a single audio part.`, 'content_index');
  }
  if (ev.audio_end_ms > item.audioMs) {
    throw new RealtimeRequestError(
      'invalid_value',
      `Audio content of ${item.audioMs}ms is already shorter than ${ev.audio_end_ms}ms`,
      'audio_end_ms',
    );
  }
  record.accepted = true;
  item.audioMs = ev.audio_end_ms;
  // The server drops the transcript of a truncated item so the model is not told about words never heard.
  item.text = '';
  if (item.wire.type === 'message' && item.wire.role === 'assistant') {
    item.wire = { ...item.wire, content: [{ type: 'output_audio', transcript: '' }] };
  }
  s.send({ type: 'conversation.item.truncated', item_id: ev.item_id, content_index: ev.content_index, audio_end_ms: ev.audio_end_ms });
}

function responseCreate(s: SimSession, raw: unknown): void {
  const ev = parseClientEvent('response.create', raw);
  if (s.active) {
    throw new RealtimeRequestError(
      'conversation_already_has_active_response',
      `Conversation already has an active response in progress: ${s.active.record.id}. Wait until the response is finished before creating a new one.`,
    );
  }
  s.startResponse('client', ev.response);
}

function responseCancel(s: SimSession, raw: unknown): void {
  const ev = parseClientEvent('response.cancel', raw);
  const active = s.active;
  if (!active || (ev.response_id !== undefined && ev.response_id !== active.record.id)) {
    throw new RealtimeRequestError('response_cancel_not_active', 'Cancellation failed: no active response found.');
  }
  active.cancel('client_cancelled');
}
