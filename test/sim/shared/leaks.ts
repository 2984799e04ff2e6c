/**
 * What a simulator's close() must release: listeners, sockets and timers. Only those kinds are counted:
 * the test runner's own transient handles (file reads, its IPC connects) come and go on their own and
 * differ between Node versions (Node 24 lists some that Node 20 does not).
 */
const KINDS = new Set(['TCPServerWrap', 'TCPSocketWrap', 'TCPWrap', 'Timeout', 'Immediate']);

export function leakableResources(): string[] {
  return process.getActiveResourcesInfo().filter((r) => KINDS.has(r)).sort();
}

/** Waits up to `ms` for the leakable resources to be back to `before` (libuv releases a closed listener a loop turn or two after 'close'). */
export async function settledTo(before: string[], ms = 500): Promise<string[]> {
  const deadline = performance.now() + ms;
  let now = leakableResources();
  while (JSON.stringify(now) !== JSON.stringify(before) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
    now = leakableResources();
  }
  return now;
}
