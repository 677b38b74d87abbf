/**
 * The ESMTP parameters of a MAIL or RCPT line, checked as the client sent them (before any
 * xtext is decoded):
 *
 * - ESMTP parameters (RFC 5321 §4.1.2 `esmtp-keyword ["=" esmtp-value]`): a malformed one
 *   gets `501 5.5.4`; one that belongs to no extension offered in this session gets
 *   `555 5.5.4` (RFC 5321 §4.1.1.11); ENVID, ORCPT (rfc822) and AUTH values must be xtext
 *   (RFC 3461 §4, RFC 4954 §5), else `501 5.5.4` (checklist P10, P16).
 * Privileges: none. Peers: none. No I/O; address-command.ts asks it first.
 */

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
/** a source route, accepted and ignored (RFC 5321 §4.1.2 and appendix C) */
const SOURCE_ROUTE = /^@[^\s,:@]+(?:,@[^\s,:@]+)*:/;

/** The path and the parameters of a MAIL or RCPT line; undefined when the path is not
 * `<...>` (address-command.ts refuses it then). */
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
  return parsed ? paramsProblem(parsed.params, offered) : undefined;
}

/** The reply refusing these parameters (the words after the path, as sent), or undefined. */
export function paramsProblem(params: readonly string[], offered: ReadonlySet<string>): ParamProblem | undefined {
  for (const p of params) {
    if (p === '') continue;
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
