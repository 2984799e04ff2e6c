/**
 * The baseline: the least a Twilio <-> OpenAI Realtime bridge can do, in a process of its own, so that a
 * ratio to it holds across machines where an absolute figure does not. It follows the shape of Twilio's
 * published Node sample (speech-assistant-openai-realtime-api-node): JSON in and out, one model socket per
 * call, audio/pcmu both ways untouched, a mark after every audio delta. It has the same REST path as the
 * product (POST /api/calls -> Calls.json, TwiML with <Parameter>, status and AMD callbacks) but no
 * database, no logging, no signature checks, no VAD, no records: everything it costs, the product costs too.
 *
 * Env: PORT, CARRIER_URL, MODEL_URL, ACCOUNT_SID, AUTH_TOKEN, API_TOKEN.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';

const env = process.env;
const port = Number(env.PORT);
const base = `http://127.0.0.1:${port}`;
const calls = new Map<string, { instructions: string }>();
const carrierAuth = 'Basic ' + Buffer.from(`${env.ACCOUNT_SID}:${env.AUTH_TOKEN}`).toString('base64');

const read = (req: http.IncomingMessage) =>
  new Promise<string>((resolve) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => resolve(b));
  });

const server = http.createServer(async (req, res) => {
  const body = await read(req);
  const path = (req.url ?? '').split('?')[0];
  if (req.method === 'GET' && path === '/healthz') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
  if (req.method === 'POST' && path === '/api/calls') {
    if (req.headers.authorization !== `Bearer ${env.API_TOKEN}`) return void res.writeHead(401).end();
    const { to, instructions } = JSON.parse(body) as { to: string; instructions: string };
    const id = randomUUID();
    calls.set(id, { instructions });
    const form = new URLSearchParams({ To: to, From: '+14155550100', Url: `${base}/twiml/${id}`, StatusCallback: `${base}/status/${id}`, AsyncAmd: 'true', AsyncAmdStatusCallback: `${base}/amd/${id}` });
    const r = await fetch(`${env.CARRIER_URL}/2010-04-01/Accounts/${env.ACCOUNT_SID}/Calls.json`, { method: 'POST', headers: { Authorization: carrierAuth, 'Content-Type': 'application/x-www-form-urlencoded' }, body: form });
    await r.text();
    return void res.writeHead(r.status === 201 ? 201 : 502, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id }));
  }
  if (req.method === 'POST' && path.startsWith('/twiml/')) {
    const id = path.slice(7);
    res.writeHead(200, { 'Content-Type': 'text/xml' });
    return void res.end(`<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="ws://127.0.0.1:${port}/media"><Parameter name="callId" value="${id}"/></Stream></Connect></Response>`);
  }
  if (req.method === 'POST' && (path.startsWith('/status/') || path.startsWith('/amd/'))) {
    if (path.startsWith('/status/') && new URLSearchParams(body).get('CallStatus') === 'completed') calls.delete(path.slice(8));
    return void res.writeHead(204).end();
  }
  res.writeHead(404).end();
});

const wss = new WebSocketServer({ server, path: '/media' });
wss.on('connection', (carrier) => {
  let streamSid = '';
  let model: WebSocket | undefined;
  let ready = false;
  let marks = 0;
  carrier.on('message', (data) => {
    const msg = JSON.parse(String(data));
    if (msg.event === 'media') {
      // As the product does: caller audio goes to the model as soon as its socket is open.
      if (model?.readyState === WebSocket.OPEN) model.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: msg.media.payload }));
    } else if (msg.event === 'start') {
      streamSid = msg.start.streamSid;
      const call = calls.get(msg.start.customParameters.callId);
      model = new WebSocket(`${env.MODEL_URL}?model=gpt-realtime`, { headers: { Authorization: 'Bearer sk-bench' } });
      model.on('open', () =>
        model!.send(JSON.stringify({ type: 'session.update', session: { type: 'realtime', instructions: call?.instructions ?? '', audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } } } })),
      );
      model.on('message', (d) => {
        const ev = JSON.parse(String(d));
        if (ev.type === 'response.output_audio.delta') {
          carrier.send(JSON.stringify({ event: 'media', streamSid, media: { payload: ev.delta } }));
          carrier.send(JSON.stringify({ event: 'mark', streamSid, mark: { name: `m${++marks}` } }));
        } else if (ev.type === 'session.updated' && !ready) {
          ready = true;
          model!.send(JSON.stringify({ type: 'response.create' }));
        }
      });
      model.on('error', () => undefined);
    } else if (msg.event === 'stop') {
      model?.close();
    }
  });
  carrier.on('close', () => model?.close());
  carrier.on('error', () => undefined);
});

server.listen(port, '127.0.0.1', () => process.stdout.write(`passthrough bridge listening on ${base}\n`));
process.on('SIGTERM', () => process.exit(0));
