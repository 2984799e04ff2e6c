/**
 * The cascade bench's carrier process: the Twilio simulator (test/sim/twilio, the same one the e2e suite
 * and the other benches play) in a process of its own. The server places each call through its REST
 * path (`POST Calls.json`) and the simulator answers and plays the callee: "Hello?", then `turns`
 * questions, each after the agent's reply has played, then it hangs up. Forked by cascade-bench.ts: sends
 * `{url}` once listening, closes when the channel does.
 */
import { startTwilioSim, type CalleeStep } from '../../test/sim/twilio/index.js';

const turns = Number(process.env.BENCH_TURNS);
const question: CalleeStep[] = [{ say: 'Could you tell me more about that?' }, { waitForAgent: true, quietMs: 300 }];
const steps: CalleeStep[] = [{ say: 'Hello?' }, { waitForAgent: true, quietMs: 300 }, ...Array.from({ length: turns }, () => question).flat(), { hangup: true }];
const twilio = await startTwilioSim({
  accountSid: process.env.BENCH_ACCOUNT_SID!,
  authToken: process.env.BENCH_AUTH_TOKEN!,
  numbers: [process.env.BENCH_FROM!],
  script: () => ({ steps }),
});
process.send!({ url: twilio.url });
process.on('disconnect', () => void twilio.close().finally(() => process.exit(0)));
