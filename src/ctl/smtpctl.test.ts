// Unit tests of smtpctl's program-name dispatch, command resolution and its messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main, programName } from './smtpctl';
import { CommandError, ctlOptions, resolveCommand } from './smtpctl-commands';

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const status = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { status, out, err };
}

test('the program name selects the personality', () => {
  assert.equal(programName(['node', '/x/bin/mailq']), 'mailq');
  assert.equal(programName(['node', '/x/bin/sendmail']), 'sendmail');
  assert.equal(programName(['node', '/x/whatever.js']), 'smtpctl');
});

test('commands take unambiguous prefixes; an ambiguous or unknown one is an error naming the choices', () => {
  assert.deepEqual(resolveCommand(['sh', 'q']), { command: ['show', 'queue'], args: [] });
  assert.deepEqual(resolveCommand(['show', 'e', '0a1b2c3d00000001']), { command: ['show', 'envelope'], args: ['0a1b2c3d00000001'] });
  assert.deepEqual(resolveCommand(['sch', 'all']), { command: ['schedule'], args: ['all'] });
  assert.throws(() => resolveCommand(['s']), (e: Error) => e instanceof CommandError && e.message === 'ambiguous command: s (show, schedule)');
  assert.deepEqual(resolveCommand(['show', 'm', 'x']).command, ['show', 'message']);
  assert.throws(() => resolveCommand(['show']), /incomplete command: show \.\.\. \(show queue, show envelope, show message\)/);
  assert.throws(() => resolveCommand(['frobnicate']), /unknown command: frobnicate/);
});

test('-s and --spool are taken out of the words; SMTPD_SOCKET and SMTPD_SPOOL are the defaults', () => {
  assert.deepEqual(ctlOptions(['-s', '/r/s.sock', 'show', 'queue'], {}), { options: { socket: '/r/s.sock', spool: '/var/spool/smtpd' }, words: ['show', 'queue'] });
  assert.deepEqual(ctlOptions(['sh', 'q'], { SMTPD_SOCKET: '/a', SMTPD_SPOOL: '/b' }).options, { socket: '/a', spool: '/b' });
});

test('without a daemon: the error says where the socket was looked for; usage errors say the usage', async () => {
  const r = await run(['node', '/x/bin/smtpctl', '-s', '/nonexistent/smtpd.sock', 'schedule', 'all']);
  assert.equal(r.status, 1);
  assert.equal(r.err, 'smtpctl: smtpd is not running: no control socket at /nonexistent/smtpd.sock (start smtpd, or name the socket with -s)\n');
  assert.match((await run(['node', '/x/bin/smtpctl', 'remove'])).err, /usage: smtpctl remove evpid \| msgid \| all/);
  assert.equal((await run(['node', '/x/bin/smtpctl', '--help'])).status, 0);
});
