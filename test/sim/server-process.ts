/**
 * The real server as a child process (compiled, `dist/main.js`, exactly as `npm start` runs it) pointed at simulators in
 * the calling process: for crash tests (kill -9) and long runs (the soak), where the server's own
 * process, memory and restarts are what is being tested.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { SIM_API_TOKEN, stackStoreEnv } from './stack.js';

/** The node arguments of `npm start` (a plain `node ... dist/main.js` command): tests and benches run the server as users do. */
export function startArgs(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = pkg.scripts.start.split(/\s+/);
  if (node !== 'node') throw new Error('"npm start" is expected to be a plain node command');
  const entry = args.find((a) => a.endsWith('.js'));
  if (entry && !existsSync(new URL(`../../${entry}`, import.meta.url))) throw new Error(`${entry} is missing: run \`npm run build\` (npm test builds it first)`);
  return args;
}

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** SIGKILL: no shutdown code runs, as in a crash or an OOM kill. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

export async function startServerProcess(env: Record<string, string>, nodeArgs: string[] = []): Promise<ServerProcess> {
  // TEST_STORE=postgres: the store in PostgreSQL, one database per data directory (a restart finds it again).
  const storeEnv = env.DATABASE_URL || !env.DATA_DIR ? {} : await stackStoreEnv(env.DATA_DIR);
  const child = spawn(process.execPath, [...nodeArgs, ...startArgs()], { env: { ...process.env, ...storeEnv, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${env.PORT}`;
  const exited = () => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
  return {
    child,
    base,
    async api(method, path, body) {
      const r = await fetch(base + path, { method, headers: { Authorization: `Bearer ${SIM_API_TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      const text = await r.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON (event streams, text) */
      }
      return { status: r.status, body: parsed as any };
    },
    async crash() {
      child.kill('SIGKILL');
      await exited();
    },
    async stop() {
      child.kill('SIGTERM');
      await exited();
    },
  };
}
