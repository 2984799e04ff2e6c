import WebSocket from 'ws';

/** Closes an engine's socket politely, and forcibly if the peer does not answer within `graceMs`. */
export function closeSocket(ws: WebSocket | undefined, reason: string, graceMs = 1000): Promise<void> {
  if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      ws.terminate();
      resolve();
    }, graceMs);
    ws.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    ws.close(1000, reason);
  });
}
