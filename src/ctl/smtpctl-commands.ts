/**
 * smtpctl's commands: each word may be shortened to any unambiguous prefix (`sh q`); the
 * socket is `-s PATH`, else SMTPD_SOCKET, else /var/run/smtpd.sock. `show queue` reads the
 * spool (`--spool DIR`, SMTPD_SPOOL, /var/spool/smtpd) when smtpd is not running.
 * Privileges: the caller's (the control socket's mode decides who may connect).
 * Peers: the control worker.
 */
import { hashPassword } from '../mail/crypt';
import type { Io } from '../util/stdio';
import { ControlClient, ControlError } from './client';
import { offlineQueueLines } from './offline-queue';
import { SpfWalker } from './spf-walk';
import { humanDuration } from '../util/units';

export { humanDuration };
import { TRACE_SUBSYSTEMS } from '../bus/msg-control-common';

const COMMANDS = [
  ['show', 'queue'],
  ['show', 'envelope'],
  ['show', 'message'],
  ['show', 'status'],
  ['show', 'stats'],
  ['show', 'hosts'],
  ['show', 'hoststats'],
  ['show', 'relays'],
  ['show', 'routes'],
  ['show', 'mta'],
  ['resume', 'route'],
  ['schedule'],
  ['remove'],
  ['pause', 'mda'],
  ['pause', 'mta'],
  ['pause', 'smtp'],
  ['pause', 'envelope'],
  ['resume', 'mda'],
  ['resume', 'mta'],
  ['resume', 'smtp'],
  ['resume', 'envelope'],
  ['monitor'],
  ['log', 'brief'],
  ['log', 'verbose'],
  ['update', 'table'],
  ['discover'],
  ['encrypt'],
  ['trace'],
  ['untrace'],
  ['profile'],
  ['unprofile'],
  ['spf', 'walk'],
] as const;

type Command = (typeof COMMANDS)[number];

export class CommandError extends Error {}

function pick(options: readonly string[], word: string | undefined, before: string): string {
  const all = [...new Set(options)];
  if (word === undefined) throw new CommandError(`incomplete command: ${before}... (${all.map((o) => `${before}${o}`).join(', ')})`);
  const w = word.toLowerCase();
  if (all.includes(w)) return w;
  const hits = all.filter((o) => w.length > 0 && o.startsWith(w));
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0) throw new CommandError(`unknown command: ${before}${word} (commands: ${COMMANDS.map((c) => c.join(' ')).join(', ')})`);
  throw new CommandError(`ambiguous command: ${before}${word} (${hits.map((h) => `${before}${h}`).join(', ')})`);
}

/** the command the words name, and the words left (its arguments) */
export function resolveCommand(words: readonly string[]): { command: Command; args: string[] } {
  const first = pick(COMMANDS.map((c) => c[0]), words[0], '');
  const family = COMMANDS.filter((c) => c[0] === first);
  if (family.length === 1 && family[0]!.length === 1) return { command: family[0]!, args: words.slice(1) };
  const second = pick(family.map((c) => c[1]!), words[1], `${first} `);
  return { command: family.find((c) => c[1] === second)!, args: words.slice(2) };
}

export interface CtlOptions {
  readonly socket: string;
  readonly spool: string;
  /** --json: the show commands print JSON */
  readonly json: boolean;
  /** --resolver host:port: spf walk asks this DNS server (tests) */
  readonly resolver?: string;
}

