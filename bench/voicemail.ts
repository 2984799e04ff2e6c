/**
 * Voicemail: from the end of the mailbox's beep to the first audio of the agent's message played at
 * the carrier, over calls through the server and the simulators. The verdict comes early
 * (`machine_start` at 1 s, as with `MachineDetection=Enable`), so the bridge's own beep detector has to
 * find the beep; beeps vary in pitch and length. Measured on the Twilio simulator's line clock. Also
 * checks the two promises: nothing said over the greeting, and the whole message recorded.
 */
import { startStack, type Engine } from '../test/sim/stack.js';
import { mailbox } from '../test/sim/twilio/index.js';
import { summarize } from './stats.js';

const BEEPS = [
  { hz: 440, durationMs: 250 },
  { hz: 1000, durationMs: 400 },
  { hz: 1400, durationMs: 700 },
  { hz: 1950, durationMs: 300 },
];
const MESSAGE = "Hi, this is Raju Kumar's assistant about tonight's order. Please call Raju back. Thank you!";
const WAVE = 5;

export interface VoicemailResult {
  engine: Engine;
  calls: number;
  gapsMs: number[];
  failures: string[];
}

export async function runVoicemailBench(o: { calls: number; engine: Engine }): Promise<VoicemailResult> {
  let n = 0;
  const stack = await startStack({
    engine: o.engine,
    env: { MAX_CALLS_PER_DAY: '0', VOICEMAIL_MODE: 'leave-message', VOICEMAIL_MESSAGE: MESSAGE },
    script: () => mailbox({ answeredBy: 'machine_start', amdDelayMs: 1000, greetingMs: 3000 + (n % 3) * 1000, beep: BEEPS[n++ % BEEPS.length] }),
    conversation: () => ({ turns: [{ say: MESSAGE }] }),
  });
  const gapsMs: number[] = [];
  const failures: string[] = [];
  try {
    for (let done = 0; done < o.calls; done += WAVE) {
      const ids = await Promise.all(Array.from({ length: Math.min(WAVE, o.calls - done) }, () => stack.placeCall()));
      const calls = await Promise.all(ids.map((id) => stack.waitForEnd(id, 40_000)));
      for (const c of calls) if (c.endReason !== 'voicemail-left') failures.push(`${c.id}: ended ${c.endReason}`);
    }
    for (const c of stack.twilio.calls) {
      const box = c.mailbox;
      if (!box || c.firstAgentAudioLineMs === null) failures.push(`${c.sid}: no mailbox or no message`);
      else if (box.agentMsOverGreeting > 0) failures.push(`${c.sid}: ${box.agentMsOverGreeting} ms said over the greeting`);
      else if (box.agentMsRecorded < MESSAGE.length * 60 - 40) failures.push(`${c.sid}: only ${box.agentMsRecorded} ms recorded`);
      else gapsMs.push(c.firstAgentAudioLineMs - box.recordingFromMs);
    }
  } finally {
    await stack.close();
  }
  return { engine: o.engine, calls: o.calls, gapsMs, failures };
}

/** Prints the figures; returns whether every call left the whole message after the beep. */
export function printVoicemail(r: VoicemailResult): boolean {
  const s = summarize(r.gapsMs);
  const pass = r.failures.length === 0 && s.n === r.calls;
  console.log(
    `\nvoicemail [${r.engine}]: ${r.calls} calls, machine_start at 1 s, greetings 3-5 s, beeps ${BEEPS.map((b) => `${b.hz} Hz/${b.durationMs} ms`).join(', ')}\n` +
      `  end of beep -> first message audio: p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms; nothing over the greeting, whole message recorded: ${pass ? 'PASS' : 'FAIL'}`,
  );
  for (const f of r.failures) console.log(`  ${f}`);
  return pass;
}
