/**
 * Listeners: `listen on socket` and `listen on <interface|address|host>` with their options.
 *
 * Purpose: builder step for listeners, with OpenSMTPD's checks (one TLS mode, auth needs TLS,
 * TLS and pki need each other, at most 32 pki, tag length). I/O: reads /etc/services for
 * port names through the context.
 */
import type { Opt, StmtAst } from './ast';
import type { InetListener, TlsMode } from './config';
import { MAX_PKI_PER_LISTENER, MAX_TAG_LENGTH } from './defaults';
import type { BuildContext } from './build-context';
import { useTable } from './build-tables';
import { filterOption } from './build-filter';

type ListenStmt = Extract<StmtAst, { kind: 'listen' }>;

const SOCKET_OPTIONS = new Set(['filter', 'mask-src', 'no-dsn', 'tag']);
const GROUPS: Readonly<Record<string, string>> = {
  inet4: 'address family',
  inet6: 'address family',
  tls: 'TLS mode',
  'tls-require': 'TLS mode',
  smtps: 'TLS mode',
  auth: 'auth',
  'auth-optional': 'auth',
  pki: 'pki:',
};

const WELL_KNOWN_PORTS: Readonly<Record<string, number>> = { smtp: 25, smtps: 465, submissions: 465, submission: 587, lmtp: 24 };