/** take -s PATH and --spool DIR out of the arguments */
export function ctlOptions(args: readonly string[], env: NodeJS.ProcessEnv): { options: CtlOptions; words: string[] } {
  let socket = env.SMTPD_SOCKET || '/var/run/smtpd.sock';
  let spool = env.SMTPD_SPOOL || '/var/spool/smtpd';
  let json = false;
  let resolver: string | undefined;
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if ((a === '-s' || a === '--spool' || a === '--resolver') && i + 1 < args.length) {
      if (a === '-s') socket = args[++i]!;
      else if (a === '--spool') spool = args[++i]!;
      else resolver = args[++i]!;
    } else if (a === '--json') json = true;
    else words.push(a);
  }
  return { options: { socket, spool, json, ...(resolver !== undefined ? { resolver } : {}) }, words };
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** what each command takes after its words */
const USAGE: Record<string, string> = {
  'show queue': '[msgid]',
  'show envelope': 'evpid',
  'show message': 'evpid | msgid',
  'schedule': 'evpid | msgid | all',
  'remove': 'evpid | msgid | all',
  'pause envelope': 'evpid | msgid | all',
  'resume envelope': 'evpid | msgid | all',
  'encrypt': '[string]',
  'update table': 'name',
  'discover': 'evpid | msgid',
  'resume route': 'route-id',
  'pause mta': '[from ADDR for DOMAIN]',
  'resume mta': '[from ADDR for DOMAIN]',
  'show mta': 'paused',
  'trace': TRACE_SUBSYSTEMS.join(' | '),
  'untrace': TRACE_SUBSYSTEMS.join(' | '),
  'profile': 'imsg | queue',
  'unprofile': 'imsg | queue',
};

const ONE_ARG = new Set(['show mta', 'show envelope', 'show message', 'schedule', 'remove', 'pause envelope', 'resume envelope', 'update table', 'discover', 'resume route', 'trace', 'untrace', 'profile', 'unprofile']);
const OPTIONAL_ARG = new Set(['show queue', 'encrypt']);

export function statsLines(stats: Record<string, number>): string[] {
  const lines: string[] = [];
  for (const key of Object.keys(stats).sort()) {
    lines.push(`${key}=${stats[key]}`);
    if (key === 'uptime') lines.push(`uptime.human=${humanDuration(stats[key]!)}`);
  }
  return lines;
}

const MONITOR_HEADER =
  '--- client ---  -- envelope --   ---- relay/delivery --- ------- misc -------\n' +
  'curr conn disc  curr  enq  deq   ok tmpfail prmfail loop expire remove bounce\n';

/** one monitor row: the counters now, and their change since `before` */
export function monitorRow(now: Record<string, number>, before: Record<string, number>): string {
  const v = (k: string) => now[k] ?? 0;
  const d = (k: string) => v(k) - (before[k] ?? 0);
  const deq = d('scheduler.delivery.ok') + d('scheduler.delivery.permfail') + d('scheduler.envelope.expired') + d('scheduler.envelope.removed');
  const cols: [number, number][] = [
    [v('smtp.session'), 4],
    [d('smtp.session.opened'), 4],
    [d('smtp.session.closed'), 4],
    [v('scheduler.envelope'), 5],
    [d('scheduler.envelope.incoming'), 4],
    [deq, 4],
    [d('scheduler.delivery.ok'), 4],
    [d('scheduler.delivery.tempfail'), 7],
    [d('scheduler.delivery.permfail'), 7],
    [d('scheduler.delivery.loop'), 4],
    [d('scheduler.envelope.expired'), 6],
    [d('scheduler.envelope.removed'), 6],
    [d('queue.bounce'), 6],
  ];
  return `${cols.map(([n, w]) => String(n).padStart(w)).join(' ')}\n`;
}

/** monitor: a row per second (the header every 25 rows), `rows` of them or until interrupted */
async function monitor(client: ControlClient, io: Io, rows: number): Promise<void> {
  const stats = async () => {
    const r = await client.request({ type: 'SHOW_STATS' });
    return r.type === 'STATS_REPLY' ? r.stats : {};
  };
  let before = await stats();
  for (let i = 0; rows <= 0 || i < rows; i++) {
    if (i % 25 === 0) io.out(MONITOR_HEADER);
    await new Promise((r) => setTimeout(r, 1000));
    const now = await stats();
    io.out(monitorRow(now, before));
    before = now;
  }
}

