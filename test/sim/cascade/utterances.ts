/**
 * Which utterance a transcription request holds, for transcripts scripted in order. A client may send the
 * start of an utterance first (the cascade engine transcribes at the callee's pause to prepare a reply)
 * and the whole of it later, when they went on: that is one utterance, one scripted transcript. A callee
 * saying the same words again later (a phone menu replaying its prompt word for word, from a recording)
 * is a new utterance, though its audio may start with exactly the same samples: what tells the two apart
 * is when the audio was spoken, not what it holds.
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
  index: number;
}

export class UtteranceIndex {
  private readonly heard: Heard[] = [];
  private next = 0;

  /**
   * The 0-based utterance number of a file holding `pcm` at `sampleRate`, sent at `atMs`. The end of a
   * file is (about) when it was sent, as a client transcribes what it has heard so far, so its start is
   * `atMs` less its length; a file that starts with an earlier one's samples and at (about) its time
   * extends it.
   */
  index(pcm: Int16Array, sampleRate: number, atMs: number): number {
    const startMs = atMs - (pcm.length / sampleRate) * 1000;
    const same = this.heard.find((h) => Math.abs(h.startMs - startMs) <= sameStartToleranceMs((h.pcm.length / sampleRate) * 1000) && h.pcm.length <= pcm.length && h.pcm.every((x, i) => pcm[i] === x));
    if (same) return same.index;
    const index = this.next++;
    this.heard.push({ pcm, startMs, index });
    return index;
  }
}
