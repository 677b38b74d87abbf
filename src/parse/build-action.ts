/**
 * Actions (OpenSMTPD's dispatchers): local delivery methods and relaying, with their options.
 *
 * Purpose: builder step for `action` statements: unique names, each option once, options that
 * fit the method, relay URL syntax, the table kinds each option needs. No I/O.
 */
import { splitCommand } from '../mail/command-line';
import type { Opt, StmtAst } from './ast';
import type { Action, LocalMethod, StaticTable } from './config';
import { hint } from './diagnostics';
import { where, type BuildContext } from './build-context';
import { filterOption } from './build-filter';
import { delay } from './build-global';
import { useTable } from './build-tables';

type ActionStmt = Extract<StmtAst, { kind: 'action' }>;

const LOCAL_OPTIONS = new Set(['alias', 'virtual', 'userbase', 'user', 'wrapper', 'ttl']);
const RELAY_OPTIONS = new Set([
  'backup', 'host', 'domain', 'helo', 'helo-src', 'pki', 'ca', 'ciphers', 'protocols', 'tls', 'auth',
  'mail-from', 'src', 'srs', 'filter', 'ttl',
]);
const GROUPS = { alias: 'alias/virtual', virtual: 'alias/virtual', host: 'host/domain', domain: 'host/domain' };

/** `[proto://][label@]host[:port]`: returns an error text or undefined. */
export function relayUrlError(url: string): string | undefined {
  const m = /^(?:([a-z+]+):\/\/)?(?:([^@/\s]+)@)?(\[[0-9a-fA-F:.]+\]|[^:/\s[\]@]+)(?::([0-9]+))?$/.exec(url);
  if (!m) return 'expected [smtp|smtp+tls|smtp+notls|smtps|lmtp://][label@]host[:port]';
  const proto = m[1] ?? 'smtp';
  if (!['smtp', 'smtp+tls', 'smtp+notls', 'smtps', 'lmtp'].includes(proto)) {
    return `unknown protocol "${proto}" (smtp, smtp+tls, smtp+notls, smtps or lmtp)`;
  }
  if (m[4] !== undefined && (Number(m[4]) < 1 || Number(m[4]) > 65535)) return `invalid port ${m[4]}`;
  if (proto === 'lmtp' && m[4] === undefined) return 'an lmtp relay needs a port';
  return undefined;
}

function localMethod(ctx: BuildContext, o: Opt): LocalMethod | undefined {
  switch (o.name) {
    case 'mbox':
    case 'forward-only':
    case 'expand-only':
      return { type: o.name };
    case 'maildir':
      return { type: 'maildir', junk: o.flags.includes('junk'), ...(o.args[0] ? { path: o.args[0].value } : {}) };
    case 'lmtp': {
      const dest = o.args[0]!;
      if (!dest.value.startsWith('/') && !/^[^\s:]+:[0-9]{1,5}$|^\[[0-9a-fA-F:.]+\]:[0-9]{1,5}$/.test(dest.value)) {
        ctx.diags.error(dest.pos, `invalid lmtp destination "${dest.value}": expected host:port or /path/to/socket`);
        return undefined;
      }
      return { type: 'lmtp', dest: dest.value, rcptTo: o.flags.includes('rcpt-to') };
    }
    default: {
      const cmd = o.args[0]!;
      try {
        splitCommand(cmd.value);
      } catch (e) {
        ctx.diags.error(cmd.pos, `mda command: ${(e as Error).message}`);
        return undefined;
      }
      return { type: 'mda', command: cmd.value };
    }
  }
}

export function buildAction(ctx: BuildContext, st: ActionStmt): void {
  const name = st.name.value;
  const prev = ctx.actionPos.get(name);
  if (prev) {
    ctx.diags.error(st.name.pos, `action "${name}" is already defined at ${where(prev)}`);
    return;
  }
  ctx.actionPos.set(name, st.name.pos);
  const relay = st.method.name === 'relay';
  const allowed = relay ? RELAY_OPTIONS : LOCAL_OPTIONS;
  const fitting = st.opts.filter((o) => {
    if (allowed.has(o.name)) return true;
    const kind = relay ? 'a relay action' : 'a local delivery action';
    ctx.diags.error(o.pos, `"${o.name}" is not an option of ${kind}${hint(o.name, allowed)}`);
    return false;
  });
  const m = ctx.once(fitting, 'action', GROUPS);
  let ttl: number | undefined;
  const ttlOpt = m.get('ttl');
  if (ttlOpt) ttl = delay(ctx, ttlOpt.args[0]!, 'ttl');
  const common = { name, ...(ttl !== undefined ? { ttl } : {}) };
  const action = relay ? relayAction(ctx, m, common) : localAction(ctx, st.method, m, common);
  if (action) ctx.actions.set(name, action);
}

