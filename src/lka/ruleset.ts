/**
 * The match ruleset: for one recipient, the first rule whose criteria all hold, checked in
 * OpenSMTPD's order (tag, from, for, helo, auth, tls, mail-from, rcpt-to). No I/O.
 */
import type { MatchRule } from '../parse/config';
import type { SessionInfo } from '../bus/msg-smtp-lka';
import { parseAddress } from '../mail/address';
import type { Service, Tables } from './tables';

export interface RcptQuery {
  readonly session: SessionInfo;
  readonly mailFrom: string;
  readonly rcpt: string;
}

function check(tables: Tables, table: string | undefined, regex: boolean, service: Service, key: string | undefined): boolean {
  if (key === undefined) return false;
  if (table === undefined) return true;
  return tables.match(table, regex ? 'regex' : service, key);
}

function fromHolds(r: MatchRule, q: RcptQuery, tables: Tables): boolean {
  const f = r.from;
  const src = q.session.socket ? 'local' : q.session.src;
  switch (f.type) {
    case 'any':
      return true;
    case 'local':
      return q.session.socket || tables.match('<localhost>', 'netaddr', src);
    case 'socket':
      return q.session.socket;
    case 'src':
      return check(tables, f.table, f.regex, 'netaddr', src);
    case 'rdns':
      return check(tables, f.table, f.regex, 'domain', q.session.rdns);
    case 'auth':
      return check(tables, f.table, f.regex, 'string', q.session.auth);
    case 'mail-from':
      return check(tables, f.table, f.regex, 'mailaddr', q.mailFrom);
  }
}

function forHolds(r: MatchRule, q: RcptQuery, tables: Tables): boolean {
  const f = r.for;
  const domain = parseAddress(q.rcpt).domain;
  switch (f.type) {
    case 'any':
      return true;
    case 'local':
      return tables.match('<localnames>', 'domain', domain);
    case 'domain':
      return check(tables, f.table, f.regex, 'domain', domain);
    case 'rcpt-to':
      return check(tables, f.table, f.regex, 'mailaddr', q.rcpt);
  }
}

export function ruleMatches(r: MatchRule, q: RcptQuery, tables: Tables): boolean {
  const s = q.session;
  const holds = (negate: boolean, v: boolean) => v !== negate;
  if (r.tag && !holds(r.tag.negate, check(tables, r.tag.table, r.tag.regex, 'string', s.tag))) return false;
  if (!holds(r.from.negate, fromHolds(r, q, tables))) return false;
  if (!holds(r.for.negate, forHolds(r, q, tables))) return false;
  if (r.helo && !holds(r.helo.negate, check(tables, r.helo.table, r.helo.regex, 'domain', s.helo))) return false;
  if (r.auth && !holds(r.auth.negate, check(tables, r.auth.table, r.auth.regex, 'string', s.auth))) return false;
  if (r.tls && !holds(r.tls.negate, s.tls)) return false;
  if (r.mailFrom && !holds(r.mailFrom.negate, check(tables, r.mailFrom.table, r.mailFrom.regex, 'mailaddr', q.mailFrom))) return false;
  if (r.rcptTo && !holds(r.rcptTo.negate, check(tables, r.rcptTo.table, r.rcptTo.regex, 'mailaddr', q.rcpt))) return false;
  return true;
}

/** The first matching rule, or undefined. */
export function firstMatch(rules: readonly MatchRule[], q: RcptQuery, tables: Tables): MatchRule | undefined {
  return rules.find((r) => ruleMatches(r, q, tables));
}
