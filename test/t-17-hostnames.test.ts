/**
 * Scenario: `hostnames` on a listener bound to the loopback interface (127.0.0.1, and ::1 where
 * the machine has IPv6): the
 * name in the banner and in the Received header is the one the table gives for the address the
 * client connected to; `hostname` names the others.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, startDaemon, stopDaemon, type DaemonRun, WORKERS_AS_NOBODY, localTestConf } from './daemon-harness';
import { RawSmtp } from './smtp-raw';

let d: DaemonRun;
let port = 0;
let port2 = 0;

before(async () => {
  port = await freePort();
  port2 = await freePort();
  const conf = localTestConf([
    'table names { 127.0.0.1 = "mx-v4.local.test", "::1" = "mx-v6.local.test" }',
    `listen on lo port ${port} hostnames <names>`,
    `listen on 127.0.0.1 port ${port2} hostname "plain.local.test"`,
  ]);
  d = await startDaemon({ conf, ...WORKERS_AS_NOBODY });
  await d.waitHealthy();
  await d.waitLog(new RegExp(`smtp-listening address=127\\.0\\.0\\.1 port=${port2}`));
});

after(async () => {
  await stopDaemon(d);
});

test('hostnames: each local address announces its own name, in the banner and the Received header', async () => {
  // the addresses of lo on this machine (::1 only where IPv6 is on)
  const names: Record<string, string> = { '127.0.0.1': 'mx-v4.local.test', '::1': 'mx-v6.local.test' };
  const present = (os.networkInterfaces().lo ?? []).map((a) => a.address).filter((a) => a in names);
  assert.ok(present.includes('127.0.0.1'));
  for (const host of present) {
    const name = names[host]!;
    const c = await RawSmtp.connect(port, host);
    const banner = await c.reply();
    assert.equal(banner.code, 220);
    assert.match(banner.text, new RegExp(`^${name.replace(/\./g, '\\.')} ESMTP`));
    assert.equal((await c.cmd('EHLO client.test')).code, 250);
    assert.equal((await c.cmd('MAIL FROM:<s@remote.test>')).code, 250);
    assert.equal((await c.cmd('RCPT TO:<alice@local.test>')).code, 250);
    assert.equal((await c.cmd('DATA')).code, 354);
    const r = await c.cmd('Subject: names\r\n\r\nx\r\n.');
    const msgid = /^2\.0\.0 ([0-9a-f]{8}) /.exec(r.text)![1]!;
    const stored = fs.readFileSync(path.join(d.spool, 'queue', msgid.slice(0, 2), msgid, 'message'), 'latin1');
    assert.match(stored, new RegExp(`\\r\\n\\tby ${name.replace(/\./g, '\\.')} \\(tsmtpd\\)`));
    c.close();
  }
  const plain = await RawSmtp.connect(port2);
  assert.match((await plain.reply()).text, /^plain\.local\.test ESMTP/);
  plain.close();
});
