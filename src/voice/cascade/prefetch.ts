/**
 * Starts reading an async iterable at once and buffers what it yields, so the next clause's speech is
 * being synthesized while the current one plays; it is then read in order like the source. An error
 * is thrown to the reader where it happened.
 */
export function prefetch<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  const items: T[] = [];
  let done = false;
  let error: unknown;
  let wake: (() => void) | undefined;
  void (async () => {
    try {
      for await (const x of source) {
        items.push(x);
        wake?.();
      }
    } catch (err) {
      error = err ?? new Error('stage failed');
    } finally {
      done = true;
      wake?.();
    }
  })();
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (items.length) {
          yield items.shift()!;
          continue;
        }
        if (error !== undefined) throw error;
        if (done) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    },
  };
}
