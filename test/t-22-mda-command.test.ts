/**
 * Scenario: `mda` commands, run by the recipient's delivery helper as the recipient: the
 * message (with Delivered-To) on stdin, OpenSMTPD's MDA environment, format specifiers
 * expanded per word and sanitized (a recipient's `$(...)` is never run, nor a word split), a
 * wrapper around the command, and the exit statuses: 0 delivered, 75 retried, other bounced.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertRoot, ensureUser, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { sendOne } from './smtp-send';

let d: DaemonRun;
let port = 0;
let dave: { name: string; uid: number; home: string };
let bin = '';

/** a script that keeps what it was given in $HOME/out-<first argument>, and exits as told */
const SCRIPT = `#!/bin/sh
out="$HOME/out-$1"
{ echo "argv: $*"; echo "uid: $(id -u)"; env | sort; } > "$out.info"
cat > "$out.msg"
[ -n "$2" ] && echo "the second word was $2"
exit \${3:-0}
`;

before(async () => {
  assertRoot();
  ensureUser('_smtpd');
  ensureUser('_smtpq');
  dave = ensureUserWithHome('tsmtpd-dave');
  for (const f of fs.readdirSync(dave.home)) if (f.startsWith('out-')) fs.rmSync(path.join(dave.home, f));
  bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-mda-'));
  fs.chmodSync(bin, 0o755);
  fs.writeFileSync(path.join(bin, 'keep.sh'), SCRIPT, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'wrap.sh'), '#!/bin/sh\necho "wrapped" > "$HOME/out-wrapper"\nexec "$@"\n', { mode: 0o755 });
  port = await freePort();
  const k = path.join(bin, 'keep.sh');
  const conf = [
    `listen on 127.0.0.1 port ${port}`,
    `mda wrapper "w" "${path.join(bin, 'wrap.sh')} %{mda}"`,
    `action "plain" mda "${k} plain"`,
    `action "spec" mda "${k} %{rcpt.user}"`,
    `action "tempfail" mda "${k} tempfail x 75"`,
    `action "permfail" mda "${k} permfail refused 67"`,
    `action "wrapped" mda "${k} wrapped" wrapper "w"`,
    'match from any for rcpt-to "tsmtpd-dave+plain@plain.test" action "plain"',
    ...['spec', 'tempfail', 'permfail', 'wrapped'].map((a) => `match from any for domain "${a}.test" action "${a}"`),
    '',
  ].join('\n');
  d = await startDaemon({ conf });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
  fs.rmSync(bin, { recursive: true, force: true });
});

function send(rcpt: string, subject: string): Promise<string> {
  return sendOne(port, rcpt, subject);
}

test('an mda command gets the message on stdin and the MDA environment, as the recipient, in its home', async () => {
  const msgid = await send(`${dave.name}+plain@plain.test`, 'plain');
  await d.waitLog(new RegExp(`delivered evpid=${msgid}`));
  const info = fs.readFileSync(path.join(dave.home, 'out-plain.info'), 'utf8');
  assert.match(info, /^argv: plain$/m);
  assert.match(info, new RegExp(`^uid: ${dave.uid}$`, 'm'));
  for (const line of [
    'DOMAIN=plain.test',
    'EXTENSION=plain',
    `HOME=${dave.home}`,
    `LOCAL=${dave.name}+plain`,
    `LOGNAME=${dave.name}`,
    `ORIGINAL_RECIPIENT=${dave.name}+plain@plain.test`,
    'PATH=/usr/bin:/bin',
    `RECIPIENT=${dave.name}+plain@plain.test`,
    'SENDER=s@remote.test',
    'SHELL=/bin/sh',
    `USER=${dave.name}`,
  ]) {
    assert.ok(info.split('\n').includes(line), `${line} in\n${info}`);
  }
  const msg = fs.readFileSync(path.join(dave.home, 'out-plain.msg'), 'latin1');
  assert.match(msg, new RegExp(`^Delivered-To: ${dave.name}\\+plain@plain\\.test\\r\\nReceived: from client\\.test `));
  assert.ok(msg.endsWith('\r\nSubject: plain\r\n\r\nbody of plain\r\n'));
  assert.equal(fs.statSync(path.join(dave.home, 'out-plain.msg')).uid, dave.uid);
});

test('format specifiers are expanded per word and sanitized: shell syntax in the address is neither run nor split', async () => {
  const msgid = await send(`${dave.name}+\`touch\`\${IFS}&pwned@spec.test`, 'spec');
  await d.waitLog(new RegExp(`(delivered|failed|deferred) evpid=${msgid}`));
  const outs = fs.readdirSync(dave.home).filter((f) => f.startsWith('out-') && f.endsWith('.info') && f.includes('touch'));
  assert.equal(outs.length, 1, fs.readdirSync(dave.home).join(' '));
  assert.match(outs[0]!, /^out-tsmtpd-dave\+:touch:::IFS::pwned\.info$/);
  assert.ok(!fs.existsSync(path.join(dave.home, 'pwned')) && !fs.existsSync('/pwned'));
});

test('exit 75 is a temporary failure (kept, with the first line the command printed in the error line); exit 67 a permanent one', async () => {
  const t = await send(`${dave.name}@tempfail.test`, 'tempfail');
  await d.waitLog(new RegExp(`deferred evpid=${t}[0-9a-f]{8} .*result="451 4\\.3\\.0 mda command exited with status 75: the second word was x"`));
  const p = await send(`${dave.name}@permfail.test`, 'permfail');
  await d.waitLog(new RegExp(`failed evpid=${p}[0-9a-f]{8} .*result="554 5\\.3\\.0 mda command exited with status 67: the second word was refused"`));
});

test('a wrapper runs around the command, with %{mda} standing for its words', async () => {
  const msgid = await send(`${dave.name}@wrapped.test`, 'wrapped');
  await d.waitLog(new RegExp(`delivered evpid=${msgid}`));
  assert.equal(fs.readFileSync(path.join(dave.home, 'out-wrapper'), 'utf8'), 'wrapped\n');
  assert.match(fs.readFileSync(path.join(dave.home, 'out-wrapped.info'), 'utf8'), /^argv: wrapped$/m);
});
