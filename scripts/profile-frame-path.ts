/**
 * CPU per frame of the carrier-side frame path, in process: an inbound media frame through the media
 * socket handler, and an agent chunk out with its mark echoed back (tracker push, media and mark built,
 * echo parsed, tracker onMark). The root of a checkout may be given to compare two versions.
 *
 *   node --import tsx scripts/profile-frame-path.ts [ROOT]
 */
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
const { handleMediaSocket } = await import(`${root}/src/telephony/twilio/media-connection.ts`);
const { PlayoutTracker } = await import(`${root}/src/media/playout-tracker.ts`);
const { AudioChunk } = await import(`${root}/src/media/audio-chunk.ts`);
const { buildMedia, buildMark } = await import(`${root}/src/telephony/twilio/media-stream.ts`);
const pino = (await import(`${root}/node_modules/pino/pino.js`)).default;
const SID = 'MZ' + '0123456789abcdef'.repeat(2);
const payload = Buffer.from(Uint8Array.from({ length: 160 }, (_, i) => (i * 37) & 255)).toString('base64');
let tracker = new PlayoutTracker({ chunkMs: 40, markPrefix: 's1m' });
let audioBytes = 0;
let sink = 0;
const handler = { onAudio: (a: any) => (audioBytes += a.length), onMark: (n: string) => tracker.onMark(n), onDtmf: () => undefined, onStreamEnd: () => undefined };
const socket = Object.assign(new EventEmitter(), { OPEN: 1, readyState: 1, bufferedAmount: 0, send: (s: string) => (sink += s.length), close: () => undefined, terminate: () => undefined });
handleMediaSocket(socket as never, () => handler, pino({ level: 'silent' }));
socket.emit('message', Buffer.from(JSON.stringify({ event: 'start', sequenceNumber: '1', start: { streamSid: SID, accountSid: 'AC1', callSid: 'CA1', customParameters: { callId: 'c1', secret: 's' }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } }, streamSid: SID })), false);
const N = 200_000;
let seq = 2;
const inbound = () => socket.emit('message', Buffer.from(`{"event":"media","sequenceNumber":"${seq++}","media":{"track":"inbound","chunk":"${seq}","timestamp":"${seq * 20}","payload":"${payload}"},"streamSid":"${SID}"}`), false);
const chunk = AudioChunk.fromBase64(payload);
const outbound = () => {
  for (const c of tracker.push('item', chunk)) {
    socket.send(buildMedia(SID, c.audio));
    socket.send(buildMark(SID, c.mark));
    socket.emit('message', Buffer.from(`{"event":"mark","sequenceNumber":"${seq++}","streamSid":"${SID}","mark":{"name":"${c.mark}"}}`), false);
  }
};
function run(name: string, fn: () => void) {
  for (let i = 0; i < 20_000; i++) fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) fn();
  const c = process.cpuUsage(c0);
  console.log(`${name}: ${((c.user + c.system) / N).toFixed(2)} µs CPU per frame`);
}
for (let r = 0; r < 3; r++) {
  run('inbound media frame', inbound);
  run('outbound chunk + mark echo', outbound);
}
console.log(audioBytes > 0 && sink > 0);
