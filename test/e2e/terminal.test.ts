/**
 * What `npm start` shows in a terminal and writes to a log: the compiled server, spawned with and without
 * a pseudo-terminal (util-linux `script`), and its start-up failures as one sentence and an exit code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './helpers.js';
import { startTwilioSim } from '../sim/twilio/index.js';
import { startOpenAIRealtimeSim } from '../sim/openai-realtime/index.js';
import { freePort, simEnv, writeDemoClient, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_OPENAI_KEY, SIM_API_TOKEN } from '../sim/stack.js';
import { startArgs } from '../sim/server-process.js';

const MAIN = startArgs();

interface Run {
  child: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
}

/** The server with stdout a pipe (as under a log collector) or, with `tty`, a pseudo-terminal. */
function run(env: Record<string, string>, o: { tty?: boolean } = {}): Run {
  const full = { ...process.env, NO_COLOR: '1', ...env };
  const child = o.tty
    ? spawn('script', ['-qfec', ['exec', process.execPath, ...MAIN].map((a) => `'${a}'`).join(' '), '/dev/null'], { env: full, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, MAIN, { env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function stop(r: Run, tty = false): Promise<void> {
  // Ctrl-C in the terminal (the pty turns it into SIGINT for the server); a signal otherwise.
  if (tty) r.child.stdin!.write('\x03');
  else r.child.kill('SIGTERM');
  await r.exited;
}

async function withSims(fn: (env: Record<string, string>, port: number) => Promise<void>): Promise<void> {
  const twilio = await startTwilioSim({ accountSid: SIM_ACCOUNT_SID, authToken: SIM_AUTH_TOKEN, script: () => ({ steps: [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, { hangup: true }] }) });
  const openai = await startOpenAIRealtimeSim({ apiKey: SIM_OPENAI_KEY, msPerChar: 20, scenario: () => ({ turns: [{ say: 'Hi, an AI assistant for Raju here.' }], userTranscripts: ['Hello?'] }) });
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-terminal-'));
  writeDemoClient(join(dataDir, 'clients'));
  const port = await freePort();
  try {
    await fn({ ...simEnv({ port, dataDir, twilioUrl: twilio.url, openaiUrl: openai.url }), VAD_SILENCE_MS: '300', LOG_LEVEL: 'info', KNOWLEDGE_WATCH: 'false' }, port);
  } finally {
    await Promise.all([twilio.close(), openai.close()]);
  }
}

async function placeCall(port: number): Promise<string> {
  const base = `http://127.0.0.1:${port}`;
  const headers = { Authorization: `Bearer ${SIM_API_TOKEN}`, 'Content-Type': 'application/json' };
  const id = (await (await fetch(`${base}/api/calls`, { method: 'POST', headers, body: JSON.stringify({ to: '+14155550123', instructions: 'Say hi.', clientId: 'raju' }) })).json()).id as string;
  await until('the call ended', async () => (await (await fetch(`${base}/api/calls/${id}`, { headers })).json()).status === 'ended', 20_000);
  return id;
}

test('on a terminal: readable lines (listening, call placed, call ended with reason and cost), the sign-in URL, no request lines', async () => {
  await withSims(async (env, port) => {
    const r = run(env, { tty: true });
    try {
      await until('listening', () => r.out().includes('Sign in:'), 20_000);
      const id = await placeCall(port);
      await until('the call-ended line', () => /call ended/.test(r.out()));
      const out = r.out().replace(/\r/g, '');
      assert.match(out, new RegExp(`Callwright \\S+ is listening on http://localhost:${port}`));
      assert.match(out, new RegExp(`Sign in: http://localhost:${port}/#token=${SIM_API_TOKEN}`), 'the sign-in URL, on the terminal only');
      assert.match(out, /API token: in the API_TOKEN setting/);
      assert.match(out, /^\d\d:\d\d:\d\d INFO {2}Server listening at http:\/\/127\.0\.0\.1:\d+$/m);
      assert.match(out, new RegExp(`^\\d\\d:\\d\\d:\\d\\d INFO  call placed  callId=${id} to=\\S+ provider=openai$`, 'm'));
      assert.match(out, new RegExp(`^\\d\\d:\\d\\d:\\d\\d INFO  call ended  callId=${id} reason=callee-hangup durationSec=\\d+ costUsd=[\\d.]+$`, 'm'));
      assert.doesNotMatch(out, /^\{/m, 'no JSON lines');
      assert.doesNotMatch(out, /request completed|incoming request/, 'request lines are debug');
      assert.doesNotMatch(out, /\+14155550123/, 'numbers masked as in the JSON log');
    } finally {
      await stop(r, true);
    }
    assert.equal(await r.exited, 0);
  });
});

test('not a terminal: JSON lines, no token anywhere (the token file is named instead); LOG_LEVEL=debug adds request lines; LOG_FORMAT forces either', async () => {
  await withSims(async (env, port) => {
    const r = run({ ...env, API_TOKEN: '' });
    try {
      await until('listening', () => r.out().includes('is listening'), 20_000);
      // With no API_TOKEN, the server's own token file: generated on this start. It signs in like any token.
      await placeCallWithFileToken(env.DATA_DIR!, port);
      await until('the call-ended line', () => r.out().includes('"call.ended"'));
    } finally {
      await stop(r);
    }
    const lines = r.out().trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const ready = records.find((x) => x.event === 'server.ready')!;
    assert.equal(ready.tokenGenerated, true);
    assert.match(String(ready.signIn), new RegExp(`^open http://localhost:${port} and paste the API token from the file .*api-token$`));
    const { readFileSync } = await import('node:fs');
    const token = readFileSync(join(env.DATA_DIR!, 'api-token'), 'utf8').trim();
    assert.ok(!r.out().includes(token) && !r.err().includes(token), 'the token is in no log line');
    const ended = records.find((x) => x.event === 'call.ended')!;
    assert.equal(ended.reason, 'callee-hangup');
    assert.equal(typeof ended.costUsd, 'number');
    assert.ok(!records.some((x) => x.msg === 'request completed'));

    const debug = run({ ...env, LOG_LEVEL: 'debug' });
    try {
      await until('listening', () => debug.out().includes('is listening'), 20_000);
      await fetch(`http://127.0.0.1:${port}/api/calls/00000000-0000-4000-8000-000000000000/events?token=secret-stream-token`, { headers: { Authorization: `Bearer ${SIM_API_TOKEN}` } });
      await until('a request line', () => debug.out().includes('request completed'));
    } finally {
      await stop(debug);
    }
    const req = debug.out().trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.msg === 'request completed' && x.req?.url?.includes('/events'));
    assert.equal(req.level, 20, 'debug');
    assert.match(req.req.url, /token=\[redacted\]/);
    assert.ok(!debug.out().includes('secret-stream-token'));

    const pretty = run({ ...env, LOG_FORMAT: 'pretty' });
    try {
      await until('listening', () => pretty.out().includes('is listening'), 20_000);
    } finally {
      await stop(pretty);
    }
    assert.match(pretty.out(), /INFO {2}Server listening at/);
    assert.match(pretty.out(), /Sign in: open http:\/\/localhost:\d+ and paste the API token from the API_TOKEN setting/, 'a forced pretty log is still no terminal: no token');
    assert.ok(!pretty.out().includes(SIM_API_TOKEN));
  });
});

async function placeCallWithFileToken(dataDir: string, port: number): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  const base = `http://127.0.0.1:${port}`;
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const id = (await (await fetch(`${base}/api/calls`, { method: 'POST', headers, body: JSON.stringify({ to: '+14155550123', instructions: 'Say hi.', clientId: 'raju' }) })).json()).id as string;
  await until('the call ended', async () => (await (await fetch(`${base}/api/calls/${id}`, { headers })).json()).status === 'ended', 20_000);
}

test('start-up failures: one sentence on stderr and an exit code of their own, never a stack trace', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-fail-'));
  const base = { DATA_DIR: join(dataDir, 'data'), API_TOKEN: SIM_API_TOKEN, LOG_LEVEL: 'info', KNOWLEDGE_WATCH: 'false', CLIENTS_DIR: join(dataDir, 'clients'), EMBEDDINGS_PROVIDER: 'none', OUTCOME_PROVIDER: 'none' };
  const expectFailure = async (env: Record<string, string>, code: number, sentence: RegExp) => {
    const r = run({ ...base, ...env });
    assert.equal(await r.exited, code, r.err());
    const err = r.err().trim();
    assert.match(err, sentence);
    assert.equal(err.split('\n').length, 1, `one line: ${err}`);
    assert.doesNotMatch(err, /\n\s+at |Error:/, 'no stack trace');
  };

  // The port is taken.
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const taken = (blocker.address() as { port: number }).port;
  try {
    await expectFailure({ PORT: String(taken) }, 3, new RegExp(`^Port ${taken} on 127\\.0\\.0\\.1 is already in use .*set PORT to a free port\\.$`));
  } finally {
    blocker.close();
  }
  // HOST is not an address of this machine (TEST-NET-3).
  await expectFailure({ PORT: String(await freePort()), HOST: '203.0.113.7' }, 3, /^HOST 203\.0\.113\.7 is not an address of this machine/);
  // DATA_DIR cannot be written: a file stands where its parent folder should be (fails for root too).
  writeFileSync(join(dataDir, 'a-file'), 'x');
  await expectFailure({ PORT: String(await freePort()), DATA_DIR: join(dataDir, 'a-file', 'data') }, 4, /^DATA_DIR .*a-file\/data cannot be written \(a file is in the way where a folder should be\): point DATA_DIR at a folder/);
  // A bad setting, named, its value not echoed.
  await expectFailure({ PORT: 'eighty', LOG_FORMAT: 'fancy' }, 2, /^Callwright cannot start: PORT: .*; LOG_FORMAT: .*\(set in \.env or the environment\)\.$/);
});
