/**
 * `npm run demo`: the real Callwright server wired to the project's own Twilio, OpenAI Realtime and
 * embeddings and text-model simulators, uploading a note for the client, placing one simulated call through the REST
 * API and printing its live transcript from the event stream, exactly as a real call would produce it
 * (including what the agent looked up in the client's documents), then the call's outcome: the facts
 * asked for, each with the words of the transcript it came from. No accounts, keys or network needed.
 *
 *   npm run demo                    # place the call, then keep the server up to explore the API
 *   npm run demo -- --exit          # place the call and exit when it is over
 *   npm run demo -- --engine gemini # the same call on Gemini Live (audio transcoded both ways)
 *   npm run demo -- --engine cascade # the same call on the cascaded engine (VAD, speech-to-text, LLM, text-to-speech)
 *   npm run demo -- --scenario menu # a phone menu answers: the agent presses through it to a person
 *   npm run demo -- --scenario hold # put on hold: silent through music and announcements, then a person
 */
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { startStack, SIM_API_TOKEN, type Engine } from '../test/sim/stack.js';
import { dtmfSentText } from '../src/shared/dtmf-text.js';
import { DEMO_SCENARIOS } from './demo-scenarios.js';
import { disclosureSentence } from '../src/calls/prompt.js';
import type { ServerStatus } from '../src/shared/api-types.js';

const exitAfter = process.argv.includes('--exit');
const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const ENGINE_NAMES: Record<Engine, string> = { openai: 'OpenAI Realtime', gemini: 'Gemini Live', cascade: 'speech-to-text, LLM and text-to-speech (the cascade)' };
const engineArg = arg('--engine') ?? 'openai';
if (!Object.hasOwn(ENGINE_NAMES, engineArg)) {
  console.error(`unknown engine "${engineArg}": use one of ${Object.keys(ENGINE_NAMES).join(', ')}`);
  process.exit(2);
}
const engine = engineArg as Engine;
const scenarioName = arg('--scenario') ?? 'order';
const scenario = DEMO_SCENARIOS[scenarioName];
if (!scenario) {
  console.error(`unknown scenario "${scenarioName}": use one of ${Object.keys(DEMO_SCENARIOS).join(', ')}`);
  process.exit(2);
}
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const c = (code: number, s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);

const dataDir = resolve(process.env.DEMO_DATA_DIR ?? join('data', 'demo'));
mkdirSync(dataDir, { recursive: true, mode: 0o700 });

// The server's disclosure rules, read from its status once it is up (below). Every simulator asks for the
// conversation when the call needs it (a session starts, the cascade's first request), by when this is set.
let opening = '';
const stack = await startStack({
  dataDir,
  port: process.env.DEMO_PORT ? Number(process.env.DEMO_PORT) : undefined,
  msPerChar: 45,
  engine,
  embeddings: 'openai',
  // The cascade's outcome comes from its own LLM, as OUTCOME_PROVIDER=auto does on a local set-up.
  outcome: engine === 'cascade' ? 'llm' : 'openai',
  script: () => scenario.script,
  conversation: () => scenario.conversation(engine, opening),
});
const auth = { Authorization: `Bearer ${SIM_API_TOKEN}` };
// The simulated agent greets as the product's prompt tells a real model to, under this server's settings.
const status = (await (await fetch(`${stack.baseUrl}/api/status`, { headers: auth })).json()) as ServerStatus;
opening = disclosureSentence('Raju Kumar', { discloseAi: status.safety.discloseAi, recordingAnnounced: status.recordCalls && status.safety.announceRecording });
const signIn = (path = '/') => `${stack.baseUrl}${path}#token=${encodeURIComponent(SIM_API_TOKEN)}`;

console.log(c(1, `Callwright demo (${scenario.title}): the real server on ${stack.baseUrl}, talking to simulated Twilio and ${ENGINE_NAMES[engine]} services.`));
console.log(`Data for this demo is kept in ${dataDir}`);
console.log(`Web UI (open it now to watch the call live): ${signIn()}\n`);
if (scenario.uploadNote) {
  const note = '# Food preferences\n\nSpice level: medium. No peanuts (allergy).\n\nUsual pickup place: Spice Garden on 5th Street.';
  const form = new FormData();
  form.append('file', new Blob([note]), 'food-preferences.md');
  const uploaded = await fetch(`${stack.baseUrl}/api/clients/raju/documents`, { method: 'POST', headers: auth, body: form });
  const doc = ((await uploaded.json()) as { documents: Array<{ file: string; chunks: number; embedded: boolean }> }).documents[0]!;
  console.log(`POST /api/clients/raju/documents  ${doc.file}: ${doc.chunks} chunk(s), embedded: ${doc.embedded}`);
}
const instructions = scenario.instructions;
console.log(`POST /api/calls  to=+14155550123  instructions="${instructions}"`);
const goal = 'Order the biryani and confirm the price and the pickup time.';
const outcomeSchema = { type: 'object', properties: { price: { type: 'string' }, pickupTime: { type: 'string' } } };
const id = await stack.placeCall({ instructions, goal, outcomeSchema });
console.log(`call ${id}: ${signIn(`/calls/${id}`)}\n`);

