/**
 * From a recipient to envelopes: the ruleset decides the action; for local delivery, virtual
 * and alias tables are expanded (users, addresses run through the ruleset again, `error:`
 * replies), duplicates dropped, depth limited to 10, and every final user must exist in the
 * userbase; a user's ~/.forward (read by the parent) sends its mail on (addresses, users,
 * `\user` for the mailbox itself, `|command` and `/file` delivered as that user, `:include:`
 * skipped); in alias tables, `|command` and `/file` are delivered as the daemon user and
 * `:include:` files are read (by lka: they must be readable by the daemon user); a bounce to
 * an SRS address of this host goes to the address it stands for (srs.ts). No I/O
 * besides user lookups and .forward reads (through the context).
 */
import type { Action, LocalAction, MatchRule } from '../parse/config';
import type { EnvelopeTarget, SessionInfo } from '../bus/msg-smtp-lka';
import { formatAddress, parseAddress, stripSubaddress } from '../mail/address';
import { splitAliasValues } from '../mail/aliases';
import { firstMatch, type RcptQuery } from './ruleset';
import { isSrs, srsDecode, type SrsKeys } from '../mail/srs';

export { splitAliasValues };
import { TableError, type Tables } from './tables';

export const MAX_EXPANSION_DEPTH = 10;

export interface Reply {
  readonly code: number;
  readonly esc: string;
  readonly text: string;
}

export type Resolution = { readonly ok: true; readonly targets: EnvelopeTarget[] } | ({ readonly ok: false } & Reply);

export interface ExpandContext {
  readonly rules: readonly MatchRule[];
  readonly actions: ReadonlyMap<string, Action>;
  readonly tables: Tables;
  readonly subAddrDelim: string;
  /** does this system (or userbase table) user exist? */
  userExists(user: string, userbase: string): boolean;
  /** the user's ~/.forward, read by the parent: none (deliver to the mailbox), its content, or
   * a temporary failure */
  readForward(user: string, userbase: string): Promise<ForwardContent>;
  /** the user that runs `|command` and `/file` values of alias tables (the daemon user, as
   * OpenSMTPD does) */
  readonly aliasUser: string;
  /** the values of an `:include:` file (one per line, as .forward), or an Error */
  readInclude(file: string): string[];
  /** `srs key`: bounces to SRS addresses signed with it go back to the address they stand for */
  readonly srs?: SrsKeys;
}

export type ForwardContent = { readonly result: 'none' } | { readonly result: 'ok'; readonly content: string } | { readonly result: 'tempfail'; readonly text: string };

/** The values of a .forward file: one line each in the aliases(5) value syntax, `#` comments. */
export function forwardValues(content: string): string[] {
  return content.split('\n').flatMap((line) => (line.trim().startsWith('#') ? [] : splitAliasValues(line)));
}

class Failure extends Error {
  constructor(readonly reply: Reply) {
    super(reply.text);
  }
}

const fail = (code: number, esc: string, text: string): never => {
  throw new Failure({ code, esc, text });
};

class Expander {
  readonly targets = new Map<string, EnvelopeTarget>();
  private readonly seen = new Set<string>();

  constructor(private readonly ctx: ExpandContext, private readonly session: SessionInfo, private readonly mailFrom: string) {}

  /** users whose .forward was read in this expansion (a forward that comes back is a mailbox) */
  private readonly forwarded = new Set<string>();

