/**
 * `waitForSession()` for the engine simulators: the n-th call resolves with the n-th session, at once if it
 * exists, else when it appears, and rejects after `timeoutMs`.
 */
export function nthWaiter<T>(label: string, items: readonly T[], onChanged: (listener: () => void) => () => void): (timeoutMs?: number) => Promise<T> {
  let nextWaited = 0;
  return (timeoutMs = 5000) => {
    const wanted = nextWaited++;
    const ready = items[wanted];
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`${label}: no session #${wanted} within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = onChanged(() => {
        const s = items[wanted];
        if (!s) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(s);
      });
    });
  };
}
