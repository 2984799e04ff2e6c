/**
 * One model response: the GA event sequence for a scripted turn, streamed with yields so cancellation,
 * barge-in and faults can land mid-stream as they do against the real service.
 */
import type { RealtimeResponseStatus } from 'openai/resources/realtime/realtime';
import { BYTES_PER_MS, encodeBase64, pitchFor, synthVoice } from './audio.js';
import type { Conversation, StoredItem } from './conversation.js';
import { Pacer, type Pacing } from '../shared/pacer.js';
import type { ConversationItem, IdMinter, RealtimeResponse, ServerEventBody } from './protocol.js';
import type { AgentTurn, ResponseRecord } from './types.js';
import { computeUsage, type UsageInputs } from './usage.js';

export type Fault = 'drop' | 'fatal';

/** What a response needs from its session; kept narrow so the runner can't reach into socket handling. */
export interface ResponseHost {
  send(event: ServerEventBody): void;
  readonly ids: IdMinter;
  readonly conversation: Conversation;
  /** Called at the fault point; the host kills the socket and is expected to call abort()/fail(). */
  injectFault(fault: Fault, runner: ResponseRunner): void;
  onFinished(runner: ResponseRunner): void;
}

export interface ResponseSpec {
  turn: AgentTurn;
  record: ResponseRecord;
  responseIndex: number;
  pacing: Pacing;
  deltaMs: number;
  msPerChar: number;
  modality: 'audio' | 'text';
  audioOutput: NonNullable<RealtimeResponse['audio']>['output'];
  maxOutputTokens: number | 'inf';
  conversationId: string;
  /** The response.create's metadata, echoed in the response resource (null for turn detection's own). */
  metadata: Record<string, string> | null;
  /** See OpenAIRealtimeSimOptions.cancelLatencyMs. */
  cancelLatencyMs: number;
  /** Context at response start; input usage must not count the response's own output. */
  context: Omit<UsageInputs, 'responseIndex' | 'outputAudioMs' | 'outputTextChars'>;
  fault?: Fault;
}

interface OpenMessage {
  stored: StoredItem;
  outputIndex: number;
  previousItemId: string | null;
  transcript: string;
}

/** The SDK types omit `null` where the real server sends it (status_details, usage before done). */
function wireNull<T>(): T {
  return null as unknown as T;
}

/** Splits after whitespace so the deltas concatenate back to the exact transcript. */
function splitWords(text: string): string[] {
  return text.split(/(?<=\s)(?=\S)/);
}

export class ResponseRunner {
  private state: 'running' | 'cancelling' | 'finished' | 'aborted' = 'running';
  private readonly pacer: Pacer;
  private readonly output: ConversationItem[] = [];
  private message: OpenMessage | null = null;
  private outputTextChars = 0;

  constructor(
    private readonly host: ResponseHost,
    private readonly spec: ResponseSpec,
  ) {
    this.pacer = new Pacer(spec.pacing);
  }

  get record(): ResponseRecord {
    return this.spec.record;
  }

  get active(): boolean {
    return this.state === 'running';
  }

  async run(): Promise<void> {
    this.host.send({ type: 'response.created', response: this.wireResponse('in_progress', wireNull(), wireNull()) });
    this.host.send({
      type: 'rate_limits.updated',
      rate_limits: [
        { name: 'requests', limit: 5000, remaining: 4999, reset_seconds: 0.012 },
        { name: 'tokens', limit: 800000, remaining: 795000, reset_seconds: 0.375 },
      ],
    });
    const { say, call } = this.spec.turn;
    if (say) {
      if (this.spec.modality === 'audio') await this.speak(say);
      else await this.write(say);
    } else if (this.spec.fault) {
      this.host.injectFault(this.spec.fault, this);
    }
    if (this.state !== 'running') return;
    if (call) this.emitCall(call.name, JSON.stringify(call.arguments));
    this.finish('completed');
  }

  /**
   * Stops the stream and reports it like the server does: open parts are closed, then response.done(cancelled).
   * The response stays the active one until then, not past the client events already read: the real
   * server refuses a response.create that follows a response.cancel before its response.done (README).
   */
  cancel(reason: 'turn_detected' | 'client_cancelled'): boolean {
    if (this.state !== 'running') return false;
    this.state = 'cancelling';
    this.pacer.stop();
    this.spec.record.cancelReason = reason;
    setTimeout(() => {
      if (this.state !== 'cancelling') return;
      if (this.message) this.closeMessage('incomplete');
      this.finish('cancelled', { type: 'cancelled', reason });
    }, this.spec.cancelLatencyMs);
    return true;
  }