  async route(address: string, depth: number, internal: boolean): Promise<void> {
    if (depth > MAX_EXPANSION_DEPTH) fail(550, '5.2.4', 'Mailing list expansion problem: expansion too deep');
    // a bounce (null sender) to an address this host rewrote with SRS goes back to the address
    // it stands for, as mail from this host (OpenSMTPD marks it internal); a forged or expired
    // one is left as it is (and is most likely refused as an unknown user)
    if (this.ctx.srs && this.mailFrom === '' && isSrs(address)) {
      const original = srsDecode(address, this.ctx.srs);
      if (original !== undefined) {
        address = original;
        internal = true;
      }
    }
    const q: RcptQuery = {
      session: internal ? { ...this.session, src: 'local', socket: true } : this.session,
      mailFrom: this.mailFrom,
      rcpt: address,
    };
    const rule = firstMatch(this.ctx.rules, q, this.ctx.tables);
    if (!rule) {
      if (this.isLocalDomain(parseAddress(address).domain)) fail(550, '5.1.1', 'Invalid recipient');
      fail(550, '5.7.1', 'Relaying denied');
    }
    if (rule!.decision.type === 'reject') fail(550, '5.7.1', 'Delivery not authorized, message refused');
    const action = this.ctx.actions.get((rule!.decision as { action: string }).action);
    if (!action) fail(451, '4.3.0', 'Temporary failure: unknown action');
    if (action!.kind === 'relay') {
      this.add({ action: action!.name, dest: address });
      return;
    }
    await this.expandLocal(address, action as LocalAction, depth);
  }

  /** a domain of this host, or one a rule delivers for: an unknown user there is "invalid
   * recipient", not "relaying denied" */
  private isLocalDomain(domain: string): boolean {
    const t = this.ctx.tables;
    return t.match('<localnames>', 'domain', domain) || this.ctx.rules.some((r) =>
      r.decision.type === 'action' && r.for.type === 'domain' && r.for.table !== undefined && !r.for.regex && t.match(r.for.table, 'domain', domain));
  }

  /** a local delivery: the mailbox (no `via`), or a command or a file. forward-only actions
   * take neither (only what aliases and .forward send elsewhere): a temporary failure, as in
   * OpenSMTPD; expand-only actions have no mailbox: a permanent failure */
  private addLocal(action: LocalAction, t: EnvelopeTarget): void {
    if (action.method.type === 'forward-only') fail(451, '4.7.1', 'Temporary failure: this address only forwards, and nothing forwards it elsewhere');
    if (action.method.type === 'expand-only' && t.via === undefined) fail(550, '5.1.1', 'Invalid recipient: this address only expands, and nothing expands it');
    this.add(t);
  }

  private add(t: EnvelopeTarget): void {
    this.targets.set(`${t.action}\0${t.dest}\0${t.via?.kind ?? ''}\0${t.via?.value ?? ''}`, t);
  }

