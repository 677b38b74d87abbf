/**
 * F24 of the reliability checklist: the 250 is written only after the fsync. The real daemon
 * runs under strace (every process, microsecond timestamps); one message is sent; the trace
 * must show, in the queue process, the fsyncs of the envelope, the message file and the
 * message directory, then the rename into queue/ (the commit point) and the fsync of its
 * directory, all before the smtp process writes "250 2.0.0 <msgid>" to the client.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { RawSmtp } from './smtp-raw';

let d: DaemonRun | undefined;
after(async () => {
  if (d) await stopDaemon(d);
});

interface Call {
  pid: number;
  t: number;
  line: string;
}

/** strace's lines, one per call: a call another thread interrupted (`fsync(12 <unfinished
 * ...>` then `<... fsync resumed>) = 0`) is joined back, at the time it returned */
function parseTrace(file: string): Call[] {
  const out: Call[] = [];
  const unfinished = new Map<number, string>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+)\s+(\d\d):(\d\d):(\d\d\.\d+) (.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    let text = m[5]!;
    if (text.endsWith(' <unfinished ...>')) {
      unfinished.set(pid, text.slice(0, -' <unfinished ...>'.length));
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(text);
    if (resumed && unfinished.has(pid)) {
      text = unfinished.get(pid)! + resumed[1]!;
      unfinished.delete(pid);
    }
    out.push({ pid, t: Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]), line: text });
  }
  return out;
}

test('F24: the 250 is written after the message, its envelope and the directories are fsynced', async () => {
  const port = await freePort();
  const traceFile = path.join(fs.mkdtempSync('/tmp/tsmtpd-strace-'), 'trace');
  const conf = `table domains { local.test }\ntable users { alice = "1001:1001:/nonexistent" }\nlisten on 127.0.0.1 port ${port}\naction "local" maildir userbase <users>\nmatch from any for domain <domains> action "local"\n`;
  // strace is installed by .ci/run; a missing strace fails here
  d = await startDaemon({ conf, wrap: ['strace', '-f', '-tt', '-qq', '-s', '64', '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2,write,writev', '-o', traceFile] });
  await d.waitHealthy(30_000);
  await d.waitLog(/smtp-listening/, 30_000);
  const c = await RawSmtp.connect(port);
  assert.equal((await c.reply()).code, 220);
  await c.cmd('EHLO client.test');
  await c.cmd('MAIL FROM:<s@remote.test>');
  assert.equal((await c.cmd('RCPT TO:<alice@local.test>')).code, 250);
  await c.cmd('DATA');
  c.send('Subject: durable\r\n\r\nbody\r\n.\r\n');
  const r = await c.reply(10_000);
  assert.equal(r.code, 250, r.text);
  const msgid = /^2\.0\.0 ([0-9a-f]{8}) /.exec(r.text)![1]!;
  c.close();
  await stopDaemon(d);
  d = undefined;

  const calls = parseTrace(traceFile);
  const commit = calls.find((x) => /^rename\w*\(.*incoming\/[0-9a-f]{8}", .*queue\/[0-9a-f]{2}\/[0-9a-f]{8}"\) = 0/.test(x.line) && x.line.includes(msgid));
  assert.ok(commit, 'the rename into queue/ is traced');
  // fsyncs run on the queue's thread pool: other thread ids than the rename, same process
  const fsyncs = calls.filter((x) => /^f(data)?sync\(\d+\)\s+= 0/.test(x.line));
  const before = fsyncs.filter((x) => x.t <= commit.t);
  assert.ok(before.length >= 3, `envelope, message and directory fsynced before the rename (saw ${before.length})`);
  const reply = calls.find((x) => /^write\w*\(\d+, .*250 2\.0\.0 [0-9a-f]{8} Message accepted/.test(x.line) && x.line.includes(msgid));
  assert.ok(reply, 'the 250 reply is traced');
  const afterRename = fsyncs.find((x) => x.t >= commit.t && x.t <= reply.t);
  assert.ok(afterRename, 'the queue directory is fsynced after the rename, before the 250');
  assert.ok(reply.t >= afterRename.t, `250 written at ${reply.t}, after the last fsync at ${afterRename.t}`);
});