function localAction(ctx: BuildContext, methodOpt: Opt, m: Map<string, Opt>, common: { name: string; ttl?: number }): Action | undefined {
  const method = localMethod(ctx, methodOpt);
  const user = m.get('user');
  if (user && ['mbox', 'forward-only', 'expand-only'].includes(methodOpt.name)) {
    ctx.diags.error(user.pos, `"user" may not be used with ${methodOpt.name}`);
  }
  const wrapper = m.get('wrapper');
  if (wrapper && !ctx.wrappers.has(wrapper.args[0]!.value)) {
    const w = wrapper.args[0]!;
    ctx.diags.error(w.pos, `no mda wrapper "${w.value}": declare it first with "mda wrapper ${w.value} COMMAND"`);
  }
  const table = (k: string, need: 'mapping', what: string): string | undefined => {
    const o = m.get(k);
    return o?.tables ? useTable(ctx, o.tables, { need, what }) : undefined;
  };
  const alias = table('alias', 'mapping', 'alias');
  const virtual = table('virtual', 'mapping', 'virtual');
  const userbase = table('userbase', 'mapping', 'userbase');
  if (!method) return undefined;
  return {
    kind: 'local',
    ...common,
    method,
    userbase: userbase ?? '<getpwnam>',
    ...(alias ? { alias } : {}),
    ...(virtual ? { virtual } : {}),
    ...(user ? { user: user.args[0]!.value } : {}),
    ...(wrapper ? { wrapper: wrapper.args[0]!.value } : {}),
  };
}

function relayAction(ctx: BuildContext, m: Map<string, Opt>, common: { name: string; ttl?: number }): Action | undefined {
  const backup = m.get('backup');
  const hostOpt = m.get('host') ?? m.get('domain');
  if (backup && hostOpt) {
    ctx.diags.error(backup.pos, `"backup" and "${hostOpt.name}" are mutually exclusive`);
  }
  const authOpt = m.get('auth');
  if (authOpt && !hostOpt) {
    ctx.diags.error(authOpt.pos, '"auth" needs "host" (or "domain"): credentials are only sent to smarthosts');
  }
  const srs = m.get('srs');
  if (srs) ctx.srsNeededAt ??= srs.pos;
  for (const k of ['pki', 'ca'] as const) {
    const o = m.get(k);
    if (o) ctx.pending.push({ kind: k, name: o.args[0]!, anchor: ctx.diags.anchor });
  }
  const host = m.get('host')?.tables ? useTable(ctx, m.get('host')!.tables!, { need: 'list', what: 'host' }) : undefined;
  const domain = m.get('domain')?.tables ? useTable(ctx, m.get('domain')!.tables!, { need: 'mapping', what: 'domain' }) : undefined;
  for (const t of [host, domain]) {
    const table = t !== undefined ? ctx.tables.get(t) : undefined;
    if (table?.kind === 'static' && !ctx.unloaded.has(table.name)) checkUrls(ctx, table, hostOpt!);
  }
  const tbl = (k: string, need: 'list' | 'mapping', what: string, secret = false): string | undefined => {
    const o = m.get(k);
    return o?.tables ? useTable(ctx, o.tables, { need, what, secret }) : undefined;
  };
  const heloSrc = tbl('helo-src', 'mapping', 'helo-src');
  const auth = tbl('auth', 'mapping', 'auth', true);
  const src = tbl('src', 'list', 'src');
  const filter = filterOption(ctx, m.get('filter'));
  const str = (k: string): string | undefined => m.get(k)?.args[0]?.value;
  const tls = m.get('tls');
  return {
    kind: 'relay',
    ...common,
    srs: Boolean(srs),
    ...(backup ? { backup: backup.args[0] ? { mx: backup.args[0].value } : {} } : {}),
    ...(host ? { host } : {}),
    ...(domain ? { domain } : {}),
    ...(str('helo') !== undefined ? { helo: str('helo') } : {}),
    ...(heloSrc ? { heloSrc } : {}),
    ...(str('pki') !== undefined ? { pki: str('pki')!.toLowerCase() } : {}),
    ...(str('ca') !== undefined ? { ca: str('ca')!.toLowerCase() } : {}),
    ...(str('ciphers') !== undefined ? { ciphers: str('ciphers') } : {}),
    ...(str('protocols') !== undefined ? { protocols: str('protocols') } : {}),
    ...(tls ? { tls: tls.flags.includes('no-verify') ? ('no-verify' as const) : ('verify' as const) } : {}),
    ...(auth ? { auth } : {}),
    ...(str('mail-from') !== undefined ? { mailFrom: str('mail-from') } : {}),
    ...(src ? { src } : {}),
    ...(filter ? { filter } : {}),
  };
}

function checkUrls(ctx: BuildContext, t: StaticTable, at: Opt): void {
  const urls = t.type === 'list' ? t.keys : t.pairs.map((p) => p[1]);
  for (const url of urls) {
    const err = relayUrlError(url);
    if (err) ctx.diags.error(at.tables?.pos ?? at.pos, `invalid relay URL "${url}": ${err}`);
  }
}
