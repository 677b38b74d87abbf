import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandFormat, FormatError } from './format';

const vars = {
  sender: 'Alice@Remote.test',
  rcpt: 'Bob+News@Example.org',
  dest: 'bob@example.org',
  user: { name: 'bob', home: '/home/bob' },
  subAddrDelim: '+',
};

test('variables, substrings and modifiers, as smtpd.conf(5) documents them', () => {
  assert.equal(expandFormat('%{user.directory}/Mail/%{rcpt.domain}', vars), '/home/bob/Mail/Example.org');
  assert.equal(expandFormat('%{rcpt.domain[-3:]}', vars), 'org');
  assert.equal(expandFormat('%{rcpt:lowercase|strip}', vars), 'bob@example.org');
  assert.equal(expandFormat('%{rcpt.user[0]}/%{rcpt.user[1:2]}/%{rcpt.user[4:]}', vars), 'B/ob/News');
  assert.equal(expandFormat('%{sender.user:uppercase}%%', vars), 'ALICE%');
  assert.equal(expandFormat('%{mbox.from}', { ...vars, sender: '' }), 'MAILER-DAEMON');
  assert.equal(expandFormat('%{dest.user}-%{user.username}', vars), 'bob-bob');
});

test('values cannot add path components or climb out: unsafe characters and dot-only values become colons', () => {
  const evil = { ...vars, rcpt: '../../etc/passwd@x', sender: '..@x', dest: 'a b;$(id)@x' };
  assert.equal(expandFormat('/var/mail/%{rcpt.user}', evil), '/var/mail/..:..:etc:passwd', 'one path component');
  assert.equal(expandFormat('/m/%{sender.user}', evil), '/m/::');
  assert.equal(expandFormat('%{dest.user}', evil), 'a:b:::id:');
  assert.equal(expandFormat('%{dest.user:raw}', evil), 'a b;$(id)', 'raw only when asked for');
});

test('malformed or unknown specifiers are errors', () => {
  for (const bad of ['%{nope}', '%{rcpt.host}', '%{rcpt:shout}', '%{rcpt[x]}', '100%', '%{rcpt']) {
    assert.throws(() => expandFormat(bad, vars), FormatError, bad);
  }
});
