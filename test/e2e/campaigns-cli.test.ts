/** `callwright campaigns …` run as a child process (bin/callwright.js) against the real server and the simulators. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { at, runCli } from './cli-process.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withStack, until } from './helpers.js';

const cwd = mkdtempSync(join(tmpdir(), 'callwright-cli-campaigns-'));
const cli = (args: string[]) => runCli(args, {}, cwd);

test('callwright campaigns create from a CSV file, list, show, pause, resume, export; a bad row exits 2 naming it', async () => {
  // The first callee stays on the line until the test hangs up, so the campaign is surely mid-call when it is paused.
  const script = (p: { To: string }) => (p.To === '+14155550151' ? { steps: [{ say: 'Hello?' }, { pauseMs: 60_000 }] } : { steps: [{ say: 'Hello?' }, { pauseMs: 300 }, { hangup: true as const }] });
  await withStack({ env: { CAMPAIGN_TICK_MS: '40' }, script }, async (stack) => {
    const bad = join(cwd, 'bad.csv');
    writeFileSync(bad, 'phone,name\n+14155550151,Ann\n12345,Bob\n');
    const refused = await cli(['campaigns', 'create', '--name', 'Bad', '--csv', bad, '--instructions', 'Hi {{name}}', ...at(stack)]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /csv: row 2 \(line 3\), column "phone"/);

    const good = join(cwd, 'good.csv');
    writeFileSync(good, 'phone,name\n+14155550151,Ann\n+14155550152,Bob\n');
    const created = await cli(['campaigns', 'create', '--name', 'Reminders', '--csv', good, '--instructions', 'Remind {{name}}.', '--concurrency', '1', ...at(stack)]);
    assert.equal(created.code, 0, created.stderr);
    const id = /^Campaign ([0-9a-f-]{36}) started: 2 numbers, 1 at a time$/m.exec(created.stdout)?.[1];
    assert.ok(id, created.stdout);

    await until('first dial', () => stack.twilio.calls.length === 1);
    const paused = await cli(['campaigns', 'pause', id, ...at(stack)]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /paused: /);
    assert.equal((await cli(['campaigns', 'pause', id, ...at(stack)])).code, 2, 'a paused campaign cannot be paused again (409)');
    const first = await until('first number on its call', async () => (await stack.api('GET', `/api/campaigns/${id}`)).body.numbers[0].callId);
    assert.equal((await stack.api('POST', `/api/calls/${first}/hangup`)).status, 200);
    await until('first number done', async () => (await stack.api('GET', `/api/campaigns/${id}`)).body.progress.done === 1);
    assert.equal(stack.twilio.calls.length, 1, 'nothing dialled while paused');
    assert.equal((await cli(['campaigns', 'resume', id, ...at(stack)])).code, 0);
    await until('completed', async () => (await stack.api('GET', `/api/campaigns/${id}`)).body.status === 'completed', 20_000);

    const list = await cli(['campaigns', 'list', ...at(stack)]);
    assert.match(list.stdout, new RegExp(`${id}\\s+Reminders\\s+completed\\s+2/2 done \\(2 answered\\), 0 on a call, 0 waiting`));
    const show = await cli(['campaigns', 'show', id, ...at(stack)]);
    assert.match(show.stdout, /1\s+\+14155550151\s+done\s+answered\s+1/);
    const json = JSON.parse((await cli(['campaigns', 'show', id, '--json', ...at(stack)])).stdout);
    assert.equal(json.numbers[1].variables.name, 'Bob');

    const out = join(cwd, 'results.csv');
    const exported = await cli(['campaigns', 'export', id, '--out', out, ...at(stack)]);
    assert.equal(exported.code, 0, exported.stderr);
    const lines = readFileSync(out, 'utf8').trim().split('\r\n');
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, /^1,\+14155550151,Ann,done,answered,1,user-hangup,/);
    assert.match(lines[2]!, /^2,\+14155550152,Bob,done,answered,1,callee-hangup,/);
    assert.equal((await cli(['campaigns', 'show', '00000000-0000-4000-8000-000000000000', ...at(stack)])).code, 5);
  });
});
