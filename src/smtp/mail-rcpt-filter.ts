/**
 * MAIL and RCPT checks made on the command line as the client sent it (smtp-server decodes
 * xtext and turns A-labels into U-labels before the application sees anything):
 *
 * - ESMTP parameters (RFC 5321 §4.1.2 `esmtp-keyword ["=" esmtp-value]`): a malformed one
 *   gets `501 5.5.4`; one that belongs to no extension offered in this session gets
 *   `555 5.5.4` (RFC 5321 §4.1.1.11); ENVID, ORCPT (rfc822) and AUTH values must be xtext
 *   (RFC 3461 §4, RFC 4954 §5), else `501 5.5.4`. smtp-server accepted any unknown keyword,
 *   an empty one and broken xtext (checklist P10, P16).
 * - A domain sent in ASCII (A-labels, `xn--…`) stays as sent: smtp-server's conversion to
 *   U-labels made a valid ASCII address an 8-bit one, refused without SMTPUTF8 (553 5.6.7).
 *
 * Installed once, at load, on smtp-server's connection class (imported by main.ts).
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import './replies'; // replies with our own enhanced status codes

export interface ParamProblem {
  readonly code: number;
  readonly esc: string;
  readonly text: string;
}

const KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
/** esmtp-value: printable US-ASCII but "=" (and UTF-8 with SMTPUTF8, RFC 6531 §3.3) */
const VALUE = /^[\x21-\x3c\x3e-\x7e\u0080-\u{10ffff}]+$/u;
/** xtext: printable US-ASCII but "+" and "=", or "+" and two upper-case hex digits */
const XTEXT = /^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})+$/;
/** a source route, accepted and ignored (RFC 5321 §4.1.2 and appendix C), as smtp-server */
const SOURCE_ROUTE = /^@[^\s,:@]+(?:,@[^\s,:@]+)*:/;

/** The path and the parameters of a MAIL or RCPT line, split as smtp-server splits them;
 * undefined when smtp-server will refuse the path itself. */
function split(line: string): { path: string; params: string[] } | undefined {
  const colon = line.indexOf(':');
  if (colon < 0) return undefined;
  const parts = line.slice(colon + 1).trim().split(/\s+/);
  const path = parts.shift() ?? '';
  if (!/^<[^<>]*>$/.test(path)) return undefined;
  return { path: path.slice(1, -1).replace(SOURCE_ROUTE, ''), params: parts.filter((p) => p !== '') };
}

function xtextProblem(key: string, value: string): ParamProblem | undefined {
  let x = value;
  if (key === 'ORCPT') {
    const semi = value.indexOf(';');
    if (semi < 1) return { code: 501, esc: '5.5.4', text: 'Bad ORCPT parameter syntax' };
    if (value.slice(0, semi).toLowerCase() !== 'rfc822') return undefined; // utf-8 (RFC 6533) has its own encoding
    x = value.slice(semi + 1);
  }
  if (key === 'AUTH' && x === '<>') return undefined;
  return XTEXT.test(x) ? undefined : { code: 501, esc: '5.5.4', text: `Invalid xtext in the ${key} parameter` };
}

/**
 * The reply refusing the parameters of a MAIL or RCPT line, or undefined.
 * @param offered parameter keywords (upper case) of the extensions offered in the session
 */
export function esmtpParamProblem(line: string, offered: ReadonlySet<string>): ParamProblem | undefined {
  const parsed = split(line);
  if (!parsed) return undefined;
  for (const p of parsed.params) {
    const eq = p.indexOf('=');
    const key = (eq < 0 ? p : p.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? undefined : p.slice(eq + 1);
    if (!KEYWORD.test(key) || (value !== undefined && !VALUE.test(value))) return { code: 501, esc: '5.5.4', text: 'Syntax error in parameters' };
    if (!offered.has(key)) return { code: 555, esc: '5.5.4', text: `Unsupported parameter ${key}` };
    if (value !== undefined && (key === 'ENVID' || key === 'ORCPT' || key === 'AUTH')) {
      const x = xtextProblem(key, value);
      if (x) return x;
    }
  }
  return undefined;
}

interface ConnectionInternals {
  secure: boolean;
  _server: { options: Record<string, unknown> & { authMethods?: string[] } };
  _isSupported(command: string): boolean;
  send(code: number, data?: string | string[], context?: unknown): void;
}
type Callback = () => void;
type Handler = (this: ConnectionInternals, command: unknown, done: Callback) => void;
type Parse = (this: ConnectionInternals, name: unknown, command: unknown) => false | { address: string };

/** what the EHLO reply of this session offered, as MAIL or RCPT parameter keywords */
function offeredParams(conn: ConnectionInternals, kind: 'MAIL' | 'RCPT'): Set<string> {
  const o = conn._server.options;
  const set = new Set<string>();
  if (kind === 'RCPT') {
    if (!o.hideDSN) ['NOTIFY', 'ORCPT'].forEach((k) => set.add(k));
    return set;
  }
  if (o.size) set.add('SIZE');
  if (!o.hide8BITMIME) set.add('BODY');
  if (!o.hideSMTPUTF8) set.add('SMTPUTF8');
  if (!o.hideDSN) ['RET', 'ENVID'].forEach((k) => set.add(k));
  // AUTH is offered under TLS only (auth-guard.ts)
  if (conn.secure && o.authMethods?.length && conn._isSupported('AUTH')) set.add('AUTH');
  if (conn.secure && !o.hideREQUIRETLS) set.add('REQUIRETLS');
  return set;
}

const proto = (SMTPConnection as unknown as { prototype: Record<string, Handler | Parse> }).prototype;

for (const kind of ['MAIL', 'RCPT'] as const) {
  const original = proto[`handler_${kind}`] as Handler;
  proto[`handler_${kind}`] = function filtered(this: ConnectionInternals, command: unknown, done: Callback) {
    const problem = esmtpParamProblem(String(command ?? ''), offeredParams(this, kind));
    if (problem) {
      this.send(problem.code, `${problem.esc} ${problem.text}`);
      return done();
    }
    original.call(this, command, done);
  } as Handler;
}

const originalParse = proto._parseAddressCommand as Parse;
proto._parseAddressCommand = function asciiStaysAscii(this: ConnectionInternals, name: unknown, command: unknown) {
  const parsed = originalParse.call(this, name, command);
  if (parsed && parsed.address && /[^\x20-\x7e]/.test(parsed.address)) {
    const sent = split(String(command ?? ''))?.path;
    if (sent !== undefined && /^[\x20-\x7e]*$/.test(sent)) parsed.address = sent;
  }
  return parsed;
} as Parse;
