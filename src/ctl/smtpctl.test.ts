// Unit tests of smtpctl's program-name dispatch and its messages while the daemon is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main, programName } from './smtpctl';

function run(argv: string[]) {
  let out = '';
  let err = '';
  const status = main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { status, out, err };
}

test('the program name selects the personality', () => {
  assert.equal(programName(['node', '/x/bin/mailq']), 'mailq');
  assert.equal(programName(['node', '/x/bin/sendmail']), 'sendmail');
  assert.equal(programName(['node', '/x/whatever.js']), 'smtpctl');
});

test('commands say they are not available yet, with exit status 1', () => {
  const r = run(['node', '/x/bin/smtpctl', 'show', 'queue']);
  assert.equal(r.status, 1);
  assert.equal(r.err, 'smtpctl: "show queue" is not available yet: this tsmtpd version only checks configurations (smtpd -n)\n');
  assert.equal(run(['node', '/x/bin/mailq']).err, 'mailq: mailq is not available yet: this tsmtpd version only checks configurations (smtpd -n)\n');
  assert.equal(run(['node', '/x/bin/smtpctl', '--help']).status, 0);
});
