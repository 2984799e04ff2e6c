/** The pure parts behind the calls list and the client editor: CSV fields, a call's purpose, profile.txt's name line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callsCsv, csvField, type ExportedCall } from '../../src/records/call-export.js';
import { callPurpose } from '../../src/records/call-purpose.js';
import { joinProfile, splitProfile } from '../../src/clients/editor.js';

test('csvField: quotes what needs quoting (doubling quotes), defuses formulas in free text only, leaves numbers and phone numbers alone', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('line 1\nline 2'), '"line 1\nline 2"');
  assert.equal(csvField('cr\rhere'), '"cr\rhere"');
  assert.equal(csvField(null), '');
  assert.equal(csvField(undefined), '');
  assert.equal(csvField(0), '0');
  assert.equal(csvField('+14155550123'), '+14155550123');
  for (const lead of ['=', '+', '-', '@', '\t']) assert.equal(csvField(`${lead}SUM(A1)`, 'text'), `'${lead}SUM(A1)`);
  assert.equal(csvField('=HYPERLINK("x","y")', 'text'), `"'=HYPERLINK(""x"",""y"")"`);
});

test('callsCsv: a header row, one row per call, CRLF line ends', () => {
  const call: ExportedCall = {
    id: 'c1', createdAt: '2026-01-01T00:00:00.000Z', direction: 'outbound', to: '+14155550123', from: null, clientId: 'raju', clientName: 'Raju, K.', purpose: 'Order "food"',
    status: 'ended', endReason: 'agent-hangup', answeredBy: 'human', durationSec: 42, cost: { total: 0.0123, currency: 'USD' }, outcome: { goalMet: 'achieved', summary: 'Done.' }, instructions: 'Order "food"\nthen hang up',
  };
  const text = callsCsv([call]);
  const lines = text.split('\r\n');
  assert.equal(lines[0], 'id,created_at,direction,to,from,client_id,client_name,purpose,status,end_reason,answered_by,duration_sec,cost,currency,goal_met,summary,instructions');
  assert.equal(lines[1], 'c1,2026-01-01T00:00:00.000Z,outbound,+14155550123,,raju,"Raju, K.","Order ""food""",ended,agent-hangup,human,42,0.012300,USD,achieved,Done.,"Order ""food""\nthen hang up"');
  assert.equal(lines[2], '');
  assert.equal(callsCsv([]), `${lines[0]}\r\n`);
});

test('callPurpose: the runbook, else the first non-empty line of the instructions, cut at 120 characters', () => {
  assert.equal(callPurpose({ instructions: '\n  Book a table for two.\nAt 8.' }), 'Book a table for two.');
  assert.equal(callPurpose({ instructions: 'x' }, { data: { runbook: 'book-appointment' } }), 'Runbook: book-appointment');
  const long = callPurpose({ instructions: 'a'.repeat(300) });
  assert.equal(long.length, 120);
  assert.ok(long.endsWith('…'));
});

test('splitProfile and joinProfile: the Full Name line is the name, wherever it is; the rest is the profile', () => {
  assert.deepEqual(splitProfile('raju', 'Full Name: Raju Kumar\nPhone: 1\n'), { name: 'Raju Kumar', profile: 'Phone: 1' });
  assert.deepEqual(splitProfile('raju', 'Phone: 1\nfull name:  Raju K \nNotes'), { name: 'Raju K', profile: 'Phone: 1\n\nNotes' });
  assert.deepEqual(splitProfile('raju', 'Phone: 1'), { name: 'raju', profile: 'Phone: 1' });
  assert.equal(joinProfile('Raju Kumar', '  Phone: 1\n'), 'Full Name: Raju Kumar\nPhone: 1\n');
  assert.equal(joinProfile('Raju Kumar', ''), 'Full Name: Raju Kumar\n');
});
