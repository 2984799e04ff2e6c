/**
 * The user side of one connection: when speech starts and ends. Automatic mode runs the energy VAD on the
 * audio; manual mode (automaticActivityDetection.disabled) takes activityStart/activityEnd from the client.
 * Times are ms of audio received on this connection.
 */
import { CLOSE_INVALID, ProtocolError } from './protocol.js';
import type { Setup } from './schemas.js';
import { EnergyVad, type VadOptions } from '../shared/energy-vad.js';

/** The service's end-of-speech silence when the setup does not say. */
export const DEFAULT_SILENCE_MS = 500;

export type ActivityEvent = { kind: 'start' | 'end'; atMs: number; source: 'vad' | 'activity' };

export class UserInput {
  readonly manual: boolean;
  readonly silenceMs: number;
  /** ms of audio received on this connection. */
  receivedMs = 0;
  private readonly vad: EnergyVad;
  private activityOpen = false;

  constructor(vadOptions: VadOptions, setup: Setup) {
    const aad = setup.realtimeInputConfig?.automaticActivityDetection;
    this.manual = aad?.disabled === true;
    this.silenceMs = aad?.silenceDurationMs ?? DEFAULT_SILENCE_MS;
    this.vad = new EnergyVad(vadOptions);
  }

  audio(pcm: Int16Array, rate: number): ActivityEvent[] {
    this.receivedMs += (pcm.length * 1000) / rate;
    if (this.manual) return [];
    return this.vad.push(pcm, rate, this.silenceMs).map((e) => ({ ...e, source: 'vad' as const }));
  }

  activityStart(): ActivityEvent | null {
    this.requireManual('activityStart');
    if (this.activityOpen) return null;
    this.activityOpen = true;
    return { kind: 'start', atMs: this.receivedMs, source: 'activity' };
  }

  activityEnd(): ActivityEvent | null {
    this.requireManual('activityEnd');
    if (!this.activityOpen) return null;
    this.activityOpen = false;
    return { kind: 'end', atMs: this.receivedMs, source: 'activity' };
  }

  /** The client paused its microphone: speech in progress ends now (automatic mode only). */
  streamEnd(): ActivityEvent | null {
    if (this.manual) return null;
    const ev = this.vad.flush();
    return ev && { ...ev, source: 'vad' };
  }

  private requireManual(what: string): void {
    if (!this.manual) {
      throw new ProtocolError(CLOSE_INVALID, `${what} is only allowed when automatic activity detection is disabled.`);
    }
  }
}
