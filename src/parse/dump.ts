/**
 * The configuration as understood, normalized: one statement per line (`smtpd -n -v`).
 *
 * Purpose: print a Config back in smtpd.conf syntax with macros expanded, includes spliced,
 * defaults made explicit where they shape meaning (ports, `from local for local`), global
 * options only where they differ from the defaults, every value double-quoted, and a fixed
 * statement order: globals, tables, pki, ca, proc, filter, listen, action, match.
 * The output parses back to the same Config. No I/O.
 */
import type {
  Action,
  Config,
  Filter,
  FilterCondition,
  InetListener,
  Listener,
  MatchRule,
  MtaLimits,
  Table,
  TableName,
} from './config';
import {
  DEFAULT_MTA_MAX_DEFERRED,
  DEFAULT_QUEUE_TTL,
  DEFAULT_SMTP,
  DEFAULT_SRS_TTL_DAYS,
  DEFAULT_WARN_INTERVAL,
} from './defaults';
import { KEYWORDS } from './tokens';
import { formatDelay } from '../util/units';

/** A value as a double-quoted string that reads back as the same value under OpenSMTPD's
 * rules: `"` is written `\"`; a backslash followed by a quote, space or tab is written so that
 * it stays a backslash. (A value ending in a backslash cannot be quoted; none is produced.) */
export function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const next = s[i + 1];
    if (c === '"') out += '\\"';
    else if (c === '\\' && (next === '"' || next === ' ' || next === '\t')) {
      out += `\\\\${next}`;
      i++;
    } else out += c;
  }
  return `${out}"`;
}

const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

