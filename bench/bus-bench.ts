/**
 * `npm run bench:bus`: the message bus between two processes, and the idle memory of the
 * whole daemon.
 *
 * Bus: this process and a child (bench/bus-peer.ts) get the two ends of a Unix socket pair
 * the way the parent hands them to workers, and talk through src/bus/channel.ts: sequential
 * round trips (latency), round trips with 64 in flight, and one-way messages with
 * backpressure (messages per second). Memory: starts bin/smtpd -d with a small configuration,
 * waits until every process answers and settles, then sums PSS over the parent and its
 * workers (/proc/PID/smaps_rollup).
 */
import { fork, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Channel } from '../src/bus/channel';
import { CommonMessage } from '../src/bus/msg-workers';
import { ControlClient } from '../src/ctl/client';
import { socketPair } from '../src/util/socketpair';

type Ch = Channel<CommonMessage, CommonMessage>;


function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function busBench(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-busbench-'));
  const [mine, theirs] = await socketPair(dir);
  const peer = fork(path.join(__dirname, 'bus-peer.js'), [], { stdio: 'inherit' });
  peer.send({ type: 'channel' }, theirs);
  const ch: Ch = new Channel({ self: 'lka', peer: 'queue', socket: mine, decoder: CommonMessage });
  for (let i = 0; i < 2000; i++) await ch.request({ type: 'PING' }); // warm up

  const n = 20_000;
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await ch.request({ type: 'PING' });
    lat.push((performance.now() - s) * 1000);
  }
  const seqSecs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  console.log(`bus round trip, one at a time: median ${pct(lat, 50).toFixed(0)} us, p99 ${pct(lat, 99).toFixed(0)} us, ${(n / seqSecs).toFixed(0)} round trips/s`);

  const inflight = 64;
  const total = 100_000;
  let sent = 0;
  const t1 = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (sent < total) {
        sent++;
        await ch.request({ type: 'PING' });
      }
    }),
  );
  console.log(`bus round trips, ${inflight} in flight: ${(total / ((performance.now() - t1) / 1000)).toFixed(0)} round trips/s`);

  const oneWay = 500_000;
  const t2 = performance.now();
  for (let i = 0; i < oneWay; i++) if (!ch.send({ type: 'PING', reqid: 0 })) await ch.drained();
  const last = await ch.request({ type: 'PING' }, 60_000); // ordered: arrives after every one-way message
  const secs = (performance.now() - t2) / 1000;
  if (last.type !== 'PONG' || Number(last.name) !== oneWay) throw new Error(`peer counted ${last.type === 'PONG' ? last.name : '?'} of ${oneWay}`);
  console.log(`bus one-way messages with backpressure: ${(oneWay / secs).toFixed(0)} messages/s (all ${oneWay} counted by the peer)`);
  ch.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

function pssKiB(pid: number): number {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
}

async function memoryBench(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-membench-'));
  fs.chmodSync(dir, 0o755); // as root the workers run as nobody: they must reach the spool and sockets
  const conf = path.join(dir, 'smtpd.conf');
  fs.writeFileSync(conf, 'action "local" mbox\nmatch for local action "local"\n');
  const socket = path.join(dir, 'smtpd.sock');
  const root = process.getuid?.() === 0;
  const args = [path.join(__dirname, '..', '..', 'bin', 'smtpd'), '-d', '-f', conf, '--spool', path.join(dir, 'spool'), '--socket', socket, '--pidfile', path.join(dir, 'smtpd.pid')];
  if (root) args.push('--user', 'nobody', '--queue-user', 'nobody');
  const daemon = spawn(process.execPath, args, { stdio: 'ignore' });
  let status: Record<string, string> | undefined;
  for (let i = 0; i < 100 && !status; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      const c = await ControlClient.connect(socket, 1000);
      const s = await c.status(1000);
      c.close();
      if (Object.values(s).filter((v) => v.startsWith('ok')).length === 8) status = s;
    } catch {
      // not up yet
    }
  }
  if (!status) throw new Error('the daemon did not start');
  await new Promise((r) => setTimeout(r, 3000));
  let sum = 0;
  const rows: string[] = [];
  for (const [name, v] of Object.entries(status).sort()) {
    const pid = Number(/pid (\d+)/.exec(v)![1]);
    const kib = pssKiB(pid);
    sum += kib;
    rows.push(`${name}=${(kib / 1024).toFixed(1)}`);
  }
  console.log(`daemon idle PSS: ${(sum / 1024).toFixed(1)} MiB in 8 processes (${rows.join(' ')} MiB)`);
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.on('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  await busBench();
  await memoryBench();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
