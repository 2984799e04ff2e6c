/**
 * HAProxy in front of test nodes, from deploy/haproxy.cfg: everything above its "nodes" marker as
 * shipped (the routing of /n/<node id>/ and the round robin), the nodes written here with fast health
 * checks. For the multi-node tests (test/e2e/cluster-kill.test.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MARKER = '# --- nodes ---';

/** The haproxy binary, or undefined when none is installed (the tests that need it are skipped). */
export function haproxyBinary(): string | undefined {
  for (const bin of ['haproxy', '/usr/sbin/haproxy', '/usr/local/sbin/haproxy']) {
    const r = spawnSync(bin, ['-v'], { stdio: 'ignore' });
    if (r.status === 0) return bin;
  }
  return undefined;
}

/** deploy/haproxy.cfg with these nodes (id and port on 127.0.0.1) in place of the shipped ones. */
export function haproxyConfig(nodes: Array<{ id: string; port: number }>, checkMs = 300): string {
  const shipped = readFileSync(new URL('../../deploy/haproxy.cfg', import.meta.url), 'utf8');
  const at = shipped.indexOf(MARKER);
  if (at < 0) throw new Error(`deploy/haproxy.cfg has no "${MARKER}" line`);
  // Checked more often than the shipped 2 s, so a test sees a killed node leave the rotation quickly;
  // as there, three failures in a row, not one slow answer from a node busy starting calls.
  const check = `check inter ${checkMs} fall 3 rise 1`;
  const any = ['backend be_any', '    balance roundrobin', '    option httpchk GET /healthz', ...nodes.map((n) => `    server ${n.id} 127.0.0.1:${n.port} ${check}`)];
  // As shipped: a node's own route is not checked (one server, nowhere else to send its calls' traffic).
  const own = nodes.flatMap((n) => ['', `backend be_${n.id}`, `    server ${n.id} 127.0.0.1:${n.port}`]);
  return `${shipped.slice(0, at)}${MARKER}\n${[...any, ...own].join('\n')}\n`;
}

export interface Proxy {
  url: string;
  /** haproxy's process (the cluster bench reads its CPU time). */
  pid: number;
  close(): Promise<void>;
}

/** Starts haproxy on 127.0.0.1:`port` in front of `nodes`; resolves once it answers. */
export async function startHaproxy(bin: string, port: number, nodes: Array<{ id: string; port: number }>): Promise<Proxy> {
  const dir = mkdtempSync(join(tmpdir(), 'callwright-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(nodes));
  const check = spawnSync(bin, ['-c', '-q', '-f', cfg], { env: { ...process.env, CALLWRIGHT_PROXY_BIND: `127.0.0.1:${port}` }, encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy -c refused the configuration: ${check.stderr}`);
  const child: ChildProcess = spawn(bin, ['-db', '-f', cfg], { env: { ...process.env, CALLWRIGHT_PROXY_BIND: `127.0.0.1:${port}` }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${stderr}`);
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`haproxy did not answer: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