/** A name as a bare word when it can be one, else quoted. */
export function bare(s: string): string {
  return /^[^\s(){}<>!=#,"'$\\][^\s(){}<>!=#,\\]*$/.test(s) && !KEYWORD_SET.has(s) ? s : quote(s);
}

function words(parts: (string | undefined | false)[]): string {
  return parts.filter((p): p is string => typeof p === 'string' && p !== '').join(' ');
}

function inlineTable(t: Table): string {
  if (t.kind !== 'static') return `<${bare(t.name)}>`;
  if (t.type === 'list') return `{ ${t.keys.map(quote).join(', ')} }`;
  return `{ ${t.pairs.map(([k, v]) => `${quote(k)} = ${quote(v)}`).join(', ')} }`;
}

export class ConfigDumper {
  private readonly tables: Map<string, Table>;
  private readonly filters: Map<string, Filter>;

  constructor(private readonly config: Config) {
    this.tables = new Map(config.tables.map((t) => [t.name, t]));
    this.filters = new Map(config.filters.map((f) => [f.name, f]));
  }

  private table(name: TableName): string {
    const t = this.tables.get(name);
    return t?.kind === 'static' && t.anonymous ? inlineTable(t) : `<${bare(name)}>`;
  }

  private filterRef(name: string | undefined): string | undefined {
    if (name === undefined) return undefined;
    const f = this.filters.get(name);
    if (f?.kind === 'chain' && f.anonymous) return `filter { ${f.filters.map(quote).join(', ')} }`;
    return `filter ${quote(name)}`;
  }

  lines(): string[] {
    const c = this.config;
    return [
      ...this.globals(),
      ...c.tables.filter((t) => !(t.kind === 'static' && t.anonymous)).map((t) => this.tableStmt(t)),
      ...c.pki.map((p) => words(['pki', quote(p.name), 'cert', quote(p.cert), 'key', quote(p.key), p.dhe !== 'none' && `dhe ${p.dhe}`])),
      ...c.ca.map((a) => `ca ${quote(a.name)} cert ${quote(a.cert)}`),
      ...c.procs.map((p) => words(['proc', quote(p.name), quote(p.command), ...this.procOpts(p)])),
      ...c.filters.filter((f) => !(f.kind === 'chain' && f.anonymous)).map((f) => this.filterStmt(f)),
      ...c.listeners.map((l) => this.listen(l)),
      ...c.actions.map((a) => this.action(a)),
      ...c.rules.map((r) => this.match(r)),
    ];
  }

  private globals(): string[] {
    const c = this.config;
    const out: string[] = [];
    if (c.admd !== undefined) out.push(`admd ${quote(c.admd)}`);
    if (c.bounceWarnInterval.join() !== DEFAULT_WARN_INTERVAL.join()) {
      out.push(`bounce warn-interval ${c.bounceWarnInterval.map(formatDelay).join(', ')}`);
    }
    for (const [name, cmd] of Object.entries(c.mda.wrappers)) out.push(`mda wrapper ${quote(name)} ${quote(cmd)}`);
    const limits = (prefix: string, values: Readonly<Record<string, number>>) =>
      Object.keys(values).length > 0
        ? `${prefix} ${Object.entries(values).map(([k, v]) => `${k} ${v}`).join(' ')}`
        : undefined;
    const mdaLimits = limits('mda limit', c.mda.limits);
    if (mdaLimits) out.push(mdaLimits);
    if (c.mta.maxDeferred !== DEFAULT_MTA_MAX_DEFERRED) out.push(`mta max-deferred ${c.mta.maxDeferred}`);
    const mta = (prefix: string, l: MtaLimits) => {
      if (!l.family && Object.keys(l.values).length === 0) return;
      out.push(words([prefix, l.family, limits('', l.values)?.trim()]));
    };
    mta('mta limit', c.mta.limits);
    for (const [d, l] of Object.entries(c.mta.domainLimits)) mta(`mta limit for domain ${quote(d)}`, l);
    if (c.queue.compression) out.push('queue compression');
    if (c.queue.encryption) {
      const e = c.queue.encryption;
      out.push(words(['queue encryption', e.fromStdin ? 'stdin' : e.key !== undefined ? quote(e.key) : undefined]));
    }
    if (c.queue.ttl !== DEFAULT_QUEUE_TTL) out.push(`queue ttl ${formatDelay(c.queue.ttl)}`);
    const sched = limits('scheduler limit', c.scheduler.limits);
    if (sched) out.push(sched);
    const s = c.smtp;
    if (s.maxMails !== DEFAULT_SMTP.maxMails || s.maxRcpt !== DEFAULT_SMTP.maxRcpt) {
      out.push(`smtp limit max-mails ${s.maxMails} max-rcpt ${s.maxRcpt}`);
    }
    if (s.ciphers !== DEFAULT_SMTP.ciphers) out.push(`smtp ciphers ${quote(s.ciphers)}`);
    if (s.maxMessageSize !== DEFAULT_SMTP.maxMessageSize) out.push(`smtp max-message-size ${s.maxMessageSize}`);
    if (s.subAddrDelim !== DEFAULT_SMTP.subAddrDelim) out.push(`smtp sub-addr-delim ${quote(s.subAddrDelim)}`);
    if (c.srs.key !== undefined) out.push(`srs key ${quote(c.srs.key)}`);
    if (c.srs.keyBackup !== undefined) out.push(`srs key backup ${quote(c.srs.keyBackup)}`);
    if (c.srs.ttlDays !== DEFAULT_SRS_TTL_DAYS) out.push(`srs ttl ${c.srs.ttlDays}d`);
    return out;
  }

  private tableStmt(t: Table): string {
    if (t.kind === 'proc') return `table ${bare(t.name)} ${quote(t.backend + (t.arg !== undefined ? `:${t.arg}` : ''))}`;
    if (t.path !== undefined) return `table ${bare(t.name)} ${quote(`file:${t.path}`)}`;
    return `table ${bare(t.name)} ${inlineTable(t)}`;
  }

  private procOpts(p: { user?: string; group?: string; chroot?: string }): string[] {
    return [
      p.user !== undefined ? `user ${quote(p.user)}` : '',
      p.group !== undefined ? `group ${quote(p.group)}` : '',
      p.chroot !== undefined ? `chroot ${quote(p.chroot)}` : '',
    ];
  }

  private condition(c: FilterCondition): string {
    return words([`${c.negate ? '!' : ''}${c.type}`, c.regex && 'regex', c.table !== undefined && this.table(c.table)]);
  }

  private filterStmt(f: Filter): string {
    const head = `filter ${quote(f.name)}`;
    switch (f.kind) {
      case 'proc':
        return `${head} proc ${quote(f.proc)}`;
      case 'proc-exec':
        return words([head, 'proc-exec', quote(f.command), ...this.procOpts(f)]);
      case 'chain':
        return `${head} chain { ${f.filters.map(quote).join(', ')} }`;
      case 'builtin': {
        const d = f.decision;
        const decision = 'text' in d ? `${d.type} ${quote(d.text)}` : d.type;
        return `${head} phase ${f.phase} match ${this.condition(f.condition)} ${decision}`;
      }
    }
  }

  private listen(l: Listener): string {
    if (l.kind === 'socket') {
      return words(['listen on socket', this.filterRef(l.filter), l.maskSrc && 'mask-src', !l.dsn && 'no-dsn', l.tag !== undefined && `tag ${quote(l.tag)}`]);
    }
    return words(['listen on', quote(l.on), l.family, `port ${l.port}`, ...this.listenTls(l),
      l.auth !== 'none' && words([l.auth === 'required' ? 'auth' : 'auth-optional', l.authTable !== undefined && this.table(l.authTable)]),
      l.tag !== undefined && `tag ${quote(l.tag)}`,
      l.hostname !== undefined && `hostname ${quote(l.hostname)}`,
      l.hostnames !== undefined && `hostnames ${this.table(l.hostnames)}`,
      l.maskSrc && 'mask-src',
      l.receivedAuth && 'received-auth',
      !l.dsn && 'no-dsn',
      l.proxyV2 && 'proxy-v2',
      l.senders && words(['senders', this.table(l.senders.table), l.senders.masquerade && 'masquerade']),
      this.filterRef(l.filter),
    ]);
  }

  private listenTls(l: InetListener): string[] {
    const mode = { none: '', starttls: 'tls', require: 'tls-require', smtps: 'smtps' }[l.tls];
    return [
      words([mode, l.verify && 'verify']),
      ...l.pki.map((p) => `pki ${quote(p)}`),
      l.ca !== undefined ? `ca ${quote(l.ca)}` : '',
      l.ciphers !== undefined ? `ciphers ${quote(l.ciphers)}` : '',
      l.protocols !== undefined ? `protocols ${quote(l.protocols)}` : '',
    ];
  }

  private action(a: Action): string {
    const head = `action ${quote(a.name)}`;
    const ttl = a.ttl !== undefined ? `ttl ${formatDelay(a.ttl)}` : undefined;
    if (a.kind === 'relay') {
      return words([head, 'relay',
        a.backup && words(['backup', a.backup.mx !== undefined && `mx ${quote(a.backup.mx)}`]),
        a.host !== undefined && `host ${this.table(a.host)}`,
        a.domain !== undefined && `domain ${this.table(a.domain)}`,
        a.helo !== undefined && `helo ${quote(a.helo)}`,
        a.heloSrc !== undefined && `helo-src ${this.table(a.heloSrc)}`,
        a.pki !== undefined && `pki ${quote(a.pki)}`,
        a.ca !== undefined && `ca ${quote(a.ca)}`,
        a.ciphers !== undefined && `ciphers ${quote(a.ciphers)}`,
        a.protocols !== undefined && `protocols ${quote(a.protocols)}`,
        a.tls && words(['tls', a.tls === 'no-verify' && 'no-verify']),
        a.auth !== undefined && `auth ${this.table(a.auth)}`,
        a.mailFrom !== undefined && `mail-from ${quote(a.mailFrom)}`,
        a.src !== undefined && `src ${this.table(a.src)}`,
        a.srs && 'srs',
        this.filterRef(a.filter),
        ttl,
      ]);
    }
    const m = a.method;
    const method =
      m.type === 'maildir' ? words(['maildir', m.path !== undefined && quote(m.path), m.junk && 'junk'])
      : m.type === 'lmtp' ? words(['lmtp', quote(m.dest), m.rcptTo && 'rcpt-to'])
      : m.type === 'mda' ? `mda ${quote(m.command)}`
      : m.type;
    return words([head, method,
      a.alias !== undefined && `alias ${this.table(a.alias)}`,
      a.virtual !== undefined && `virtual ${this.table(a.virtual)}`,
      a.userbase !== '<getpwnam>' && `userbase ${this.table(a.userbase)}`,
      a.user !== undefined && `user ${quote(a.user)}`,
      a.wrapper !== undefined && `wrapper ${quote(a.wrapper)}`,
      ttl,
    ]);
  }

  private criterion(name: string, c: { negate: boolean; regex: boolean; table?: TableName; type?: string } | undefined): string | undefined {
    if (!c) return undefined;
    return words([`${c.negate ? '!' : ''}${name}`, c.type, c.regex && 'regex', c.table !== undefined && this.table(c.table)]);
  }

  private match(r: MatchRule): string {
    const decision = r.decision.type === 'reject' ? 'reject' : `action ${quote(r.decision.action)}`;
    return words(['match',
      this.criterion('from', r.from),
      this.criterion('for', r.for),
      this.criterion('tag', r.tag),
      this.criterion('helo', r.helo),
      r.auth && this.criterion('auth', { ...r.auth }),
      r.tls && `${r.tls.negate ? '!' : ''}tls`,
      this.criterion('mail-from', r.mailFrom),
      this.criterion('rcpt-to', r.rcptTo),
      decision,
    ]);
  }
}

export function dumpConfig(config: Config): string {
  return new ConfigDumper(config).lines().map((l) => `${l}\n`).join('');
}
