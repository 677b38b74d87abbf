/**
 * Global options: admd, bounce, mda, mta, queue, scheduler, smtp, srs, pki, ca and proc.
 *
 * Purpose: builder step for the statements that set daemon-wide values. I/O: file checks of
 * pki and ca through the context.
 */
import { splitCommand } from '../mail/command-line';
import type { Opt, StmtAst, Str } from './ast';
import { MAX_WARN_INTERVALS, MDA_LIMIT_DEFAULTS, MTA_LIMIT_DEFAULTS, SCHEDULER_LIMIT_DEFAULTS } from './defaults';
import { hint } from './diagnostics';
import { where, type BuildContext } from './build-context';
import { parseDelay, parseSize } from '../util/units';

type Stmt<K extends StmtAst['kind']> = Extract<StmtAst, { kind: K }>;

const HOSTNAME_RE = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/** A delay with its mandatory unit, or an error. */
export function delay(ctx: BuildContext, s: Str, what: string): number | undefined {
  const d = parseDelay(s.value);
  if (d === 0) {
    ctx.diags.error(s.pos, `invalid ${what} "${s.value}": it must be more than zero`);
    return undefined;
  }
  if (d === undefined) {
    const why = /^[0-9]+$/.test(s.value) ? 'a unit is required (s, m, h or d), e.g. 4h' : 'expected a number and a unit (s, m, h or d), e.g. 4h';
    ctx.diags.error(s.pos, `invalid ${what} "${s.value}": ${why}`);
    return undefined;
  }
  return d;
}

function hostName(ctx: BuildContext, s: Str, what: string): string | undefined {
  if (s.value !== '*' && !HOSTNAME_RE.test(s.value)) {
    ctx.diags.error(s.pos, `${what} name "${s.value}" is not a valid host name (or "*")`);
    return undefined;
  }
  return s.value.toLowerCase();
}

export function buildAdmd(ctx: BuildContext, st: Stmt<'admd'>): void {
  if (!/^[\x20-\x7e]+$/.test(st.value.value)) {
    ctx.diags.error(st.value.pos, 'admd must be printable text');
    return;
  }
  ctx.admd = st.value.value;
}

export function buildBounce(ctx: BuildContext, st: Stmt<'bounce'>): void {
  const delays: number[] = [];
  for (const s of st.delays) {
    const d = delay(ctx, s, 'bounce delay');
    if (d !== undefined) delays.push(d);
  }
  if (st.delays.length > MAX_WARN_INTERVALS) {
    ctx.diags.warning(
      st.delays[MAX_WARN_INTERVALS]!.pos,
      `only the first ${MAX_WARN_INTERVALS} warn intervals are used; the rest are ignored`,
    );
  }
  ctx.bounceWarnInterval = delays.slice(0, MAX_WARN_INTERVALS);
}

export function buildWrapper(ctx: BuildContext, st: Stmt<'mda-wrapper'>): void {
  if (ctx.wrappers.has(st.name.value)) {
    ctx.diags.error(st.name.pos, `mda wrapper "${st.name.value}" is already defined`);
    return;
  }
  try {
    splitCommand(st.command.value);
  } catch (e) {
    // still defined: its uses are not reported again
    ctx.diags.error(st.command.pos, `mda wrapper command: ${(e as Error).message}`);
  }
  ctx.wrappers.set(st.name.value, st.command.value);
}

export function buildLimits(ctx: BuildContext, st: Stmt<'limits'>): void {
  const known =
    st.scope === 'mda' ? MDA_LIMIT_DEFAULTS
    : st.scope === 'mta' ? MTA_LIMIT_DEFAULTS
    : st.scope === 'scheduler' ? SCHEDULER_LIMIT_DEFAULTS
    : { 'max-mails': 0, 'max-rcpt': 0 };
  const mta = st.scope === 'mta'
    ? (st.domain ? (ctx.domainLimits[st.domain.value.toLowerCase()] ??= { values: {} }) : ctx.mtaLimits)
    : undefined;
  for (const o of st.opts) {
    if (o.flags.includes('family')) {
      if (!mta) ctx.diags.error(o.pos, `"${o.name}" is only an mta limit`);
      else mta.family = o.name as 'inet4' | 'inet6';
      continue;
    }
    if (!(o.name in known)) {
      ctx.diags.error(o.pos, `invalid ${st.scope} limit "${o.name}"${hint(o.name, Object.keys(known))}`);
      continue;
    }
    const n = ctx.count(o.args[0]!, `${st.scope} limit ${o.name}`, st.scope === 'smtp' ? 1 : 0);
    if (n === undefined) continue;
    if (mta) mta.values[o.name] = n;
    else if (st.scope === 'mda') ctx.mdaLimits[o.name] = n;
    else if (st.scope === 'scheduler') ctx.schedulerLimits[o.name] = n;
    else if (o.name === 'max-mails') ctx.smtp.maxMails = n;
    else ctx.smtp.maxRcpt = n;
  }
}