const t0 = Date.now();
const stamp = () => c(2, `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s]`);
const res = await fetch(`${stack.baseUrl}/api/calls/${id}/events`, { headers: { Authorization: `Bearer ${SIM_API_TOKEN}` } });
const decoder = new TextDecoder();
let buf = '';
outer: for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
  buf += decoder.decode(chunk, { stream: true });
  let i;
  while ((i = buf.indexOf('\n\n')) >= 0) {
    const block = buf.slice(0, i);
    buf = buf.slice(i + 2);
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (event === 'end') break outer;
    if (!event || !data) continue;
    const d = JSON.parse(data).data;
    if (event === 'status') console.log(stamp(), c(36, `status: ${d.status}${d.reason ? ` (${d.reason})` : ''}`));
    else if (event === 'amd') console.log(stamp(), c(36, `answered by: ${d.answeredBy}`));
    else if (event === 'transcript' && d.speaker === 'callee') console.log(stamp(), c(33, 'Callee:'), d.text);
    else if (event === 'transcript' && d.interrupted) console.log(stamp(), c(32, 'Agent: '), `${d.interrupted.heardText}${c(31, `— [interrupted after ${(d.interrupted.heardMs / 1000).toFixed(1)} s]`)}`);
    else if (event === 'transcript') console.log(stamp(), c(32, 'Agent: '), d.text);
    else if (event === 'tool.call') console.log(stamp(), c(35, `tool: ${d.name}(${JSON.stringify(d.arguments)})`));
    else if (event === 'knowledge.retrieved') console.log(stamp(), c(35, `reference for the prompt: ${d.results.map((r: { file: string }) => r.file).join(', ') || 'nothing found'}`));
    else if (event === 'knowledge.lookup') console.log(stamp(), c(35, `looked up "${d.query}": ${d.results.length ? `${d.results[0].file}: "${d.results[0].excerpt}"` : 'nothing found'}`));
    else if (event === 'agent.interrupted') console.log(stamp(), c(31, `callee barged in: Twilio buffer cleared, the rest of the agent's turn dropped${engine === 'openai' ? ', item truncated at what was heard' : engine === 'cascade' ? ', its context cut to the words heard' : ''}`));
    else if (event === 'engine.resumed') console.log(stamp(), c(36, `AI session resumed after: ${d.reason}`));
    else if (event === 'mode.changed' && d.to !== 'ending') console.log(stamp(), c(36, `mode: ${d.to} (${d.reason})`));
    else if (event === 'menu.prompt') console.log(stamp(), c(36, 'menu prompt ended: the agent chooses'));
    else if (event === 'dtmf.sent') console.log(stamp(), c(35, `Agent ${dtmfSentText(d)}`));
    else if (event === 'menu.stuck') console.log(stamp(), c(31, `menu stuck (${d.why})`));
    else if (event === 'menu.operator') console.log(stamp(), c(35, `operator route: ${d.route}`));
    else if (event === 'hold.heard') console.log(stamp(), c(2, `on hold, heard: ${d.verdict === 'person' ? 'a person' : 'an announcement'} (${d.by})`));
    else if (event === 'menu.speechDropped') console.log(stamp(), c(2, `not played to the menu: "${d.text}"`));
  }
}

const call = await stack.waitForEnd(id, 30_000);
console.log(`\n${c(1, 'Cost')} (price table ${call.cost.priceTable}):`);
const width = Math.max(...call.cost.lines.map((l: { item: string }) => l.item.length));
for (const l of call.cost.lines) console.log(`  ${l.item.padEnd(width)} ${String(l.quantity).padStart(6)} ${l.unit.padEnd(7)} $${l.amount.toFixed(6)}`);
console.log(`  ${'total'.padEnd(width + 15)} $${call.cost.total.toFixed(6)}`);
const o = call.outcome;
console.log(`\n${c(1, 'Outcome')}: ${o.status === 'computed' ? o.goalMet : `${o.status} (${o.reason})`}${o.summary ? ` - ${o.summary}` : ''}`);
for (const f of o.fields) console.log(`  ${f.name}: ${f.value ?? '(not stated)'}${f.citation ? c(2, `  (${f.citation.speaker}: "${f.citation.quote}")`) : ''}`);
console.log(`\nTranscript: ${join(dataDir, 'transcripts', `${id}.txt`)}`);
console.log(`Recording:  ${call.recording ? join(dataDir, 'recordings', `${id}.mp3`) : '(none)'}`);

if (exitAfter) {
  // The server stops here: no URL is printed that would no longer answer.
  await stack.close();
  console.log('\nThe demo server has stopped (--exit). Run `npm run demo` without --exit to explore the call in the web UI, the API and the CLI.');
  process.exit(0);
}
console.log(`API:        curl -H "Authorization: Bearer ${SIM_API_TOKEN}" ${stack.baseUrl}/api/calls/${id}`);
console.log(`CLI:        npx callwright calls show ${id} --url ${stack.baseUrl} --token ${SIM_API_TOKEN}`);
console.log(`Web UI:     ${signIn(`/calls/${id}`)}`);
console.log(c(1, `\nThe demo server keeps running on ${stack.baseUrl} (Ctrl-C to stop).`));
process.once('SIGINT', async () => {
  await stack.close();
  process.exit(0);
});