  /** The socket is gone: stop silently; the record keeps whatever status the host decides. */
  abort(): void {
    if (this.state === 'running' || this.state === 'cancelling') this.state = 'aborted';
    this.pacer.stop();
  }

  private async speak(text: string): Promise<void> {
    const msg = this.openMessage({ type: 'audio', transcript: '' });
    const { deltaMs } = this.spec;
    const totalMs = Math.max(1, Math.round(text.length * this.spec.msPerChar));
    const totalBytes = totalMs * BYTES_PER_MS;
    const chunkBytes = Math.max(1, Math.round(deltaMs * BYTES_PER_MS));
    const chunks = Math.ceil(totalBytes / chunkBytes);
    const faultChunk = Math.floor(chunks / 2);
    const words = splitWords(text);
    const pitch = pitchFor(this.spec.responseIndex);
    let wordIdx = 0;
    let wordChars = 0;
    let sentBytes = 0;
    for (let k = 0; k < chunks; k++) {
      await this.pacer.until(k * deltaMs);
      if (this.state !== 'running') return;
      if (this.spec.fault && k === faultChunk) {
        this.host.injectFault(this.spec.fault, this);
        return;
      }
      // Transcript runs slightly ahead of audio, as with the real model: a word goes out with the chunk it starts in.
      const chunkEndMs = (k + 1) * deltaMs;
      while (wordIdx < words.length && (wordChars / text.length) * totalMs < chunkEndMs) {
        this.sendTranscriptDelta(msg, words[wordIdx]);
        wordChars += words[wordIdx].length;
        wordIdx++;
      }
      const len = Math.min(chunkBytes, totalBytes - sentBytes);
      const bytes = synthVoice(sentBytes, len, pitch);
      this.host.send({
        type: 'response.output_audio.delta',
        response_id: this.spec.record.id,
        item_id: msg.stored.id,
        output_index: msg.outputIndex,
        content_index: 0,
        delta: encodeBase64(bytes),
      });
      sentBytes += len;
      this.spec.record.audioMsSent = sentBytes / BYTES_PER_MS;
      msg.stored.audioMs = msg.stored.sentAudioMs = this.spec.record.audioMsSent;
    }
    for (; wordIdx < words.length; wordIdx++) this.sendTranscriptDelta(msg, words[wordIdx]);
    // In realtime pacing the model "speaks" the last chunk too before declaring the item done.
    if (this.spec.pacing === 'realtime') {
      await this.pacer.until(totalMs);
      if (this.state !== 'running') return;
    }
    this.closeMessage('completed');
  }

  /** Text-only modality: no audio, one output_text delta per word. */
  private async write(text: string): Promise<void> {
    const msg = this.openMessage({ type: 'text', text: '' });
    const words = splitWords(text);
    for (let i = 0; i < words.length; i++) {
      await this.pacer.until(i * this.spec.deltaMs);
      if (this.state !== 'running') return;
      if (this.spec.fault && i === Math.floor(words.length / 2)) {
        this.host.injectFault(this.spec.fault, this);
        return;
      }
      msg.transcript += words[i];
      this.spec.record.transcript = msg.transcript;
      this.host.send({ type: 'response.output_text.delta', ...this.partRef(msg), delta: words[i] });
    }
    this.closeMessage('completed');
  }

  private partRef(msg: OpenMessage) {
    return { response_id: this.spec.record.id, item_id: msg.stored.id, output_index: msg.outputIndex, content_index: 0 };
  }

  private sendTranscriptDelta(msg: OpenMessage, delta: string): void {
    msg.transcript += delta;
    this.spec.record.transcript = msg.transcript;
    this.host.send({ type: 'response.output_audio_transcript.delta', ...this.partRef(msg), delta });
  }

  private openMessage(part: { type: 'audio'; transcript: string } | { type: 'text'; text: string }): OpenMessage {
    const id = this.host.ids.next('item');
    const item: ConversationItem = { id, object: 'realtime.item', type: 'message', status: 'in_progress', role: 'assistant', content: [] };
    const stored: StoredItem = { id, kind: 'message', role: 'assistant', text: '', audioMs: 0, sentAudioMs: 0, wire: item };
    const previousItemId = this.host.conversation.insert(stored);
    const outputIndex = this.output.length;
    this.spec.record.itemId = id;
    this.host.send({ type: 'response.output_item.added', response_id: this.spec.record.id, output_index: outputIndex, item });
    this.host.send({ type: 'conversation.item.added', previous_item_id: previousItemId, item });
    this.message = { stored, outputIndex, previousItemId, transcript: '' };
    this.host.send({ type: 'response.content_part.added', ...this.partRef(this.message), part });
    return this.message;
  }

