/**
 * MAIL FROM and RCPT TO lines: the path and the ESMTP parameters, checked the way the
 * session answers them (RFC 5321 §4.1.1.2–3, §4.1.2; RFC 1870 SIZE, RFC 6152 BODY, RFC 6531
 * SMTPUTF8, RFC 3461 DSN). Once the path is found, the parameter syntax and the extensions
 * offered are checked first (mail-rcpt-filter.ts), then the rest; the address keeps the
 * spelling the client sent (A-labels stay ASCII). RFC 5321's finer address syntax and lengths are address-check.ts's,
 * asked by the session's handler.
 * Privileges: none. Peers: none. No I/O.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { paramsProblem } from './mail-rcpt-filter';

export interface CommandProblem {
  readonly code: number;
  readonly esc: string;
  readonly text: string;
}

/** NOTIFY and ORCPT of a RCPT */
export interface RcptDsn {
  readonly notify?: ('NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY')[];
  readonly orcpt?: string;
}

export interface AddressCommand {
  /** the path without its angle brackets and source route ('' for the null sender) */
  readonly address: string;
  /** the parameters by upper-case keyword: the xtext-decoded value, or true without one */
  readonly args: Readonly<Record<string, string | true>>;
  /** RCPT only */
  readonly dsn?: RcptDsn;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
/** control and invisible formatting characters: never in an address */
// eslint-disable-next-line no-control-regex
const ADDRESS_UNSAFE = /[\x00-\x1f\x7f-\x9f\u200b\u2060\ufeff]/;
const SOURCE_ROUTE = /^@[^\s,:@]+(?:,@[^\s,:@]+)*:/;
const MAIL_VALUE_PARAMS = ['BODY', 'SIZE', 'RET', 'ENVID'];
const RCPT_VALUE_PARAMS = ['NOTIFY', 'ORCPT'];
const NOTIFY_VALUES = new Set(['NEVER', 'SUCCESS', 'FAILURE', 'DELAY']);

function decodeXtext(v: string): string {
  return v.replace(/\+([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** the domain of an address is a name or an address literal of a valid IP address */
function domainShapeValid(domain: string): boolean {
  if (domain.startsWith('[') && domain.endsWith(']')) {
    const ip = domain.slice(1, -1);
    return ip.toUpperCase().startsWith('IPV6:') ? isIPv6(ip.slice(5)) : isIPv4(ip);
  }
  if (domain.startsWith('.') || domain.endsWith('.') || domain.includes('..') || domain.includes('.-') || domain.includes('-.')) return false;
  return /^[a-zA-Z0-9\u0080-\uffff.-]+$/.test(domain);
}

/** the address is one the session can take at all (the rest is address-check.ts's) */
function addressShapeValid(address: string, kind: 'MAIL' | 'RCPT'): boolean {
  if (ADDRESS_UNSAFE.test(address)) return false;
  if (address === '') return true;
  if (kind === 'RCPT' && address.toLowerCase() === 'postmaster') return true;
  const parts = address.split('@');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return false;
  const [local, domain] = parts as [string, string];
  if (local.length + 1 + domain.length > 253) return false;
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  return domainShapeValid(domain);
}

/**
 * Parses and checks a MAIL or RCPT line.
 * @param offered parameter keywords (upper case) of the extensions offered in the session
 * @param size the SIZE limit announced (0: none)
 */
export function parseAddressCommand(kind: 'MAIL' | 'RCPT', line: string, offered: ReadonlySet<string>, size: number): AddressCommand | { problem: CommandProblem } {
  const bad: CommandProblem = kind === 'MAIL'
    ? { code: 501, esc: '5.1.7', text: 'Bad sender address syntax' }
    : { code: 501, esc: '5.1.3', text: 'Bad recipient address syntax' };
  const colon = line.indexOf(':');
  if (colon < 0) return { problem: bad };
  const words = line.slice(colon + 1).trim().split(/\s+/);
  const path = words.shift() ?? '';
  if (!/^<[^<>]*>$/.test(path)) return { problem: bad };
  // the parameters as sent come first (syntax, offered extensions, xtext), then the rest
  const paramProblem = paramsProblem(words, offered);
  if (paramProblem) return { problem: paramProblem };
  const name = line.slice(0, colon).trim().toUpperCase().replace(/\s+/g, ' ');
  if (name !== (kind === 'MAIL' ? 'MAIL FROM' : 'RCPT TO')) return { problem: bad };
  const address = path.slice(1, -1).replace(SOURCE_ROUTE, '');
  const args: Record<string, string | true> = {};
  for (const w of words) {
    if (w === '') continue;
    const eq = w.indexOf('=');
    const key = (eq < 0 ? w : w.slice(0, eq)).toUpperCase();
    if (key === '') continue;
    const raw = eq < 0 ? '' : w.slice(eq + 1);
    const value: string | true = raw === '' ? true : decodeXtext(raw);
    if (value !== true && CONTROL.test(value)) return { problem: bad };
    if (key in args) return { problem: { code: 501, esc: '5.5.4', text: `Error: duplicate ${key} parameter` } };
    args[key] = value;
  }
  if (!addressShapeValid(address, kind) || (kind === 'RCPT' && address === '')) return { problem: bad };
  for (const key of kind === 'MAIL' ? MAIL_VALUE_PARAMS : RCPT_VALUE_PARAMS) {
    if (args[key] === true) return { problem: { code: 501, esc: '5.5.4', text: `Error: ${key} parameter requires a value` } };
  }
  return kind === 'MAIL' ? mailParams(address, args, size) : rcptParams(address, args);
}

function mailParams(address: string, args: Record<string, string | true>, size: number): AddressCommand | { problem: CommandProblem } {
  const syntax = (text: string) => ({ problem: { code: 501, esc: '5.5.4', text } });
  const sizeArg = args.SIZE;
  if (typeof sizeArg === 'string') {
    if (!/^\d{1,20}$/.test(sizeArg)) return syntax('Error: Bad message size syntax');
    if (size > 0 && Number(sizeArg) > size) return { problem: { code: 552, esc: '5.3.4', text: `Error: message exceeds fixed maximum message size ${size}` } };
  }
  const body = args.BODY;
  if (typeof body === 'string' && !['7bit', '8bitmime'].includes(body.toLowerCase())) return syntax('Invalid BODY parameter value. Must be 7BIT or 8BITMIME');
  if (args.SMTPUTF8 !== undefined && args.SMTPUTF8 !== true) return syntax('Invalid SMTPUTF8 parameter. This flag does not accept a value');
  const ret = args.RET;
  if (typeof ret === 'string' && !['FULL', 'HDRS'].includes(ret.toUpperCase())) return syntax('Invalid RET parameter value. Must be FULL or HDRS');
  return { address, args };
}

function rcptParams(address: string, args: Record<string, string | true>): AddressCommand | { problem: CommandProblem } {
  const syntax = (text: string) => ({ problem: { code: 501, esc: '5.5.4', text } });
  let dsn: { notify?: RcptDsn['notify']; orcpt?: string } | undefined;
  const notify = args.NOTIFY;
  if (typeof notify === 'string') {
    const values = notify.toUpperCase().split(',');
    if (!values.every((v) => NOTIFY_VALUES.has(v))) return syntax('Error: NOTIFY parameter must be NEVER, SUCCESS, FAILURE, or DELAY');
    if (values.includes('NEVER') && values.length > 1) return syntax('Error: NOTIFY=NEVER cannot be combined with other values');
    dsn = { notify: values as RcptDsn['notify'] };
  }
  const orcpt = args.ORCPT;
  if (typeof orcpt === 'string') {
    if (!/^[a-z0-9!#$%&'*+/=?^_`{|}~-]+;./i.test(orcpt)) return syntax('Error: Bad ORCPT parameter syntax');
    dsn = { ...dsn, orcpt };
  }
  return { address, args, ...(dsn ? { dsn } : {}) };
}
