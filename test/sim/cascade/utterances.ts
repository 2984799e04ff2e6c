/**
 * Scripted transcripts in order, one per utterance, as a transcription server would give them. A client
 * may send the start of an utterance first (the cascade engine transcribes at the callee's pause to
 * prepare a reply) and the whole of it later, when they went on: that is one utterance, one scripted
 * transcript. What tells it from the same words said again later (a phone menu replaying its recording
 * word for word, a second call's identical "Hello?": the Twilio simulator's voice is deterministic per
 * text) is when the audio was spoken, since the samples can be the same.
 *
 * Words said again are transcribed as they were the first time (a real server transcribes what the file
 * holds). They take the next scripted transcript only when the script lists them again there (a menu's
 * replays, one line each); otherwise the script is not moved on (one stack's calls share a script, and
 * each call's "Hello?" is listed once).
 */

/**
 * How far apart two files' estimated starts may be and still be one utterance. The estimate moves with
 * how late each request came (a loaded machine delays one by a second or more), so the bound is wide: at
 * least 1.5 s, and up to three quarters of the earlier file, since the same words said again cannot start
 * before the first saying of them has ended.
 */
export function sameStartToleranceMs(earlierMs: number): number {
  return Math.max(1500, 0.75 * earlierMs);
}

interface Heard {
  pcm: Int16Array;
  /** When its first sample was spoken, estimated as the request's arrival less the audio's length. */
  startMs: number;
  text: string;
}

export class UtteranceTranscripts {
  private readonly heard: Heard[] = [];
  private next = 0;

  constructor(private readonly transcripts: readonly string[]) {}

  /**
   * The transcript of a file holding `pcm` at `sampleRate`, sent at `atMs`. The end of a file is (about)
   * when it was sent, as a client transcribes what it has heard so far, so its start is `atMs` less its
   * length; a file that starts with an earlier one's samples and at (about) its time extends it.
   */
  transcribe(pcm: Int16Array, sampleRate: number, atMs: number): string {
    const ms = (pcm.length / sampleRate) * 1000;
    const startMs = atMs - ms;
    const sameWords = this.heard.filter((h) => startsWith(pcm, h.pcm) || startsWith(h.pcm, pcm));
    const same = sameWords.find((h) => h.pcm.length <= pcm.length && Math.abs(h.startMs - startMs) <= sameStartToleranceMs((h.pcm.length / sampleRate) * 1000));
    if (same) return same.text;
    const again = sameWords[0]?.text;
    let text: string;
    if (again === undefined) text = this.transcripts[this.next++] ?? '';
    else {
      text = again;
      if (this.transcripts[this.next] === again) this.next++;
    }
    this.heard.push({ pcm, startMs, text });
    return text;
  }
}

function startsWith(pcm: Int16Array, prefix: Int16Array): boolean {
  return prefix.length <= pcm.length && prefix.every((x, i) => pcm[i] === x);
}
