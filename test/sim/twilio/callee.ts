/**
 * The person (or machine) at the other end of the call, driven by a CalleeScript. All waits run on
 * the line clock, so a script behaves the same however loaded the test machine is.
 */
import type { CalleeScript, CalleeStep } from './types.js';
import type { Line } from './line.js';
import { TICK_MS } from './line.js';
import { beep, speech, voicemailGreeting } from './callee-audio.js';
import { holdAudio } from './hold-audio.js';
import { runMenu } from './phone-menu.js';
import { noise } from './line-noise.js';
import { clip } from './clips.js';

export const DEFAULT_SCRIPT: CalleeScript = { answeredBy: 'human', steps: [{ say: 'Hello?' }] };
const DEFAULT_WAIT_TIMEOUT_MS = 20000;
const DTMF_TONE_MS = 100;

export interface CalleeHooks {
  line: Line;
  log: (type: string, fields?: Record<string, unknown>) => void;
  hangup: () => void;
  dropSocket: () => void;
  sendRaw: (text: string) => void;
  sendDtmf: (digit: string) => void;
  /** The machine's greeting (and beep) has been spoken: the moment a real AMD would decide. */
  onGreetingDone: () => void;
  /** A `beep` step has played: a mailbox records from here. */
  onRecording: () => void;
}

export function isMachine(script: CalleeScript): boolean {
  return (script.answeredBy ?? 'human').startsWith('machine');
}

export async function runCallee(script: CalleeScript, hooks: CalleeHooks, idleHangupMs: number): Promise<void> {
  const { line } = hooks;
  const drained = (): Promise<boolean> => line.waitFor(() => line.calleeQueuedBytes === 0);

  if (isMachine(script)) {
    if (script.greetingMs !== 0) {
      line.speak(voicemailGreeting(script.greetingMs ?? 3000));
      const tone = script.beep ?? (script.answeredBy === 'machine_end_beep' ? {} : false);
      if (tone) line.speak(beep(tone.hz, tone.durationMs));
      await drained();
      if (line.isStopped) return;
    }
    hooks.log('callee-greeting-done');
    hooks.onGreetingDone();
  }

  // "The agent has spoken" means: after the callee last finished talking, so a script of
  // say / waitForAgent pairs waits for the reply to what was just said, and agent audio that the
  // callee talked over does not count as that reply.
  let lastSayEndTick = line.ticks;
  for (const [index, step] of script.steps.entries()) {
    if (line.isStopped) return;
    const kind = stepKind(step);
    hooks.log('callee-step', { index, step: kind });
    if ('say' in step || 'backchannel' in step || 'speech' in step) {
      const audio = 'say' in step ? speech(step.say, step.durationMs) : 'backchannel' in step ? clip(`backchannel-${step.backchannel}`) : clip(`speech-${step.speech}`);
      line.speak(audio);
      await drained();
      lastSayEndTick = line.ticks;
      // Media time at which the utterance's last frame went out (start of the tick that sent it + 20 ms).
      hooks.log('callee-said', { index, lineMs: line.elapsedMs, text: 'say' in step ? step.say : undefined });
    } else if ('waitForAgent' in step) {
      const since = lastSayEndTick;
      const quietTicks = Math.ceil((step.quietMs ?? 600) / TICK_MS);
      const ok = await line.waitFor(
        () => line.lastAgentPlayTick > since && line.agentIdle && line.ticks - line.lastAgentPlayTick >= quietTicks,
        step.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS,
      );
      if (!ok && !line.isStopped) hooks.log('callee-timeout', { index, step: kind });
    } else if ('waitAgentPlayedMs' in step) {
      const ok = await line.waitFor(
        () => line.agentSegmentActive && line.segmentPlayedMs >= step.waitAgentPlayedMs,
        step.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS,
      );
      if (!ok && !line.isStopped) hooks.log('callee-timeout', { index, step: kind });
    } else if ('waitForKeys' in step) {
      const ok = await line.waitFor(() => line.keysHeard >= step.waitForKeys, step.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS);
      if (!ok && !line.isStopped) hooks.log('callee-timeout', { index, step: kind });
    } else if ('menu' in step) {
      const say = async (text: string): Promise<boolean> => {
        line.speak(speech(text));
        await drained();
        lastSayEndTick = line.ticks;
        hooks.log('callee-said', { index, lineMs: line.elapsedMs, text });
        return !line.isStopped;
      };
      const end = await runMenu(step.menu, { line, say, log: hooks.log, hangup: hooks.hangup });
      if (end !== 'done') return;
    } else if ('waitForBridge' in step) {
      const ok = await line.waitFor(() => line.bridged, step.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS);
      if (!ok && !line.isStopped) hooks.log('callee-timeout', { index, step: kind });
    } else if ('beep' in step) {
      line.speak(beep(step.beep.hz, step.beep.durationMs));
      await drained();
      hooks.onRecording();
    } else if ('holdMs' in step) {
      const startMs = line.elapsedMs;
      hooks.log('callee-hold-start', { index, lineMs: startMs });
      line.speak(holdAudio(step.holdMs, step.music ?? 'chords', step.announcement, step.announceEveryMs, step.seed));
      await drained();
      lastSayEndTick = line.ticks;
      // When the agent was last heard: a silent agent on hold was last heard before (or just after) the start.
      hooks.log('callee-hold-end', { index, lineMs: line.elapsedMs, startMs, lastAgentPlayMs: line.lastAgentPlayTick * TICK_MS });
    } else if ('noise' in step) {
      // Noise is not talking: a later waitForAgent still waits for the reply to the last words.
      line.speak(noise(step.noise, step.durationMs, step.seed));
      await drained();
    } else if ('pauseMs' in step) {
      await line.waitMs(step.pauseMs);
    } else if ('until' in step) {
      await Promise.race([step.until, line.waitMs(step.timeoutMs ?? 30_000)]);
    } else if ('digits' in step) {
      for (const digit of step.digits) {
        // The event follows the tone, as Twilio reports a digit once it has been detected.
        if (!(await line.waitMs(DTMF_TONE_MS))) return;
        hooks.sendDtmf(digit);
        hooks.log('callee-dtmf', { digit });
      }
    } else if ('hangup' in step) {
      hooks.log('callee-hangup');
      hooks.hangup();
      return;
    } else if ('dropSocket' in step) {
      hooks.log('callee-drop-socket');
      hooks.dropSocket();
    } else if ('sendRaw' in step) {
      hooks.sendRaw(step.sendRaw);
    }
  }
  const limit = script.idleHangupMs ?? idleHangupMs;
  if ((await line.waitMs(limit)) && !line.isStopped) {
    hooks.log('callee-idle-hangup', { afterMs: limit });
    hooks.hangup();
  }
}

function stepKind(step: CalleeStep): string {
  return Object.keys(step)[0] ?? 'unknown';
}
