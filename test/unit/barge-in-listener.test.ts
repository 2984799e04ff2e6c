import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BargeInListener, type Cut } from '../../src/bridge/barge-in-listener.js';
import { DEFAULT_BARGE_IN } from '../../src/bridge/barge-in.js';
import type { FrameHeard, VoiceActivityDetector } from '../../src/media/voice-activity.js';

/**
 * A detector whose "speech" is any frame with a non-zero first sample. `deferred`: frames are heard only
 * when release() is called (as the VAD worker answers a batch later), otherwise at once.
 */
class ScriptedVad implements VoiceActivityDetector {
  speaking = false;
  readonly onsetMs = 96;
  private waiting: Array<[boolean, FrameHeard]> = [];
  constructor(private readonly deferred: boolean) {}
  pushFrame(pcm8k: Int16Array, heard: FrameHeard): void {
    const speech = pcm8k[0] !== 0;
    if (this.deferred) this.waiting.push([speech, heard]);
    else this.hear(speech, heard);
  }
  release(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const [speech, heard] of w) this.hear(speech, heard);
  }
  private hear(speech: boolean, heard: FrameHeard): void {
    const change = speech === this.speaking ? undefined : speech ? 'started' : 'stopped';
    this.speaking = speech;
    heard(change, speech);
  }
  drain(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {}
}

/** Runs a script of frames (speech, agent talking) through a listener; returns the frames heard when each cut came. */
function cutsFor(vad: ScriptedVad, script: Array<[boolean, boolean]>, releaseEvery: number): Array<[number, Cut]> {
  const cuts: Array<[number, Cut]> = [];
  let pushed = 0;
  const ears = new BargeInListener({ ...DEFAULT_BARGE_IN, vad, carriedOn: () => undefined, cut: (c) => cuts.push([pushed, c]) });
  const speech = new Int16Array(160).fill(3000);
  const silence = new Int16Array(160);
  for (const [talk, agent] of script) {
    ears.hear(talk ? speech : silence, agent);
    pushed++;
    if (pushed % releaseEvery === 0) vad.release();
  }
  vad.release();
  return cuts;
}

test('barge-in listener: frames heard late (up to hundreds in flight) are judged with what was true when each came', () => {
  // The callee talks over a silent agent (a turn: no cut), then over the agent's audio twice (cuts),
  // with silences between; flags change while frames are in flight.
  const script: Array<[boolean, boolean]> = [];
  const run = (n: number, talk: boolean, agent: boolean) => {
    for (let i = 0; i < n; i++) script.push([talk, agent]);
  };
  run(60, true, false);
  run(30, false, false);
  run(70, true, true);
  run(40, false, true);
  run(20, false, false);
  run(90, true, true);
  const atOnce = cutsFor(new ScriptedVad(false), script, 1);
  assert.equal(atOnce.length, 2, 'two cuts, both while the agent talks');
  // 300 frames in flight at the end (past the listener's first ring of 64), 7 per answer elsewhere.
  for (const every of [7, 300]) {
    const late = cutsFor(new ScriptedVad(true), script, every);
    assert.deepEqual(
      late.map(([, c]) => c),
      atOnce.map(([, c]) => c),
      `released every ${every} frames`,
    );
  }
});
