/**
 * The `callwright` command run as a child process (bin/callwright.js, as `npx callwright` runs it), with
 * a clean environment (nothing of the developer's leaks in) in an empty folder: what every CLI test needs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SIM_API_TOKEN, type Stack } from '../sim/stack.js';

const BIN = resolve('bin/callwright.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  done: Promise<CliRun>;
  out(): string;
  err(): string;
  write(text: string): void;
  signal(sig: NodeJS.Signals): void;
}

export function startCli(args: string[], env: Record<string, string> = {}, cwd = mkdtempSync(join(tmpdir(), 'callwright-cli-'))): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // A CLI that hangs fails its test instead of holding the server open.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<CliRun>((res) => child.on('close', (code) => (clearTimeout(timer), res({ code, stdout, stderr }))));
  return { done, out: () => stdout, err: () => stderr, write: (t) => child.stdin.write(t), signal: (s) => child.kill(s) };
}

/** Runs the CLI to its end. */
export const runCli = (args: string[], env?: Record<string, string>, cwd?: string): Promise<CliRun> => startCli(args, env, cwd).done;

/** The flags that point the CLI at a test stack's server. */
export const at = (stack: Stack): string[] => ['--url', stack.baseUrl, '--token', SIM_API_TOKEN];
