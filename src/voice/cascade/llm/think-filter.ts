/**
 * Removes `<think>…</think>` from streamed text. Reasoning models served through Ollama, llama.cpp or vLLM
 * without a reasoning parser (DeepSeek-R1, Qwen3, QwQ) put their thinking in the content itself, and a
 * tag may be split across chunks; none of it may ever reach the text-to-speech.
 */
const OPEN = '<think>';
const CLOSE = '</think>';

export class ThinkFilter {
  private buf = '';
  private thinking = false;

  /** Feeds a chunk; returns the text outside thinking that is safe to speak now. */
  push(chunk: string): string {
    this.buf += chunk;
    let out = '';
    for (;;) {
      if (this.thinking) {
        const end = this.buf.indexOf(CLOSE);
        if (end < 0) {
          // Keep only what could be the start of the closing tag.
          this.buf = this.buf.slice(Math.max(0, this.buf.length - (CLOSE.length - 1)));
          return out;
        }
        this.buf = this.buf.slice(end + CLOSE.length);
        this.thinking = false;
        continue;
      }
      const start = this.buf.indexOf(OPEN);
      if (start >= 0) {
        out += this.buf.slice(0, start);
        this.buf = this.buf.slice(start + OPEN.length);
        this.thinking = true;
        continue;
      }
      const keep = partialSuffix(this.buf, OPEN);
      out += this.buf.slice(0, this.buf.length - keep);
      this.buf = this.buf.slice(this.buf.length - keep);
      return out;
    }
  }

  /** The stream ended: what is left (nothing, if it ended inside thinking). */
  flush(): string {
    const rest = this.thinking ? '' : this.buf;
    this.buf = '';
    this.thinking = false;
    return rest;
  }
}

/** The length of the longest suffix of `s` that is a proper prefix of `tag`. */
function partialSuffix(s: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, s.length); n > 0; n--) if (s.endsWith(tag.slice(0, n))) return n;
  return 0;
}