  private closeMessage(status: 'completed' | 'incomplete'): void {
    const msg = this.message;
    if (!msg) return;
    this.message = null;
    const ref = this.partRef(msg);
    const transcript = msg.transcript;
    let item: ConversationItem;
    if (this.spec.modality === 'audio') {
      this.host.send({ type: 'response.output_audio.done', ...ref });
      this.host.send({ type: 'response.output_audio_transcript.done', ...ref, transcript });
      this.host.send({ type: 'response.content_part.done', ...ref, part: { type: 'audio', transcript } });
      item = { id: msg.stored.id, object: 'realtime.item', type: 'message', status, role: 'assistant', content: [{ type: 'output_audio', transcript }] };
    } else {
      this.host.send({ type: 'response.output_text.done', ...ref, text: transcript });
      this.host.send({ type: 'response.content_part.done', ...ref, part: { type: 'text', text: transcript } });
      item = { id: msg.stored.id, object: 'realtime.item', type: 'message', status, role: 'assistant', content: [{ type: 'output_text', text: transcript }] };
    }
    msg.stored.wire = item;
    msg.stored.text = transcript;
    this.outputTextChars += transcript.length;
    this.output.push(item);
    this.host.send({ type: 'response.output_item.done', response_id: this.spec.record.id, output_index: msg.outputIndex, item });
    this.host.send({ type: 'conversation.item.done', previous_item_id: msg.previousItemId, item });
  }

  private emitCall(name: string, args: string): void {
    const id = this.host.ids.next('item');
    const callId = this.host.ids.next('call');
    const outputIndex = this.output.length;
    const pending: ConversationItem = { id, object: 'realtime.item', type: 'function_call', status: 'in_progress', name, call_id: callId, arguments: '' };
    const stored: StoredItem = { id, kind: 'function_call', text: args, audioMs: 0, sentAudioMs: 0, callId, wire: pending };
    const previousItemId = this.host.conversation.insert(stored);
    Object.assign(this.spec.record, { callItemId: id, callId });
    const ref = { response_id: this.spec.record.id, item_id: id, output_index: outputIndex, call_id: callId };
    this.host.send({ type: 'response.output_item.added', response_id: this.spec.record.id, output_index: outputIndex, item: pending });
    this.host.send({ type: 'conversation.item.added', previous_item_id: previousItemId, item: pending });
    for (let i = 0; i < args.length; i += 24) {
      this.host.send({ type: 'response.function_call_arguments.delta', ...ref, delta: args.slice(i, i + 24) });
    }
    this.host.send({ type: 'response.function_call_arguments.done', ...ref, name, arguments: args });
    const item: ConversationItem = { ...pending, status: 'completed', arguments: args };
    stored.wire = item;
    this.outputTextChars += args.length;
    this.output.push(item);
    this.host.send({ type: 'response.output_item.done', response_id: this.spec.record.id, output_index: outputIndex, item });
    this.host.send({ type: 'conversation.item.done', previous_item_id: previousItemId, item });
  }

  private finish(status: 'completed' | 'cancelled', details: RealtimeResponseStatus | null = null): void {
    this.state = 'finished';
    this.pacer.stop();
    this.spec.record.status = status;
    const usage = computeUsage({
      ...this.spec.context,
      responseIndex: this.spec.responseIndex,
      outputAudioMs: this.spec.record.audioMsSent,
      outputTextChars: this.outputTextChars,
    });
    this.host.send({ type: 'response.done', response: this.wireResponse(status, details ?? wireNull(), usage) });
    this.host.onFinished(this);
  }

  private wireResponse(status: NonNullable<RealtimeResponse['status']>, details: RealtimeResponseStatus, usage: RealtimeResponse['usage']): RealtimeResponse {
    return {
      id: this.spec.record.id,
      object: 'realtime.response',
      status,
      status_details: details,
      output: [...this.output],
      conversation_id: this.spec.conversationId,
      output_modalities: [this.spec.modality],
      max_output_tokens: this.spec.maxOutputTokens,
      audio: { output: this.spec.audioOutput },
      usage,
      metadata: this.spec.metadata,
    };
  }
}