async function encrypt(args: readonly string[], io: Io, stdin: () => Promise<string>): Promise<void> {
  const lines = args.length > 0 ? [args[0]!] : (await stdin()).split('\n').filter((l) => l.length > 0);
  for (const l of lines) io.out(`${await hashPassword(l)}\n`);
}

export async function runCommand(words: readonly string[], o: CtlOptions, io: Io, env: { stdin?: () => Promise<string>; monitorRows?: number } = {}): Promise<number> {
  const { command, args } = resolveCommand(words);
  const name = command.join(' ');
  // pause / resume mta from ADDR for DOMAIN: one source and one domain only
  const pair = (name === 'pause mta' || name === 'resume mta') && args.length === 4 && args[0]!.toLowerCase() === 'from' && args[2]!.toLowerCase() === 'for';
  const bad = pair ? false : args.length > 1 || (ONE_ARG.has(name) && args.length !== 1) || (!ONE_ARG.has(name) && !OPTIONAL_ARG.has(name) && args.length > 0) || (name === 'show mta' && args[0] !== 'paused');
  if (bad) throw new CommandError(`usage: smtpctl ${name}${USAGE[name] ? ` ${USAGE[name]}` : ''}`);
  if (name === 'encrypt') {
    await encrypt(args, io, env.stdin ?? readStdin);
    return 0;
  }
  if (name === 'spf walk') {
    const walker = new SpfWalker(o.resolver, (l) => io.err(`smtpctl: spf walk: ${l}\n`));
    for (const d of (await (env.stdin ?? readStdin)()).split(/\s+/).filter((x) => x !== '')) await walker.walk(d);
    io.out([...walker.found].map((a) => `${a}\n`).join(''));
    return 0;
  }
  let client: ControlClient;
  try {
    client = await ControlClient.connect(o.socket);
  } catch (e) {
    if (name === 'show queue' && e instanceof ControlError && /not running/.test(e.message)) {
      const lines = offlineQueueLines(o.spool, args[0]);
      io.out(o.json ? `${JSON.stringify(lines.map(lineToJson))}\n` : lines.map((l) => `${l}\n`).join(''));
      return 0;
    }
    throw e;
  }
  try {
    if (pair) {
      const r = await client.request({ type: 'MTA_BLOCK', src: args[1]!, domain: args[3]!, blocked: name === 'pause mta' });
      if (r.type === 'TEXT_REPLY') io.out(r.text);
    } else await runOnline(client, name, args[0], o, io, env.monitorRows ?? 0);
    return 0;
  } finally {
    client.close();
  }
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

const QUEUE_FIELDS = ['evpid', 'family', 'type', 'flags', 'sender', 'rcpt', 'dest', 'ctime', 'expire', 'lasttry', 'retry', 'runstate', 'delay', 'errorline'] as const;

/** a show queue line as a JSON object (numbers as numbers) */
export function lineToJson(line: string): Record<string, string | number> {
  const f = line.split('|');
  const out: Record<string, string | number> = {};
  QUEUE_FIELDS.forEach((k, i) => {
    const v = f[i] ?? '';
    out[k] = ['ctime', 'expire', 'lasttry', 'retry'].includes(k) || (k === 'delay' && v !== '') ? Number(v) : v;
  });
  return out;
}

async function runOnline(client: ControlClient, name: string, id: string | undefined, o: CtlOptions, io: Io, monitorRows: number): Promise<void> {
  const [verb, what] = name.split(' ') as [string, string | undefined];
  if (name === 'show queue') {
    const r = await client.request({ type: 'SHOW_QUEUE', ...(id !== undefined ? { id } : {}) });
    if (r.type !== 'LINES_REPLY') return;
    io.out(o.json ? `${JSON.stringify(r.lines.map(lineToJson))}\n` : r.lines.map((l) => `${l}\n`).join(''));
  } else if (name === 'show envelope' || name === 'show message') {
    const r = await client.request({ type: 'SHOW_FILE', what: name === 'show envelope' ? 'envelope' : 'message', id: id! });
    if (r.type === 'TEXT_REPLY') io.out(r.text);
  } else if (name === 'show status') {
    const r = await client.request({ type: 'SHOW_STATUS' });
    if (r.type !== 'LINES_REPLY') return;
    io.out(o.json ? `${JSON.stringify(Object.fromEntries(r.lines.map((l) => l.split(' ') as [string, string])))}\n` : r.lines.map((l) => `${l}\n`).join(''));
  } else if (name === 'show stats') {
    const r = await client.request({ type: 'SHOW_STATS' });
    if (r.type !== 'STATS_REPLY') return;
    io.out(o.json ? `${JSON.stringify(r.stats)}\n` : statsLines(r.stats).map((l) => `${l}\n`).join(''));
  } else if (name === 'show hosts' || name === 'show hoststats' || name === 'show relays' || name === 'show routes' || name === 'show mta') {
    const r = await client.request({ type: 'SHOW_MTA', what: name === 'show mta' ? 'paused' : (what as 'hosts' | 'hoststats' | 'relays' | 'routes') });
    if (r.type === 'LINES_REPLY') io.out(o.json ? `${JSON.stringify(r.lines)}\n` : r.lines.map((l) => `${l}\n`).join(''));
  } else if (name === 'trace' || name === 'untrace') {
    const subsystem = TRACE_SUBSYSTEMS.find((s) => s === id);
    if (!subsystem) throw new CommandError(`unknown subsystem: ${JSON.stringify(id ?? '')} (${TRACE_SUBSYSTEMS.join(', ')})`);
    const r = await client.request({ type: 'TRACE', subsystem, on: name === 'trace' });
    if (r.type === 'TEXT_REPLY') io.out(r.text);
  } else if (name === 'profile' || name === 'unprofile') {
    if (id !== 'imsg' && id !== 'queue') throw new CommandError(`cannot profile ${JSON.stringify(id ?? '')} (imsg, queue)`);
    const r = await client.request({ type: 'PROFILE', what: id, on: name === 'profile' });
    if (r.type === 'TEXT_REPLY') io.out(r.text);
  } else if (name === 'resume route') {
    if (!/^\d{1,9}$/.test(id ?? '')) throw new CommandError(`not a route id: ${JSON.stringify(id ?? '')} (smtpctl show routes lists them)`);
    const r = await client.request({ type: 'RESUME_ROUTE', id: Number(id) });
    if (r.type === 'TEXT_REPLY') io.out(r.text);
  } else if (name === 'monitor') {
    await monitor(client, io, monitorRows);
  } else if (name === 'discover') {
    const r = await client.request({ type: 'DISCOVER', id: id! });
    if (r.type === 'COUNT_REPLY') io.out(`${plural(r.count, 'envelope')} discovered\n`);
  } else if (name === 'update table') {
    const r = await client.request({ type: 'UPDATE_TABLE', name: id! });
    if (r.type === 'TEXT_REPLY') io.out(r.text);
  } else if (verb === 'log') {
    const r = await client.request({ type: 'LOG', verbose: what === 'verbose' });
    if (r.type === 'TEXT_REPLY') io.out(r.text);
  } else if (verb === 'pause' || verb === 'resume') {
    const r = await client.request({ type: 'PAUSE', what: what as 'mda' | 'mta' | 'smtp' | 'envelope', ...(id !== undefined ? { id } : {}), paused: verb === 'pause' });
    if (r.type === 'TEXT_REPLY') io.out(r.text);
    else if (r.type === 'COUNT_REPLY') io.out(`${plural(r.count, 'envelope')} ${verb === 'pause' ? 'paused' : 'resumed'}\n`);
  } else {
    const r = await client.request({ type: name === 'schedule' ? 'SCHEDULE' : 'REMOVE', id: id! });
    if (r.type === 'COUNT_REPLY') io.out(`${plural(r.count, 'envelope')} ${name === 'schedule' ? 'scheduled' : 'removed'}\n`);
  }
}