export function buildMaxDeferred(ctx: BuildContext, st: Stmt<'mta-max-deferred'>): void {
  const n = ctx.count(st.value, 'mta max-deferred');
  if (n !== undefined) ctx.mtaMaxDeferred = n;
}

export function buildGlobal(ctx: BuildContext, st: Stmt<'global'>): void {
  const o = st.opt;
  const arg = o.args[0];
  switch (`${st.scope} ${o.name}`) {
    case 'queue compression':
      ctx.queueCompression = true;
      return;
    case 'queue encryption': {
      const v = arg?.value;
      ctx.queueEncryption = v === undefined ? { fromStdin: false }
        : v.toLowerCase() === 'stdin' || v === '-' ? { fromStdin: true }
        : { key: v, fromStdin: false };
      if (ctx.queueEncryption.key !== undefined && !/^[0-9a-fA-F]{64}$/.test(ctx.queueEncryption.key)) {
        ctx.diags.error(arg!.pos, 'queue encryption key must be 64 hexadecimal digits (32 bytes), or "stdin"');
      }
      return;
    }
    case 'queue ttl': {
      const d = delay(ctx, arg!, 'queue ttl');
      if (d !== undefined) ctx.queueTtl = d;
      return;
    }
    case 'smtp ciphers':
      ctx.smtp.ciphers = arg!.value;
      return;
    case 'smtp max-message-size': {
      const n = parseSize(arg!.value);
      if (n === undefined) ctx.diags.error(arg!.pos, `invalid size "${arg!.value}": expected bytes or a number with K, M, G or T`);
      else ctx.smtp.maxMessageSize = n;
      return;
    }
    case 'smtp sub-addr-delim': {
      const c = arg!.value;
      if (c.length !== 1 || !/^[\x21-\x7e]$/.test(c) || c === '@') {
        ctx.diags.error(arg!.pos, 'sub-addr-delim must be one printable character other than "@" and space');
      } else ctx.smtp.subAddrDelim = c;
      return;
    }
    case 'srs key':
      if (o.flags.includes('backup')) ctx.srsKeyBackup = arg!.value;
      else ctx.srsKey = arg!.value;
      return;
    case 'srs ttl': {
      const d = delay(ctx, arg!, 'srs ttl');
      if (d === undefined) return;
      if (d < 86400) ctx.diags.error(arg!.pos, `srs ttl "${arg!.value}" is too short: at least 1d`);
      else ctx.srsTtlDays = Math.floor(d / 86400);
      return;
    }
  }
}

export function buildPki(ctx: BuildContext, st: Stmt<'pki'>): void {
  const name = hostName(ctx, st.name, 'pki');
  if (name === undefined) return;
  let p = ctx.pki.get(name);
  if (!p) {
    p = { name, pos: st.name.pos, dhe: 'none' };
    ctx.pki.set(name, p);
  }
  for (const o of st.opts) {
    const v = o.args[0]!;
    if (o.name === 'cert') p.cert = v;
    else if (o.name === 'key') p.key = v;
    else {
      const d = v.value.toLowerCase();
      if (d === 'none' || d === 'auto' || d === 'legacy') p.dhe = d;
      else ctx.diags.error(v.pos, `invalid dhe "${v.value}": expected none, auto or legacy`);
    }
  }
}

/** After all statements: a pki needs both files. */
export function finishPki(ctx: BuildContext): void {
  for (const p of ctx.pki.values()) {
    if (!p.cert) ctx.diags.error(p.pos, `pki "${p.name}" has no certificate: add "pki ${p.name} cert /path/to/cert.pem"`);
    else ctx.readable(p.cert, 'certificate file');
    if (!p.key) ctx.diags.error(p.pos, `pki "${p.name}" has no key: add "pki ${p.name} key /path/to/key.pem"`);
    else if (ctx.readable(p.key, 'key file')) ctx.secrecy(p.key, 'key file');
  }
}

export function buildCa(ctx: BuildContext, st: Stmt<'ca'>): void {
  const name = hostName(ctx, st.name, 'ca');
  if (name === undefined) return;
  if (!ctx.readable(st.cert, 'ca certificate file')) return;
  ctx.ca.set(name, { name, cert: st.cert.value, pos: st.name.pos });
}

export function procOptions(ctx: BuildContext, opts: readonly Opt[]): { user?: string; group?: string; chroot?: string } {
  const m = ctx.once(opts, 'processor');
  const r: { user?: string; group?: string; chroot?: string } = {};
  for (const [k, o] of m) {
    if (k === 'user' || k === 'group' || k === 'chroot') r[k] = o.args[0]!.value;
  }
  return r;
}

export function buildProc(ctx: BuildContext, st: Stmt<'proc'>): void {
  const name = st.name.value;
  const prev = ctx.procPos.get(name);
  if (prev) {
    ctx.diags.error(st.name.pos, `processor "${name}" is already defined at ${where(prev)}`);
    return;
  }
  ctx.procs.set(name, { name, command: st.command.value, ...procOptions(ctx, st.opts) });
  ctx.procPos.set(name, st.name.pos);
}
