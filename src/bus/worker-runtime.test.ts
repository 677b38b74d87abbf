// A real worker process (dist/src/worker.js) driven by this test acting as its parent: it
// reports READY after its configuration, answers PING on a peer channel, and a malformed frame
// from a peer ends it with a log line (status 1), as the parent's restart policy expects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Channel } from './channel';
import { CommonMessage } from './msg-workers';
import { socketPair } from '../util/socketpair';
import { BUS_VERSION } from './version';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-pair-'));
}

const WORKER = path.join(__dirname, '..', 'worker.js');


async function startLka(): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  const child = fork(WORKER, ['lka'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const ready = new Promise<unknown>((r) => child.once('message', r));
  child.send({ type: 'WORKER_CONFIG', busVersion: BUS_VERSION, name: 'lka', config: { tables: [], rules: [], actions: [], smtp: { subAddrDelim: '+' } }, spool: '/nonexistent', socket: '/nonexistent', trace: [], logFormat: 'json', logFd: 2, verbose: false });
  assert.deepEqual(Object.keys((await ready) as object).sort(), ['gid', 'pid', 'type', 'uid']);
  return { child, stderr: () => err, exited };
}

test('a worker answers PING on a peer channel handed to it', async () => {
  const w = await startLka();
  const [mine, theirs] = await socketPair(tmp());
  w.child.send({ type: 'WORKER_CHANNEL', peer: 'queue' }, theirs);
  const ch = new Channel<CommonMessage, CommonMessage>({ self: 'queue', peer: 'lka', socket: mine, decoder: CommonMessage });
  const pong = await ch.request({ type: 'PING' });
  assert.equal(pong.type === 'PONG' && pong.name, 'lka');
  w.child.send({ type: 'WORKER_SHUTDOWN' });
  assert.equal(await w.exited, 0);
});

test('a malformed frame from a peer ends the worker with a log line', async () => {
  const w = await startLka();
  const [mine, theirs] = await socketPair(tmp());
  w.child.send({ type: 'WORKER_CHANNEL', peer: 'queue' }, theirs);
  await new Promise((r) => setTimeout(r, 100));
  mine.write(Buffer.from([0, 0, 0, 3, 1, 0x7b, 0x7d])); // {} : no type
  assert.equal(await w.exited, 1);
  assert.match(w.stderr(), /"event":"protocol-error".*malformed message from queue: type: expected one of PING, PONG/);
});

test('a malformed message from the parent ends the worker too', async () => {
  const w = await startLka();
  w.child.send({ type: 'WORKER_RELOAD' });
  assert.equal(await w.exited, 1);
  assert.match(w.stderr(), /"event":"protocol-error".*from parent: config: expected a value/);
});

test('a worker started from code of another bus version refuses to start, and says why', async () => {
  const child = fork(WORKER, ['lka'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  // a later parent's start message: its shape may differ, so only the version is read
  child.send({ type: 'WORKER_CONFIG', busVersion: BUS_VERSION + 1, name: 'lka', somethingNew: true });
  assert.equal(await exited, 1);
  assert.match(err, new RegExp(`version-mismatch: this process runs tsmtpd code of bus version ${BUS_VERSION}, the running daemon version ${BUS_VERSION + 1}: .*restart smtpd`));
});

test('a delivery helper of another bus version refuses to start, and says why', async () => {
  const child = fork(WORKER, ['deliver'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.send({ type: 'HELPER_START', busVersion: BUS_VERSION - 1 });
  assert.equal(await exited, 1);
  assert.match(err, /smtpd: deliver: this process runs tsmtpd code of bus version \d+, the running daemon version \d+: .*restart smtpd/);
});
