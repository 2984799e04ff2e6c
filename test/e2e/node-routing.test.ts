/**
 * Multi-node mode's carrier URLs (src/cluster/node-urls.ts): with NODE_ID and DATABASE_URL set, a call's
 * webhooks and media stream are addressed to its node under /n/<node id>, served there with signatures
 * checked against that exact URL; another node's prefix is refused as misdirected; carrier routes stay
 * exempt from the API rate limit under the prefix. One node's URLs are as they always were.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import { withStack, FULL_CONVERSATION } from './helpers.js';
import { SIM_AUTH_TOKEN } from '../sim/stack.js';
import { freshPostgresDatabase, TEST_DATABASE_URL } from '../store-backends.js';
import { openPostgresStore } from '../../src/store/sql/sql-store.js';
import { CallsRepo, newCallRow } from '../../src/store/calls-repo.js';

const PG = TEST_DATABASE_URL ? undefined : 'PostgreSQL: TEST_DATABASE_URL is not set (multi-node mode needs DATABASE_URL)';
const post = (url: string, params: Record<string, string>, signed = true) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(signed ? { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(SIM_AUTH_TOKEN, url, params) } : {}) },
    body: new URLSearchParams(params).toString(),
  });

test('multi-node mode: a call is addressed to its node (/n/<id>/ webhooks and stream, signatures verified there) and completes', { skip: PG }, async () => {
  const db = await freshPostgresDatabase();
  try {
    await withStack({ env: { NODE_ID: 'node-x', DATABASE_URL: db.url, INBOUND: 'assistant' }, scenario: () => FULL_CONVERSATION.scenario, script: () => FULL_CONVERSATION.script }, async (stack) => {
      const id = await stack.placeCall();
      const call = await stack.waitForEnd(id, 30_000);
      assert.equal(call.endReason, 'agent-hangup');
      const leg = stack.twilio.calls[0]!;
      const prefix = `${stack.baseUrl}/n/node-x/twilio/`;
      assert.ok(leg.params.Url!.startsWith(`${prefix}voice?callId=`), leg.params.Url);
      assert.ok(leg.params.StatusCallback!.startsWith(`${prefix}status?callId=`), leg.params.StatusCallback);
      const stream = leg.log.find((e) => e.type === 'stream-connecting') as { url?: string } | undefined;
      assert.equal(stream?.url, `${prefix.replace(/^http/, 'ws')}media`);
      // The number's own webhook (no node) is still served at the root, and its TwiML streams to this node.
      const inbound = await post(`${stack.baseUrl}/twilio/voice`, { CallSid: 'CA' + '1'.repeat(32), From: '+14155550199', To: '+14155550100', Direction: 'inbound' });
      assert.equal(inbound.status, 200);
      const twiml = await inbound.text();
      assert.match(twiml, /url="ws:\/\/127\.0\.0\.1:\d+\/n\/node-x\/twilio\/media"/);
    });
  } finally {
    await db.drop();
  }
});

test('multi-node mode: another node\'s prefix is refused as misdirected (421, naming both), carrier routes under the prefix are never rate limited, and the number\'s status callback for another node\'s call is left to it', { skip: PG }, async () => {
  const db = await freshPostgresDatabase();
  try {
    await withStack({ env: { NODE_ID: 'node-x', DATABASE_URL: db.url, RATE_LIMIT_PER_MINUTE: '5' } }, async (stack) => {
      const wrong = await post(`${stack.baseUrl}/n/node-y/twilio/status?callId=x`, { CallSid: 'CA' + '0'.repeat(32) });
      assert.equal(wrong.status, 421);
      assert.match(((await wrong.json()) as { error: { message: string } }).error.message, /for node node-y, but this is node node-x/);
      for (let i = 0; i < 12; i++) assert.equal((await post(`${stack.baseUrl}/n/node-x/twilio/status?callId=x`, { CallSid: 'CA' + '0'.repeat(32) }, false)).status, 403);
      // A signed callback under the prefix verifies against the prefixed URL: accepted (an unknown call is dropped).
      assert.equal((await post(`${stack.baseUrl}/n/node-x/twilio/status?callId=x`, { CallSid: 'CA' + '0'.repeat(32), CallStatus: 'ringing' })).status, 204);
      // The number's status callback (at the root, any node) for a call node-y holds: left to node-y.
      const store = await openPostgresStore(db.url, { max: 1 });
      try {
        const theirs = new CallsRepo(store, { nodeId: 'node-y' });
        const sid = 'CA' + '7'.repeat(32);
        const fields = { to: '+14155550123', from: '+14155550100', clientId: null, clientName: null, instructions: 'Take a message', provider: 'openai', carrier: 'twilio', carrierCallId: sid, direction: 'inbound' } as const;
        const row = { ...newCallRow(fields, new Date()), status: 'talking' as const };
        theirs.insert(row);
        await theirs.settled();
        assert.equal((await post(`${stack.baseUrl}/twilio/status`, { CallSid: sid, CallStatus: 'completed', CallDuration: '5' })).status, 204);
        const after = (await stack.api('GET', `/api/calls/${row.id}`)).body;
        assert.equal(after.status, 'talking', "another node's call is not ended by a callback that reached this node");
        assert.equal(((await stack.api('GET', `/api/calls/${row.id}/events`)).body as string).includes('carrier.status'), false);
      } finally {
        await store.close();
      }
    });
  } finally {
    await db.drop();
  }
});

test('one node (no NODE_ID): the carrier URLs are PUBLIC_URL/twilio/... as before, and /n/... is not served', async () => {
  // NODE_ID empty: unset, also where TEST_STORE=postgres would otherwise make the stack a named node.
  await withStack({ scenario: () => FULL_CONVERSATION.scenario, script: () => FULL_CONVERSATION.script, env: { NODE_ID: '' } }, async (stack) => {
    const id = await stack.placeCall();
    await stack.waitForEnd(id, 30_000);
    assert.ok(stack.twilio.calls[0]!.params.Url!.startsWith(`${stack.baseUrl}/twilio/voice?callId=`));
    assert.equal((await post(`${stack.baseUrl}/n/node-x/twilio/status?callId=x`, { CallSid: 'CA' + '0'.repeat(32) })).status, 404);
  });
});
