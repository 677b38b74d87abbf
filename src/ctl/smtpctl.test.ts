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
  assert.throws(() => resolveCommand(['s']), (e: Error) => e instanceof CommandError && e.message === 'ambiguous command: s (show, schedule, spf)');
  assert.throws(() => resolveCommand(['p', 'mda']), /ambiguous command: p \(pause, profile\)/);
  assert.throws(() => resolveCommand(['show', 'st']), /ambiguous command: show st \(show status, show stats\)/);
  assert.deepEqual(resolveCommand(['pa', 'e', 'all']), { command: ['pause', 'envelope'], args: ['all'] });
  assert.deepEqual(resolveCommand(['show', 'me', 'x']).command, ['show', 'message']);
  assert.throws(() => resolveCommand(['show', 'm', 'x']), /ambiguous command: show m \(show message, show mta\)/);
  assert.deepEqual(resolveCommand(['sh', 'mt', 'paused']), { command: ['show', 'mta'], args: ['paused'] });
  assert.throws(() => resolveCommand(['show']), /incomplete command: show \.\.\. \(show queue, show envelope, show message, show status, show stats, show hosts, show hoststats, show relays, show routes, show mta\)/);
  assert.throws(() => resolveCommand(['frobnicate']), /unknown command: frobnicate/);
  // a whole word wins over the longer words it begins
  assert.deepEqual(resolveCommand(['sh', 'hosts']).command, ['show', 'hosts']);
  assert.throws(() => resolveCommand(['sh', 'ho']), /ambiguous command: show ho \(show hosts, show hoststats\)/);
  assert.deepEqual(resolveCommand(['resume', 'ro', '3']), { command: ['resume', 'route'], args: ['3'] });
});

test('-s and --spool are taken out of the words; SMTPD_SOCKET and SMTPD_SPOOL are the defaults', () => {
  assert.deepEqual(ctlOptions(['-s', '/r/s.sock', 'show', 'queue', '--json'], {}), { options: { socket: '/r/s.sock', spool: '/var/spool/smtpd', json: true }, words: ['show', 'queue'] });
  assert.deepEqual(ctlOptions(['sh', 'q'], { SMTPD_SOCKET: '/a', SMTPD_SPOOL: '/b' }).options, { socket: '/a', spool: '/b', json: false });
});

test('without a daemon: the error says where the socket was looked for; usage errors say the usage', async () => {
  const r = await run(['node', '/x/bin/smtpctl', '-s', '/nonexistent/smtpd.sock', 'schedule', 'all']);
  assert.equal(r.status, 1);
  assert.equal(r.err, 'smtpctl: smtpd is not running: no control socket at /nonexistent/smtpd.sock (start smtpd, or name the socket with -s)\n');
  assert.match((await run(['node', '/x/bin/smtpctl', 'remove'])).err, /usage: smtpctl remove evpid \| msgid \| all/);
  assert.equal((await run(['node', '/x/bin/smtpctl', '--help'])).status, 0);
});

test('show stats lines: key order, uptime with its human form; monitor rows: counters now and changes', async () => {
  const { statsLines, monitorRow, humanDuration, lineToJson } = await import('./smtpctl-commands');
  assert.deepEqual(statsLines({ uptime: 90061, 'smtp.session': 2, 'control.session': 1 }), ['control.session=1', 'smtp.session=2', 'uptime=90061', 'uptime.human=1d1h1m1s']);
  assert.equal(humanDuration(0), '0s');
  const row = monitorRow({ 'smtp.session': 2, 'smtp.session.opened': 10, 'scheduler.envelope': 3, 'scheduler.delivery.ok': 7, 'queue.bounce': 1 }, { 'smtp.session.opened': 4, 'scheduler.delivery.ok': 5 });
  assert.equal(row, '   2    6    0     3    0    2    2       0       0    0      0      0      1\n');
  assert.deepEqual(lineToJson('0a1b2c3d00000001|local|mda||a@b|c@d|c@d|1|2|0|0|offline||'), {
    evpid: '0a1b2c3d00000001', family: 'local', type: 'mda', flags: '', sender: 'a@b', rcpt: 'c@d', dest: 'c@d', ctime: 1, expire: 2, lasttry: 0, retry: 0, runstate: 'offline', delay: '', errorline: '',
  });
});

test('encrypt prints a SHA-512 crypt hash of its argument, or of each line of stdin, without a daemon', async () => {
  const { runCommand } = await import('./smtpctl-commands');
  const { verifyPassword } = await import('../mail/crypt');
  let out = '';
  const io = { out: (s: string) => (out += s), err: () => undefined };
  assert.equal(await runCommand(['encrypt', 'secret'], { socket: '/nonexistent', spool: '/nonexistent', json: false }, io), 0);
  assert.match(out, /^\$6\$[^$]+\$[./0-9A-Za-z]{86}\n$/);
  assert.ok(await verifyPassword('secret', out.trim()));
  out = '';
  await runCommand(['enc'], { socket: '/x', spool: '/x', json: false }, io, { stdin: async () => 'a\nb\n' });
  const [ha, hb] = out.trim().split('\n');
  assert.ok((await verifyPassword('a', ha!)) && (await verifyPassword('b', hb!)));
});
