/**
 * Transcription by sound, for scenarios whose callee is the Twilio simulator's scripted voice. The real
 * service transcribes what each committed turn contains; the simulator's default is to hand out the
 * scenario's `userTranscripts` in order, one per turn, which goes out of step as soon as the number of
 * turns depends on timing (on hold the bridge sends only stretches of speech, and whether the onset of
 * the music makes a stretch of its own depends on the pace). With `transcribeBySound` a turn is
 * transcribed as the scripted line whose audio it contains: the callee's voice is deterministic per text
 * (test/sim/twilio/callee-audio.ts) and reaches this simulator byte for byte (audio/pcmu is passed
 * through), so each 20 ms frame of a line identifies it. A turn with no frame of any line in it (music,
 * noise, silence) is "(inaudible)", as an unscripted turn is.
 */
import { speech } from '../twilio/callee-audio.js';

const FRAME_BYTES = 160;
/** Frames of a line a turn must hold to be transcribed as that line (a few, so a stray match cannot). */
const MIN_FRAMES = 3;

const keyOf = (frame: Uint8Array) => Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('latin1');

export class VoicePrints {
  /** Each frame of each scripted line (at its default length; a shorter or longer one shares its frames but the last). */
  private readonly lineOf = new Map<string, number>();
  private readonly heard = new Map<number, number>();

  constructor(private readonly lines: readonly string[]) {
    lines.forEach((text, i) => {
      const audio = speech(text);
      for (let o = 0; o + FRAME_BYTES <= audio.length; o += FRAME_BYTES) {
        const k = keyOf(audio.subarray(o, o + FRAME_BYTES));
        if (!this.lineOf.has(k)) this.lineOf.set(k, i);
      }
    });
  }

  /** Appended input audio (mu-law). The bridge appends whole 20 ms frames of the carrier's stream. */
  hear(bytes: Uint8Array): void {
    for (let o = 0; o + FRAME_BYTES <= bytes.length; o += FRAME_BYTES) {
      const line = this.lineOf.get(keyOf(bytes.subarray(o, o + FRAME_BYTES)));
      if (line !== undefined) this.heard.set(line, (this.heard.get(line) ?? 0) + 1);
    }
  }

  /** The line most of the audio heard since the last call came from, if any; starts afresh. */
  take(): string | undefined {
    let best: number | undefined;
    for (const [line, frames] of this.heard) if (frames >= MIN_FRAMES && (best === undefined || frames > this.heard.get(best)!)) best = line;
    this.heard.clear();
    return best === undefined ? undefined : this.lines[best];
  }
}
