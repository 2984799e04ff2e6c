/** A bare `ws` client for the simulator's own tests: records every server event and waits on them. */
import WebSocket from 'ws';
import { mulawEncode, MULAW_SILENCE } from '../../../src/media/mulaw.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Ev = Record<string, any> & { type: string; event_id: string };

export class TestClient {
  readonly events: Ev[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.events.push(JSON.parse(data.toString()) as Ev);
      for (const l of [...this.listeners]) l();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string, apiKey: string, model = 'gpt-realtime'): Promise<TestClient> {
    const ws = new WebSocket(`${url}?model=${model}`, { headers: { Authorization: `Bearer ${apiKey}` } });
    // Listen before 'open': session.created can arrive in the same read as the 101 response.
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await client.waitFor('session.created');
    return client;
  }

  send(event: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(event));
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  of(type: string): Ev[] {
    return this.events.filter((e) => e.type === type);
  }

  /** The n-th (1-based) event of `type` matching `pred`, waiting for it if it has not arrived yet. */
  waitFor(type: string, pred: (e: Ev) => boolean = () => true, nth = 1, timeoutMs = 3000): Promise<Ev> {
    const find = () => this.events.filter((e) => e.type === type && pred(e))[nth - 1];
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const e = find();
        if (!e) return;
        cleanup();
        resolve(e);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${type} #${nth}; got: ${this.events.map((e) => e.type).join(', ')}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  /** Appends mu-law audio in 20 ms events, the way a telephony bridge forwards Twilio media frames. */
  appendAudio(bytes: Uint8Array, chunkBytes = 160): void {
    for (let i = 0; i < bytes.length; i += chunkBytes) {
      this.send({ type: 'input_audio_buffer.append', audio: Buffer.from(bytes.subarray(i, i + chunkBytes)).toString('base64') });
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    await this.closed;
  }
}

/** A loud 300 Hz tone: speech as far as an energy VAD is concerned. */
export function loud(ms: number, amplitude = 8000): Uint8Array {
  const n = ms * 8;
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 300 * i) / 8000));
  return mulawEncode(pcm);
}

export function silence(ms: number): Uint8Array {
  return new Uint8Array(ms * 8).fill(MULAW_SILENCE);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function audioBytes(events: Ev[], responseId?: string): number {
  return events
    .filter((e) => e.type === 'response.output_audio.delta' && (!responseId || e.response_id === responseId))
    .reduce((n, e) => n + Buffer.from(e.delta as string, 'base64').length, 0);
}

/** Session update the product is expected to send: G.711 both ways, server VAD, transcription. */
export const PCMU_SESSION = {
  type: 'realtime',
  instructions: 'You are a phone agent.',
  audio: {
    input: {
      format: { type: 'audio/pcmu' },
      transcription: { model: 'gpt-4o-transcribe' },
      turn_detection: { type: 'server_vad', silence_duration_ms: 500 },
    },
    output: { format: { type: 'audio/pcmu' }, voice: 'marin' },
  },
};
