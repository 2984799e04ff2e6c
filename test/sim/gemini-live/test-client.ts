/** A bare `ws` client for the simulator's own tests: records every server message and waits on them. */
import WebSocket from 'ws';
import type { CloseInfo } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = Record<string, any>;

export const KEY = 'gemini-test-key';

export const BASE_SETUP = {
  model: 'models/gemini-live-2.5-flash-preview',
  generationConfig: {
    responseModalities: ['AUDIO'],
    speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } },
  },
  systemInstruction: { parts: [{ text: 'You are a phone agent.' }] },
  realtimeInputConfig: { automaticActivityDetection: { silenceDurationMs: 500 } },
  inputAudioTranscription: {},
  outputAudioTranscription: {},
};

export class TestClient {
  readonly messages: Msg[] = [];
  /** isBinary of every frame received, to check the framing. */
  readonly binaryFrames: boolean[] = [];
  readonly closed: Promise<CloseInfo>;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.binaryFrames.push(isBinary);
      this.messages.push(JSON.parse(data.toString()) as Msg);
      this.notify();
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.notify();
      }),
    );
  }

  /** Opens the socket only (no setup). `key: null` sends no key at all. */
  static async open(url: string, key: string | null = KEY, via: 'query' | 'header' = 'query'): Promise<TestClient> {
    const full = key !== null && via === 'query' ? `${url}?key=${encodeURIComponent(key)}` : url;
    const headers = key !== null && via === 'header' ? { 'x-goog-api-key': key } : undefined;
    const ws = new WebSocket(full, { headers });
    // Listen before 'open': the first message can arrive in the same read as the 101 response.
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', () => reject(new Error('upgrade refused')));
      ws.once('error', reject);
    });
    return client;
  }

  /** Opens, sends `setup` and waits for setupComplete. */
  static async connect(url: string, setup: Record<string, unknown> = BASE_SETUP): Promise<TestClient> {
    const c = await TestClient.open(url);
    c.send({ setup });
    await c.waitFor((m) => 'setupComplete' in m, 'setupComplete');
    return c;
  }

  send(msg: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(msg));
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** Server content messages carrying `field`. */
  content(field: string): Msg[] {
    return this.messages.filter((m) => m.serverContent?.[field] !== undefined).map((m) => m.serverContent);
  }

  indexOf(pred: (m: Msg) => boolean): number {
    return this.messages.findIndex(pred);
  }

  /** The n-th (1-based) message matching `pred`, waiting for it if needed. */
  waitFor(pred: (m: Msg) => boolean, what: string, nth = 1, timeoutMs = 3000): Promise<Msg> {
    const find = () => this.messages.filter(pred)[nth - 1];
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = find();
        if (!m) return;
        cleanup();
        resolve(m);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what} #${nth}; got: ${this.messages.map((m) => JSON.stringify(m).slice(0, 60)).join(' | ')}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  waitForContent(field: string, nth = 1, timeoutMs = 3000): Promise<Msg> {
    return this.waitFor((m) => m.serverContent?.[field] !== undefined, `serverContent.${field}`, nth, timeoutMs);
  }

  /** Sends PCM16 in 20 ms realtimeInput.audio messages, the way a telephony bridge forwards frames. */
  sendAudio(pcm: Uint8Array, rate = 16000): void {
    const chunk = (rate / 50) * 2;
    for (let i = 0; i < pcm.length; i += chunk) {
      this.send({
        realtimeInput: { audio: { mimeType: `audio/pcm;rate=${rate}`, data: Buffer.from(pcm.subarray(i, i + chunk)).toString('base64') } },
      });
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    await this.closed;
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

/** A loud 300 Hz tone as PCM16 LE: speech as far as an energy VAD is concerned. */
export function loud(ms: number, rate = 16000, amplitude = 8000): Uint8Array {
  const n = Math.round((ms * rate) / 1000);
  const buf = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * 300 * i) / rate)), i * 2);
  return new Uint8Array(buf);
}

export function silence(ms: number, rate = 16000): Uint8Array {
  return new Uint8Array(Math.round((ms * rate) / 1000) * 2);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Decoded bytes of every modelTurn inlineData in `messages`. */
export function audioBytes(messages: Msg[]): number {
  return messages
    .flatMap((m) => m.serverContent?.modelTurn?.parts ?? [])
    .reduce((n: number, p: Msg) => n + Buffer.from(p.inlineData.data as string, 'base64').length, 0);
}
