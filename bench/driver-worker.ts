/**
 * Runs one load driver (the Twilio side or the OpenAI side) on its own thread, so that each driver's
 * event loop carries half the load and adds less of its own delay to what is measured.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { DirectionMeter, GeminiDriver, RealtimeDriver, TwilioDriver, FRAME_MS, type SharedMeter } from './drivers.js';

interface Data {
  kind: 'twilio' | 'realtime' | 'gemini';
  /** The engine side the calls use: decides how frames are matched (see DirectionMeter). */
  engine: 'openai' | 'gemini';
  shared: SharedMeter;
  accountSid: string;
  authToken: string;
}

const data = workerData as Data;
const port = parentPort!;
// The Twilio side sends caller audio (inbound) and receives agent audio (outbound); the OpenAI side the reverse.
const send = new DirectionMeter(data.shared, data.kind === 'twilio' ? 'inbound' : 'outbound');
const recv = new DirectionMeter(data.shared, data.kind === 'twilio' ? 'outbound' : 'inbound');
let k = 0;
// Spread frame phases across calls, as real calls are.
const staggerMs = () => (k++ * 7.31) % FRAME_MS;

const driver =
  data.kind === 'twilio'
    ? await TwilioDriver.start({ accountSid: data.accountSid, authToken: data.authToken, send, recv, staggerMs, ordinal: data.engine === 'gemini' })
    : data.kind === 'gemini'
      ? await GeminiDriver.start({ send, recv, staggerMs })
      : await RealtimeDriver.start({ send, recv, staggerMs });
const loop = monitorEventLoopDelay({ resolution: 1 });
const cpu0 = { v: process.cpuUsage(), elu: performance.eventLoopUtilization() };

port.on('message', async (msg: { cmd: string }) => {
  if (msg.cmd === 'status') {
    port.postMessage({ streaming: driver instanceof TwilioDriver ? driver.streaming : driver.sessions, errors: driver instanceof TwilioDriver ? driver.errors.slice(0, 3) : [] });
  } else if (msg.cmd === 'record') {
    recv.received = 0;
    recv.latenciesMs = [];
    loop.reset();
    loop.enable();
    cpu0.v = process.cpuUsage();
    cpu0.elu = performance.eventLoopUtilization();
    port.postMessage({ ok: true });
  } else if (msg.cmd === 'stop') {
    loop.disable();
    // process.cpuUsage covers the whole process (all threads); utilisation is this thread's own.
    const cpu = process.cpuUsage(cpu0.v);
    const elu = performance.eventLoopUtilization(cpu0.elu).utilization;
    driver.stopSending();
    await new Promise((r) => setTimeout(r, 1000)); // frames in flight arrive before counting
    port.postMessage({ received: recv.received, latenciesMs: recv.latenciesMs, loopDelayP99Ms: loop.percentile(99) / 1e6, processCpuMs: (cpu.user + cpu.system) / 1000, utilization: elu });
  } else if (msg.cmd === 'close') {
    await driver.close();
    port.postMessage({ closed: true });
  }
});
port.postMessage({ url: driver.url });
