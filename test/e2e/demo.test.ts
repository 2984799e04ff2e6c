import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The README's "see a call without any account" command, run as a newcomer would.
test('npm run demo places a simulated call and shows its live transcript', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-demo-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--exit'], { env: { ...process.env, DEMO_DATA_DIR: dataDir, NO_COLOR: '1' }, encoding: 'utf8', timeout: 90_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /status: talking/);
  assert.match(out, /Callee: Hello, Spice Garden/);
  // The greeting follows the product's rules (DISCLOSE_AI and the recording notice are on by default).
  assert.match(out, /Agent: +Hi! I'm an AI assistant calling on behalf of Raju Kumar, and this call is recorded\. I'd like/);
  // The web UI's link comes before the call is placed, so the call can be watched live.
  const ui = /Web UI \(open it now to watch the call live\): (http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/.exec(out);
  assert.ok(ui && out.indexOf(ui[0]) < out.indexOf('POST /api/calls '), out);
  // With --exit the server is gone at the end: nothing after the call points at it.
  const after = out.slice(out.indexOf('status: ended'));
  assert.doesNotMatch(after, /https?:\/\//, 'no dead URL after --exit');
  assert.match(after, /The demo server has stopped \(--exit\)/);
  assert.match(out, /\[interrupted after \d\.\d s\]/);
  assert.match(out, /food-preferences\.md: 1 chunk\(s\), embedded: true/);
  assert.match(out, /looked up "spice level": food-preferences\.md: "Food preferences Spice level: medium\./);
  assert.match(out, /tool: end_call/);
  assert.match(out, /status: ended \(agent-hangup\)/);
  assert.match(out, /total +\$0\.\d+/);
  assert.match(out, /Outcome: achieved/);
  assert.match(out, /pickupTime: 7:00 pm {2}\(callee: "Okay, one chicken biryani, that's \$12\.99, ready at 7:00 pm under Raju\."\)/);
  assert.equal(readdirSync(join(dataDir, 'transcripts')).length, 1);
  assert.equal(readdirSync(join(dataDir, 'recordings')).length, 1);
});

// `--scenario menu`: a phone menu answers; the agent presses through it without a word, then talks to a person.
test('npm run demo -- --scenario menu presses through a two-level phone menu to a person', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-demo-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--exit', '--scenario', 'menu'], { env: { ...process.env, DEMO_DATA_DIR: dataDir, NO_COLOR: '1' }, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /mode: menu \(menu-/);
  assert.match(out, /Callee: For billing, press 1\.[\s\S]*menu prompt ended[\s\S]*Agent pressed 2[\s\S]*Callee: Subscriptions\.[\s\S]*Agent pressed 2/);
  assert.match(out, /mode: talking \(person-answered\)[\s\S]*Agent: +Hi Sam\. I'm an AI assistant calling on behalf of Raju Kumar, and this call is recorded\./);
  assert.doesNotMatch(out.slice(0, out.indexOf('person-answered')), /Agent: /, 'nothing said to the menu');
  assert.match(out, /status: ended \(agent-hangup\)/);
});

// `--scenario hold`, on both engines: silent on hold (music, announcements), one reminder when a person is back.
for (const engine of ['openai', 'gemini', 'cascade']) {
  test(`npm run demo -- --scenario hold --engine ${engine}: silent on hold, then the person's every line is heard`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'callwright-demo-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--exit', '--scenario', 'hold', '--engine', engine], { env: { ...process.env, DEMO_DATA_DIR: dataDir, NO_COLOR: '1' }, encoding: 'utf8', timeout: 150_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /mode: on-hold \(asked\)[\s\S]*on hold, heard: a person[\s\S]*mode: talking \(person-returned\)[\s\S]*Agent: +Hi Sam/);
    const onHold = out.slice(out.indexOf('mode: on-hold'), out.indexOf('person-returned'));
    assert.doesNotMatch(onHold.slice(onHold.indexOf('\n', onHold.indexOf("Sure, I'll hold")) + 1), /Agent: /, 'nothing said on hold after the acknowledgement');
    // The caller's last line, after the hold, is transcribed (and is where the outcome's facts come from).
    assert.match(out, /Callee: Okay, one chicken biryani, that's \$12\.99, ready at 7:00 pm under Raju\./);
    if (engine !== 'gemini') assert.match(out, /Callee: Thanks for holding, this is Sam\./);
    assert.match(out, /status: ended \(agent-hangup\)/);
    assert.match(out, /pickupTime: 7:00 pm/);
  });
}

// `--engine cascade`: the same order on the cascaded engine, its outcome extracted by its own LLM settings.
test('npm run demo -- --engine cascade: the order call on the cascade, barge-in cut to the words heard', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callwright-demo-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--exit', '--engine', 'cascade'], { env: { ...process.env, DEMO_DATA_DIR: dataDir, NO_COLOR: '1' }, encoding: 'utf8', timeout: 90_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /talking to simulated Twilio and speech-to-text, LLM and text-to-speech \(the cascade\) services/);
  assert.match(out, /Callee: Hello, Spice Garden/);
  assert.match(out, /Agent: +Hi! I'm an AI assistant calling on behalf of Raju Kumar, and this call is recorded\. I'd like/);
  assert.match(out, /callee barged in: Twilio buffer cleared, the rest of the agent's turn dropped, its context cut to the words heard/);
  assert.match(out, /\[interrupted after \d\.\d s\]/);
  assert.match(out, /looked up "spice level": food-preferences\.md/);
  assert.match(out, /status: ended \(agent-hangup\)/);
  assert.match(out, /Outcome: achieved/);
  assert.match(out, /pickupTime: 7:00 pm/);
});

test('npm run demo -- --engine with an unknown engine names the ones there are', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--exit', '--engine', 'whisper'], { env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown engine "whisper": use one of openai, gemini, cascade/);
});
