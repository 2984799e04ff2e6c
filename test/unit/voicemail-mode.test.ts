import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VoicemailMode, voicemailInstructions, type VoicemailOptions } from '../../src/bridge/voicemail-mode.js';

const FRAME = 160;

function toneFrames(hz: number, ms: number): Int16Array[] {
  const out: Int16Array[] = [];
  for (let f = 0; f < ms / 20; f++) {
    const pcm = new Int16Array(FRAME);
    for (let i = 0; i < FRAME; i++) pcm[i] = Math.round(9000 * Math.sin((2 * Math.PI * hz * (f * FRAME + i)) / 8000));
    out.push(pcm);
  }
  return out;
}

/** Loud, many-frequency audio (a stand-in for the greeting's speech). */
function talkFrames(ms: number): Int16Array[] {
  const out: Int16Array[] = [];
  for (let f = 0; f < ms / 20; f++) {
    const pcm = new Int16Array(FRAME);
    for (let i = 0; i < FRAME; i++) {
      const t = (f * FRAME + i) / 8000;
      pcm[i] = Math.round(3000 * (Math.sin(2 * Math.PI * 150 * t) + Math.sin(2 * Math.PI * 450 * t) + Math.sin(2 * Math.PI * 1100 * t)));
    }
    out.push(pcm);
  }
  return out;
}

const quiet = (ms: number) => Array.from({ length: ms / 20 }, () => new Int16Array(FRAME));

function harness(o: Partial<VoicemailOptions> = {}) {
  const said: string[] = [];
  const hungUp: string[] = [];
  const events: Array<[string, Record<string, unknown>]> = [];
  const vm = new VoicemailMode(
    { action: 'leave-message', message: 'Please call Raju back.', silenceMs: 1000, beepTimeoutMs: 5000, ...o },
    { record: (t, d) => events.push([t, d]), speakThenHangUp: (i) => said.push(i), hangUp: (d) => hungUp.push(d) },
  );
  const feed = (frames: Int16Array[]) => frames.forEach((f) => vm.hear(f));
  const trigger = () => events.find(([t]) => t === 'voicemail.message')?.[1].trigger;
  return { vm, said, hungUp, feed, trigger, close: () => vm.close() };
}

test('hangup plans and faxes hang up; leave-message waits for the beep', () => {
  assert.equal(harness({ action: 'hangup' }).vm.begin('machine_start'), false);
  const h = harness();
  assert.equal(h.vm.begin('fax'), false);
  assert.equal(h.vm.begin('machine_start'), true);
  h.feed(talkFrames(2000));
  assert.equal(h.said.length, 0, 'not over the greeting');
  h.feed(toneFrames(1000, 400));
  assert.equal(h.said.length, 0, 'not over the beep');
  h.feed(quiet(60));
  assert.equal(h.said.length, 1);
  assert.equal(h.trigger(), 'beep');
  assert.match(h.said[0], /word for word[\s\S]*"Please call Raju back\."/);
  h.feed(toneFrames(800, 400).concat(quiet(100)));
  assert.equal(h.said.length, 1, 'said once');
  h.close();
});

test("Twilio's machine_end_beep: at once, unless the tone is still playing", () => {
  const a = harness();
  a.vm.begin('machine_end_beep');
  assert.equal(a.trigger(), 'carrier-beep');
  a.close();
  const b = harness();
  b.feed(talkFrames(500).concat(toneFrames(1000, 300)));
  b.vm.begin('machine_end_beep');
  assert.equal(b.said.length, 0, 'the beep is still on');
  b.feed(toneFrames(1000, 100).concat(quiet(60)));
  assert.equal(b.said.length, 1);
  b.close();
});

test('a beep that ended before a late verdict counts; speech after it does not', () => {
  const a = harness();
  a.feed(talkFrames(1000).concat(toneFrames(1000, 300), quiet(100)));
  a.vm.begin('machine_start');
  assert.equal(a.trigger(), 'beep');
  a.close();
  const b = harness();
  b.feed(talkFrames(1000).concat(toneFrames(1000, 300), quiet(100), talkFrames(500)));
  b.vm.begin('machine_start');
  assert.equal(b.said.length, 0);
  b.close();
});

test('no beep: the message starts after silenceMs of quiet following the greeting', () => {
  const h = harness({ message: undefined, instructions: 'ask for a call back' });
  h.vm.begin('machine_start');
  h.feed(talkFrames(1500).concat(quiet(980)));
  assert.equal(h.said.length, 0);
  h.feed(quiet(20));
  assert.equal(h.trigger(), 'silence');
  assert.match(h.said[0], /Leave this message: ask for a call back/);
  h.close();
});

test('neither beep nor silence within beepTimeoutMs: hang up without a message', async () => {
  const h = harness({ beepTimeoutMs: 60 });
  h.vm.begin('machine_start');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(h.said.length, 0);
  assert.equal(h.hungUp.length, 1);
  assert.match(h.hungUp[0], /no beep/);
});

test('voicemailInstructions composes from the call when no text is given', () => {
  assert.match(voicemailInstructions({ action: 'leave-message' }), /who you are, on whose behalf you are calling, and why/);
});

test('while a person is being talked to no frame is analysed; a later machine verdict listens again', () => {
  const h = harness();
  h.vm.listen(false);
  h.feed(toneFrames(1000, 300).concat(quiet(100)));
  h.vm.begin('machine_start');
  assert.equal(h.said.length, 0, 'the tone heard while idle does not count');
  h.feed(talkFrames(500).concat(toneFrames(1000, 300), quiet(60)));
  assert.equal(h.trigger(), 'beep');
  h.close();
});

test('hangup plan listening first (an early verdict): hangs up at the end of the greeting or at mailbox words, never speaks; a screener cancels the wait', () => {
  const h = harness({ action: 'hangup', message: undefined });
  assert.equal(h.vm.begin('machine_start', true), true);
  assert.equal(h.vm.waitingUnder, 'machine_start');
  h.feed(talkFrames(1500).concat(toneFrames(1000, 400), quiet(60)));
  assert.deepEqual(h.said, [], 'no message with a hangup plan');
  assert.equal(h.hungUp.length, 1);
  assert.match(h.hungUp[0], /greeting is over \(beep\)/);

  const words = harness({ action: 'hangup', message: undefined });
  words.vm.begin('machine_start', true);
  words.feed(talkFrames(1000));
  words.vm.mailboxHeard();
  assert.match(words.hungUp[0] ?? '', /mailbox/);

  const screener = harness({ action: 'hangup', message: undefined, beepTimeoutMs: 60 });
  screener.vm.begin('machine_start', true);
  assert.equal(screener.vm.cancel(), 'machine_start');
  assert.equal(screener.vm.waiting, false);
  screener.feed(talkFrames(500).concat(quiet(2000)));
  assert.deepEqual(screener.hungUp, [], 'a cancelled wait neither hangs up nor speaks');
  screener.close();
});