  private async expandLocal(address: string, action: LocalAction, depth: number): Promise<void> {
    const key = `${action.name}\0${address}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const a = parseAddress(address);
    const { user, tag } = stripSubaddress(a.user, this.ctx.subAddrDelim);
    let values: string | undefined;
    if (action.virtual) {
      const d = a.domain;
      const keys = [...(tag !== undefined ? [`${user}${this.ctx.subAddrDelim}${tag}@${d}`] : []), `${user}@${d}`, ...(tag !== undefined ? [`${user}${this.ctx.subAddrDelim}${tag}`] : []), user, `@${d}`, '@'];
      for (const k of keys) {
        values = this.ctx.tables.lookup(action.virtual, k);
        if (values !== undefined) break;
      }
      if (values === undefined) fail(550, '5.1.1', 'Invalid recipient');
    } else if (action.alias) {
      values = this.ctx.tables.lookup(action.alias, user);
    }
    if (values === undefined) {
      await this.deliverToUser(address, user, action, depth, true);
      return;
    }
    const list = splitAliasValues(values);
    if (list.length === 0) fail(550, '5.2.4', 'Mailing list expansion problem');
    for (const v of list) await this.expandValue(v, address, user, action, depth, undefined);
  }

  /** one value of an alias list, or of the ~/.forward of `owner` */
  private async expandValue(v: string, address: string, user: string, action: LocalAction, depth: number, owner: string | undefined): Promise<void> {
    const fromForward = owner !== undefined;
    const err = /^:?error:([45]\d\d) (.+)$/i.exec(v);
    if (err) {
      const code = Number(err[1]);
      const text = err[2]!;
      const esc = /^(\d\.\d{1,3}\.\d{1,3}) /.exec(text);
      fail(code, esc ? esc[1]! : code >= 500 ? '5.0.0' : '4.0.0', esc ? text.slice(esc[0].length) : text);
    }
    const include = /^:?include:(.*)$/i.exec(v);
    if (include) {
      if (fromForward) return; // .forward files skip :include:
      const file = include[1]!.trim();
      if (!file.startsWith('/')) fail(550, '5.1.3', `Invalid alias value "${v}": :include: needs an absolute path`);
      let values: string[] = [];
      try {
        values = this.ctx.readInclude(file);
      } catch (e) {
        fail(451, '4.3.0', `Temporary failure: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      for (const x of values) await this.expandValue(x, address, user, action, depth + 1, undefined);
      return;
    }
    // a command or a file: run as the .forward's owner, or, from an alias table, as the
    // daemon user (the quotes of "|cmd" are gone already)
    const runAs = owner ?? this.ctx.aliasUser;
    if (/^\|/.test(v)) {
      this.addLocal(action, { action: action.name, dest: address, via: { kind: 'command', value: v.slice(1).trim(), user: runAs } });
      return;
    }
    if (v.startsWith('/')) {
      this.addLocal(action, { action: action.name, dest: address, via: { kind: 'file', value: v, user: runAs } });
      return;
    }
    // `\user` in a .forward: that user's own mailbox, not looked up again
    const keep = fromForward && v.startsWith('\\');
    const value = keep ? v.slice(1) : v;
    if (value.includes('@') && !keep) {
      await this.route(value, depth + 1, true);
      return;
    }
    const target = value.toLowerCase();
    if (target === user || keep) {
      await this.deliverToUser(address, user, action, depth, false); // itself: the user's own mailbox
      return;
    }
    if (!/^[a-z0-9_.+-]+$/.test(target)) fail(550, '5.1.3', `Invalid alias value "${v}"`);
    const next = formatAddress({ user: target, domain: parseAddress(address).domain });
    // a user named by a virtual table is a mailbox, not looked up again (or a catch-all
    // would swallow every mapped address)
    if (action.virtual) await this.deliverToUser(next, target, action, depth, true);
    else await this.expandLocal(next, action, depth + 1);
  }

  /** the user's mailbox, unless `forward` and the user's ~/.forward sends the mail elsewhere */
  private async deliverToUser(address: string, user: string, action: LocalAction, depth: number, forward: boolean): Promise<void> {
    const who = action.user ?? user;
    if (!this.ctx.userExists(who, action.userbase)) fail(550, '5.1.1', 'Invalid recipient');
    const key = `${action.userbase}\0${who}`;
    if (forward && !this.forwarded.has(key)) {
      this.forwarded.add(key);
      const f = await this.ctx.readForward(who, action.userbase);
      if (f.result === 'tempfail') fail(451, '4.2.1', f.text.replace(/^\d{3} \d\.\d+\.\d+ /, ''));
      const values = f.result === 'ok' ? forwardValues(f.content) : [];
      if (values.length > 0) {
        for (const v of values) await this.expandValue(v, address, user, action, depth + 1, who);
        return;
      }
    }
    this.addLocal(action, { action: action.name, dest: address });
  }
}

/** Envelopes for one recipient, or the reply that refuses it. */
export async function resolveRecipient(ctx: ExpandContext, session: SessionInfo, mailFrom: string, rcpt: string): Promise<Resolution> {
  const e = new Expander(ctx, session, mailFrom);
  try {
    await e.route(rcpt, 0, false);
  } catch (err) {
    if (err instanceof Failure) return { ok: false, ...err.reply };
    if (err instanceof TableError) return { ok: false, code: 451, esc: '4.3.0', text: 'Temporary failure: table lookup failed' };
    throw err;
  }
  if (e.targets.size === 0) return { ok: false, code: 550, esc: '5.2.4', text: 'Mailing list expansion problem' };
  return { ok: true, targets: [...e.targets.values()] };
}
