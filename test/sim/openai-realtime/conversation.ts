/**
 * The conversation's item list. Order matters because every `*.added` event carries `previous_item_id`, and
 * truncation needs to know how much assistant audio an item really holds.
 */
import type { ConversationItem } from './protocol.js';
import { RealtimeRequestError } from './protocol.js';

export interface StoredItem {
  id: string;
  kind: 'message' | 'function_call' | 'function_call_output';
  role?: 'user' | 'assistant' | 'system';
  /** Text equivalent for token accounting: transcript, text, arguments or output. */
  text: string;
  /** Assistant audio the item holds: what was streamed, reduced by truncation. */
  audioMs: number;
  /** Assistant audio streamed for the item, never reduced. */
  sentAudioMs: number;
  callId?: string;
  /** The item as last sent to the client, for conversation.item.retrieve. */
  wire: ConversationItem;
}

export class Conversation {
  private readonly items: StoredItem[] = [];

  get(id: string): StoredItem | undefined {
    return this.items.find((i) => i.id === id);
  }

  lastId(): string | null {
    return this.items.at(-1)?.id ?? null;
  }

  /**
   * Inserts an item and returns the id of the item now before it. `after`: undefined appends, 'root' prepends,
   * anything else must name an existing item.
   */
  insert(item: StoredItem, after?: string | null): string | null {
    if (this.get(item.id)) {
      throw new RealtimeRequestError('invalid_value', `Item with id '${item.id}' already exists.`, 'item.id');
    }
    if (after === undefined || after === null) {
      const prev = this.lastId();
      this.items.push(item);
      return prev;
    }
    if (after === 'root') {
      this.items.unshift(item);
      return null;
    }
    const idx = this.items.findIndex((i) => i.id === after);
    if (idx < 0) {
      throw new RealtimeRequestError('invalid_value', `Invalid previous_item_id: '${after}' does not exist in the conversation.`, 'previous_item_id');
    }
    this.items.splice(idx + 1, 0, item);
    return after;
  }

  delete(id: string): boolean {
    const idx = this.items.findIndex((i) => i.id === id);
    if (idx < 0) return false;
    this.items.splice(idx, 1);
    return true;
  }

  hasFunctionCall(callId: string): boolean {
    return this.items.some((i) => i.kind === 'function_call' && i.callId === callId);
  }

  /** Characters of text the model would see as context (the basis of simulated input text tokens). */
  textChars(): number {
    return this.items.reduce((n, i) => n + i.text.length, 0);
  }
}