function servicePort(ctx: BuildContext, name: string): number | undefined {
  const known = WELL_KNOWN_PORTS[name];
  if (known !== undefined) return known;
  try {
    for (const line of ctx.files.readFile('/etc/services').split('\n')) {
      const m = /^([^\s#]+)\s+(\d+)\/tcp\b(.*)$/.exec(line);
      if (!m) continue;
      const aliases = (m[3] ?? '').split('#')[0]!.trim().split(/\s+/);
      if (m[1] === name || aliases.includes(name)) return Number(m[2]);
    }
  } catch {
    // no services file: only numbers and the well-known names work
  }
  return undefined;
}

function tag(ctx: BuildContext, o: Opt | undefined): string | undefined {
  if (!o) return undefined;
  const v = o.args[0]!;
  if (v.value.length > MAX_TAG_LENGTH) {
    ctx.diags.error(v.pos, `tag "${v.value}" is too long (at most ${MAX_TAG_LENGTH} characters)`);
  }
  return v.value;
}

export function buildListen(ctx: BuildContext, st: ListenStmt): void {
  // pki may be repeated: give each its own key so once() lets them through
  const opts = st.opts.map((o, i) => (o.name === 'pki' ? { ...o, name: `pki:${i}` } : o));
  if (!st.on) {
    buildSocketListener(ctx, st, opts);
    return;
  }
  const groups: Record<string, string> = { ...GROUPS };
  for (const o of opts) if (o.name.startsWith('pki:')) groups[o.name] = o.name;
  const m = ctx.once(opts, 'listener', groups);
  const get = (k: string): Opt | undefined => m.get(k);

  const tlsOpt = get('tls') ?? get('tls-require') ?? get('smtps');
  const tls: TlsMode = !tlsOpt ? 'none' : tlsOpt.name === 'tls' ? 'starttls' : tlsOpt.name === 'tls-require' ? 'require' : 'smtps';
  const pkiOpts = opts.filter((o) => o.name.startsWith('pki:'));
  if (pkiOpts.length > MAX_PKI_PER_LISTENER) {
    ctx.diags.error(pkiOpts[MAX_PKI_PER_LISTENER]!.pos, `too many pki on one listener (at most ${MAX_PKI_PER_LISTENER})`);
  }
  if (tls !== 'none' && pkiOpts.length === 0) {
    ctx.diags.error(tlsOpt!.pos, `"${tlsOpt!.name}" needs a certificate: add "pki NAME" to this listener`);
  }
  if (tls === 'none' && pkiOpts.length > 0) {
    ctx.diags.error(pkiOpts[0]!.pos, '"pki" needs a TLS mode on this listener: add "tls", "tls-require" or "smtps"');
  }
  for (const p of pkiOpts) ctx.pending.push({ kind: 'pki', name: p.args[0]!, anchor: ctx.diags.anchor });

  let port = tls === 'smtps' ? 465 : 25;
  const portOpt = get('port');
  if (portOpt) {
    const v = portOpt.args[0]!;
    const n = /^[0-9]+$/.test(v.value) ? Number(v.value) : servicePort(ctx, v.value);
    if (n === undefined || n < 1 || n > 65535) ctx.diags.error(v.pos, `invalid port "${v.value}": expected 1 to 65535 or a service name`);
    else port = n;
  }

  const authOpt = get('auth') ?? get('auth-optional');
  if (authOpt && tls === 'none') {
    ctx.diags.error(authOpt.pos, `"${authOpt.name}" requires TLS: add "tls", "tls-require" or "smtps" (and a pki) to this listener`);
  }
  const authTable = authOpt?.tables
    ? useTable(ctx, authOpt.tables, { need: 'any', what: authOpt.name, secret: true })
    : undefined;

  const caOpt = get('ca');
  if (caOpt) ctx.pending.push({ kind: 'ca', name: caOpt.args[0]!, anchor: ctx.diags.anchor });
  const hostnamesOpt = get('hostnames');
  const hostnames = hostnamesOpt?.tables
    ? useTable(ctx, hostnamesOpt.tables, { need: 'mapping', what: 'hostnames' })
    : undefined;
  const sendersOpt = get('senders');
  const senders = sendersOpt?.tables
    ? useTable(ctx, sendersOpt.tables, { need: 'mapping', what: 'senders' })
    : undefined;
  const filter = filterOption(ctx, get('filter'));
  const tagValue = tag(ctx, get('tag'));
  const family = get('inet4') ? 'inet4' : get('inet6') ? 'inet6' : undefined;

  const l: InetListener = {
    kind: 'inet',
    on: st.on.value,
    port,
    tls,
    verify: Boolean(tlsOpt?.flags.includes('verify')),
    pki: pkiOpts.map((o) => o.args[0]!.value.toLowerCase()),
    auth: !authOpt ? 'none' : authOpt.name === 'auth' ? 'required' : 'optional',
    maskSrc: m.has('mask-src'),
    receivedAuth: m.has('received-auth'),
    dsn: !m.has('no-dsn'),
    proxyV2: m.has('proxy-v2'),
    ...(family ? { family } : {}),
    ...(caOpt ? { ca: caOpt.args[0]!.value.toLowerCase() } : {}),
    ...(get('ciphers') ? { ciphers: get('ciphers')!.args[0]!.value } : {}),
    ...(get('protocols') ? { protocols: get('protocols')!.args[0]!.value } : {}),
    ...(authTable ? { authTable } : {}),
    ...(tagValue !== undefined ? { tag: tagValue } : {}),
    ...(get('hostname') ? { hostname: get('hostname')!.args[0]!.value } : {}),
    ...(hostnames ? { hostnames } : {}),
    ...(senders ? { senders: { table: senders, masquerade: sendersOpt!.flags.includes('masquerade') } } : {}),
    ...(filter ? { filter } : {}),
  };
  ctx.listeners.push(l);
}

function buildSocketListener(ctx: BuildContext, st: ListenStmt, opts: readonly Opt[]): void {
  if (ctx.socketListenerPos) {
    ctx.diags.error(st.pos, `the socket listener is already configured at ${ctx.socketListenerPos.file}:${ctx.socketListenerPos.line}`);
    return;
  }
  ctx.socketListenerPos = st.pos;
  for (const o of opts) {
    if (!SOCKET_OPTIONS.has(o.name)) {
      const shown = o.name.startsWith('pki:') ? 'pki' : o.name;
      ctx.diags.error(o.pos, `"${shown}" is not allowed on "listen on socket" (only filter, mask-src, no-dsn and tag)`);
    }
  }
  const m = ctx.once(opts.filter((o) => SOCKET_OPTIONS.has(o.name)), 'listener');
  const filter = filterOption(ctx, m.get('filter'));
  const tagValue = tag(ctx, m.get('tag'));
  ctx.listeners.push({
    kind: 'socket',
    implicit: false,
    maskSrc: m.has('mask-src'),
    dsn: !m.has('no-dsn'),
    ...(filter ? { filter } : {}),
    ...(tagValue !== undefined ? { tag: tagValue } : {}),
  });
}
