/**
 * The AUTH exchanges the session offers (RFC 4954), PLAIN (RFC 4616) and LOGIN, with strict
 * decoding: tokens and lines must be canonical base64, PLAIN must carry an identity and a
 * password, names no control characters; else `501 5.5.2` and the exchange ends. A `*` line
 * cancels an exchange (501). Each step returns what the session does next: reply and end,
 * send a 334 challenge and wait for a line, or check the credentials (lka, through main.ts).
 * Privileges: none. Peers: none. No I/O.
 */

export type SaslStep =
  | { readonly reply: { readonly code: number; readonly text: string } }
  | { readonly challenge: string; readonly next: (line: string) => SaslStep }
  | { readonly credentials: { readonly method: 'PLAIN' | 'LOGIN'; readonly username: string; readonly password: string } };

export const SASL_METHODS = ['PLAIN', 'LOGIN'] as const;

/** canonical base64: whole quanta, padding only at the end */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x1f\x7f-\x9f]/;

const end = (code: number, text: string): SaslStep => ({ reply: { code, text } });
const aborted = () => end(501, '5.7.0 Authentication aborted');
const badSyntax = (why: string) => end(501, `5.5.2 ${why}`);

/** the PLAIN message is authzid NUL authcid NUL password (RFC 4616) */
function plainToken(canAbort: boolean, raw: string): SaslStep {
  const token = raw.trim();
  if (canAbort && token === '*') return aborted();
  if (token === '' || !BASE64_RE.test(token)) return badSyntax('Invalid base64 data');
  const parts = Buffer.from(token, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return badSyntax('Malformed AUTH PLAIN message');
  const [authzid, authcid, password] = parts as [string, string, string];
  const username = authcid || authzid;
  if (username === '' || password === '') return badSyntax('Empty user name or password');
  if (CONTROL_RE.test(authzid) || CONTROL_RE.test(authcid)) return badSyntax('Invalid characters in the user name');
  return { credentials: { method: 'PLAIN', username, password } };
}

function loginPassword(username: string, raw: string): SaslStep {
  const line = raw.trim();
  if (line === '*') return aborted();
  if (line === '' || !BASE64_RE.test(line)) return badSyntax('Invalid base64 data');
  return { credentials: { method: 'LOGIN', username, password: Buffer.from(line, 'base64').toString('utf8') } };
}

function loginUser(canAbort: boolean, raw: string): SaslStep {
  const line = raw.trim();
  if (canAbort && line === '*') return aborted();
  if (line === '' || !BASE64_RE.test(line)) return badSyntax('Invalid base64 data');
  const username = Buffer.from(line, 'base64').toString('utf8');
  if (username === '') return badSyntax('Empty user name');
  if (CONTROL_RE.test(username)) return badSyntax('Invalid characters in the user name');
  return { challenge: 'UGFzc3dvcmQ6', next: (l) => loginPassword(username, l) };
}

/** The first step of `AUTH <method> [initial-response]` (`args` after the method). */
export function saslStart(method: string, args: readonly string[]): SaslStep {
  if (method === 'PLAIN') {
    if (args.length > 1) return end(501, '5.5.4 Error: syntax: AUTH PLAIN token');
    return args.length === 0 ? { challenge: '', next: (l) => plainToken(true, l) } : plainToken(false, args[0]!);
  }
  if (method === 'LOGIN') {
    if (args.length > 1) return end(501, '5.5.4 Error: syntax: AUTH LOGIN');
    return args.length === 0 ? { challenge: 'VXNlcm5hbWU6', next: (l) => loginUser(true, l) } : loginUser(false, args[0]!);
  }
  return end(504, '5.5.4 Error: Unrecognized authentication type');
}
