/**
 * Reads a server-sent events stream (the call timeline, `GET /api/calls/:id/events`): a pure block
 * parser, and a reader that follows a response body to its end. Kept apart from the HTTP client so the
 * parsing can be tested on its own.
 */

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** Splits text into complete SSE blocks; returns the messages and the unfinished rest. Comments are dropped. */
export function parseSseChunk(buffer: string): { messages: SseMessage[]; rest: string } {
  const messages: SseMessage[] = [];
  const text = buffer.replace(/\r\n?/g, '\n');
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n\n', start);
    if (end < 0) break;
    const block = text.slice(start, end);
    start = end + 2;
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    let fields = 0;
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (name === 'id') id = value;
      else if (name === 'event') event = value;
      else if (name === 'data') data.push(value);
      else continue;
      fields++;
    }
    // `retry:` only and keep-alive comments carry no message.
    if (fields > 0 && (data.length > 0 || event !== 'message')) messages.push({ ...(id !== undefined ? { id } : {}), event, data: data.join('\n') });
  }
  return { messages, rest: text.slice(start) };
}

/** Yields each message of an SSE response body as it arrives. */
export async function* readSseBody(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    const { messages, rest } = parseSseChunk(buffer);
    buffer = rest;
    yield* messages;
  }
}
