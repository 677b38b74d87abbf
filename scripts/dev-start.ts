/**
 * `npm start`: run tsmtpd from the checkout on etc/smtpd.conf, unprivileged, on loopback
 * ports, with everything it writes under ./var.
 *
 * It prepares ./var (a self-signed certificate for localhost, a credentials table with a
 * `demo` user whose password it makes once and keeps in var/etc/demo-password),
 * then runs `smtpd -d` in the foreground with -D overrides of the example's macros (loopback
 * address, ports 2525 and 2587, the repository's etc/ for aliases and domains) and the spool,
 * control socket and pid file under ./var. Stop it with Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeSelfSigned } from './selfsigned';
import { hashPassword } from '../src/mail/crypt';
import { main } from '../src/smtpd';

const root = path.resolve(__dirname, '..', '..');
const v = (...p: string[]) => path.join(root, 'var', ...p);

async function prepare(): Promise<void> {
  // var/ itself must be searchable by the workers' users; its private parts are 0700
  fs.mkdirSync(v(), { recursive: true, mode: 0o755 });
  fs.chmodSync(v(), 0o755);
  for (const d of ['run', 'pki', 'etc']) fs.mkdirSync(v(d), { recursive: true, mode: 0o700 });
  fs.chmodSync(v('run'), 0o755);
  if (!fs.existsSync(v('pki', 'localhost.key'))) {
    const pair = makeSelfSigned('localhost');
    fs.writeFileSync(v('pki', 'localhost.crt'), pair.cert, { mode: 0o644 });
    fs.writeFileSync(v('pki', 'localhost.key'), pair.key, { mode: 0o600 });
  }
  if (!fs.existsSync(v('etc', 'passwd')) || !fs.existsSync(v('etc', 'demo-password'))) {
    // a demo account for the submission port, with a password of its own for each checkout
    const password = randomBytes(12).toString('base64url');
    const hash = await hashPassword(password, 'sha512');
    fs.writeFileSync(v('etc', 'demo-password'), `${password}\n`, { mode: 0o600 });
    fs.writeFileSync(v('etc', 'passwd'), `# user  $6$hash   (one line per user; smtpctl encrypt makes the hash)\ndemo ${hash}\n`, { mode: 0o600 });
  }
  process.stderr.write(`npm start: AUTH on port 2587 as "demo", password in ${v('etc', 'demo-password')}\n`);
}

async function start(): Promise<number> {
  await prepare();
  const macros = {
    mailname: 'localhost',
    listen_addr: '127.0.0.1',
    mx_port: '2525',
    submission_port: '2587',
    etc: path.join(root, 'etc'),
    certfile: v('pki', 'localhost.crt'),
    keyfile: v('pki', 'localhost.key'),
    passwdfile: v('etc', 'passwd'),
  };
  const args = [
    '-d',
    '-f', path.join(root, 'etc', 'smtpd.conf'),
    '--spool', v('spool'),
    '--socket', v('run', 'smtpd.sock'),
    '--pidfile', v('run', 'smtpd.pid'),
  ];
  // Started as root (a container, CI): the workers still drop privileges, to nobody.
  if (process.getuid?.() === 0) args.push('--user', 'nobody', '--queue-user', 'nobody');
  for (const [k, val] of Object.entries(macros)) args.push('-D', `${k}=${val}`);
  process.stderr.write(`npm start: smtpd ${args.join(' ')}\n`);
  return main(['node', 'smtpd', ...args]);
}

start().then((code) => process.exit(code));
