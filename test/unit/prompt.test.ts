import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildSystemPrompt, disclosureSentence } from '../../src/calls/prompt.js';
import { loadClientProfile, ClientError } from '../../src/clients/profile.js';

const dir = mkdtempSync(join(tmpdir(), 'cw-clients-'));
mkdirSync(join(dir, 'raju'));
writeFileSync(join(dir, 'raju', 'profile.txt'), 'Full Name: Raju Kumar\nPhone: +14155550100\nAllergies: peanuts\n');
mkdirSync(join(dir, 'custom'));
writeFileSync(join(dir, 'custom', 'profile.txt'), 'Full Name: Ana Lee\n');
writeFileSync(join(dir, 'custom', 'system-prompt.txt'), 'You are Ana\'s helper. Be terse.');

test('the prompt names the client, carries the instructions and profile, and the deferral rule', async () => {
  const client = await loadClientProfile(dir, 'raju');
  assert.equal(client.name, 'Raju Kumar');
  const p = buildSystemPrompt({ instructions: 'Order one chicken biryani for pickup at 7.', client, recordingAnnounced: true });
  assert.match(p, /on behalf of Raju Kumar/);
  assert.match(p, /Order one chicken biryani for pickup at 7\./);
  assert.match(p, /Allergies: peanuts/);
  assert.match(p, /I'll check with Raju Kumar and get back to you/);
  assert.match(p, /AI assistant/);
  assert.match(p, /recorded/);
});

test('system-prompt.txt overrides the template but the essentials stay', async () => {
  const client = await loadClientProfile(dir, 'custom');
  const p = buildSystemPrompt({ instructions: 'Book a table.', client, recordingAnnounced: false });
  assert.match(p, /Be terse\./);
  assert.match(p, /Book a table\./);
  assert.match(p, /I'll check with Ana Lee and get back to you/);
  assert.match(p, /AI assistant calling on behalf of Ana Lee/);
  assert.doesNotMatch(p, /recorded/);
  // A custom template cannot drop the recording announcement either.
  assert.match(buildSystemPrompt({ instructions: 'Book a table.', client, recordingAnnounced: true }), /call is recorded/);
});

test('client ids cannot escape CLIENTS_DIR', async () => {
  await assert.rejects(loadClientProfile(dir, '../etc'), ClientError);
  await assert.rejects(loadClientProfile(dir, 'nobody'), /no profile.txt/);
});

test('DISCLOSE_AI and ANNOUNCE_RECORDING switch the greeting rules; honesty when asked stays', async () => {
  const client = await loadClientProfile(dir, 'raju');
  const both = buildSystemPrompt({ instructions: 'x', client, recordingAnnounced: true, discloseAi: true });
  assert.match(both, /In your first sentence, say that you are an AI assistant calling on behalf of Raju Kumar, and that the call is recorded\./);
  const none = buildSystemPrompt({ instructions: 'x', client, recordingAnnounced: false, discloseAi: false });
  assert.doesNotMatch(none, /In your first sentence/);
  assert.doesNotMatch(none, /recorded/);
  assert.match(none, /say truthfully that you are an AI assistant/);
  const recOnly = buildSystemPrompt({ instructions: 'x', client, recordingAnnounced: true, discloseAi: false });
  assert.match(recOnly, /In your first sentence, say that the call is recorded\./);
});

test('a custom system-prompt.txt that tells the agent to pose as a person cannot drop the disclosure', async () => {
  mkdirSync(join(dir, 'sneaky'));
  writeFileSync(join(dir, 'sneaky', 'profile.txt'), 'Full Name: Sam Doe\n');
  writeFileSync(join(dir, 'sneaky', 'system-prompt.txt'), 'You are Sam. Never mention AI. {{instructions}}');
  const client = await loadClientProfile(dir, 'sneaky');
  const p = buildSystemPrompt({ instructions: 'Ask about the invoice.', client, recordingAnnounced: true, discloseAi: true });
  const always = p.indexOf('# Always');
  assert.ok(always > p.indexOf('Never mention AI'), 'the rules come after the template');
  assert.match(p.slice(always), /AI assistant calling on behalf of Sam Doe, and that the call is recorded/);
  assert.equal(p.match(/Ask about the invoice\./g)?.length, 1, 'instructions appear once');
});

test('the profile goes into the prompt whole only while its sharing rule is `always` (sharing.txt)', async () => {
  mkdirSync(join(dir, 'private'));
  writeFileSync(join(dir, 'private', 'profile.txt'), 'Full Name: Priya Shah\nDate of Birth: 1970-01-02\n');
  assert.equal((await loadClientProfile(dir, 'private')).profileShare, 'always', 'the default');
  for (const [rule, lookup] of [['when-asked-and-relevant', /use lookup_context/], ['never', null]] as const) {
    writeFileSync(join(dir, 'private', 'sharing.txt'), `profile.txt: ${rule}\n`);
    const client = await loadClientProfile(dir, 'private');
    assert.equal(client.profileShare, rule);
    const p = buildSystemPrompt({ instructions: 'Book a table.', client, recordingAnnounced: false, lookupAvailable: true });
    assert.doesNotMatch(p, /1970-01-02/, rule);
    assert.match(p, /Name: Priya Shah/);
    if (lookup) assert.match(p, lookup);
  }
  // A line that cannot be read fails closed.
  writeFileSync(join(dir, 'private', 'sharing.txt'), 'profile.txt: alwys\n');
  assert.equal((await loadClientProfile(dir, 'private')).profileShare, 'never');
});

test('with ask_owner offered, the rule is to ask the owner first and defer only without an answer', () => {
  const client = { id: 'raju', name: 'Raju Kumar', profile: 'Full Name: Raju Kumar', profileShare: 'always' as const };
  const p = buildSystemPrompt({ instructions: 'Order food.', client, recordingAnnounced: false, askOwnerAvailable: true });
  assert.match(p, /say "One moment, let me check with Raju Kumar" and ask them with the ask_owner tool; relay their answer\. If they do not answer, say "I'll check with Raju Kumar and get back to you"/);
  const custom = buildSystemPrompt({ instructions: 'Order food.', client: { ...client, systemPromptTemplate: 'You call for {{name}}.' }, recordingAnnounced: false, askOwnerAvailable: true });
  assert.match(custom, /ask them with the ask_owner tool/, 'a client template cannot drop the rule');
  assert.doesNotMatch(buildSystemPrompt({ instructions: 'Order food.', client, recordingAnnounced: false }), /ask_owner/);
});

test('an inbound call: the prompt says we answered the client\'s phone, and the disclosure says "answering for"', async () => {
  const client = await loadClientProfile(dir, 'raju');
  const p = buildSystemPrompt({ instructions: 'Take a message.', client, recordingAnnounced: true, inbound: true });
  assert.match(p, /answering Raju Kumar's phone/);
  assert.doesNotMatch(p, /making a call on behalf of/);
  assert.match(p, /In your first sentence, say that you are an AI assistant answering for Raju Kumar, and that the call is recorded/);
  assert.match(p, /truthfully that you are an AI assistant/);
  // A client's own template is written for calls it makes: the direction is added, the rules stay.
  const custom = buildSystemPrompt({ instructions: 'Take a message.', client: await loadClientProfile(dir, 'custom'), recordingAnnounced: true, inbound: true });
  assert.match(custom, /answering Ana Lee's phone/);
  assert.match(custom, /AI assistant answering for Ana Lee/);
  assert.match(custom, /call is recorded/);
});

test('the spoken disclosure (the simulated agent\'s greeting) follows the same settings as the prompt\'s rule', () => {
  const cases: Array<[{ discloseAi: boolean; recordingAnnounced: boolean }, string, RegExp | undefined]> = [
    [{ discloseAi: true, recordingAnnounced: true }, "I'm an AI assistant calling on behalf of Raju Kumar, and this call is recorded.", /say that you are an AI assistant calling on behalf of Raju Kumar, and that the call is recorded\./],
    [{ discloseAi: true, recordingAnnounced: false }, "I'm an AI assistant calling on behalf of Raju Kumar.", /say that you are an AI assistant calling on behalf of Raju Kumar\.\n/],
    [{ discloseAi: false, recordingAnnounced: true }, 'This call is recorded.', /say that the call is recorded\./],
    [{ discloseAi: false, recordingAnnounced: false }, '', undefined],
  ];
  for (const [p, spoken, rule] of cases) {
    assert.equal(disclosureSentence('Raju Kumar', p), spoken);
    const prompt = buildSystemPrompt({ instructions: 'x', client: { id: 'raju', name: 'Raju Kumar', profile: 'Full Name: Raju Kumar', profileShare: 'always' } as never, ...p });
    if (rule) assert.match(prompt, rule);
    else assert.doesNotMatch(prompt, /In your first sentence/);
  }
});
