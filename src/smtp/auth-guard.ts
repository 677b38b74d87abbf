/**
 * AUTH command rules smtp-server leaves out, and strict SASL decoding.
 *
 * - AUTH is not offered in the EHLO reply of a cleartext session, and AUTH there gets
 *   `538 5.7.11` (RFC 4954), the same answer for any credentials.
 * - AUTH after a successful AUTH, or inside a mail transaction: `503 5.5.1` (RFC 4954 §4).
 * - PLAIN tokens and LOGIN lines must be canonical base64 (smtp-server's decoder skips bad
 *   characters); PLAIN must carry an identity and a password: else `501 5.5.2`, and the
 *   exchange ends (a `*` still cancels it with 501).
 * Installed once, at load, on smtp-server's connection class and SASL table.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import SASL from 'smtp-server/lib/sasl.js';

interface ConnectionInternals {
  secure: boolean;
  session: { user?: unknown; envelope: { mailFrom?: unknown } };
  send(code: number, data?: string | string[], context?: unknown): void;
}
type Callback = () => void;
type Handler = (this: ConnectionInternals, ...args: unknown[]) => void;

/** canonical base64: whole quanta, padding only at the end */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x1f\x7f]/;

function badSyntax(conn: ConnectionInternals, done: Callback, why: string): void {
  conn.send(501, `5.5.2 ${why}`);
  done();
}

/** the PLAIN message is authzid NUL authcid NUL password (RFC 4616) */
function plainProblem(token: string): string | undefined {
  if (token === '' || !BASE64_RE.test(token)) return 'Invalid base64 data';
  const parts = Buffer.from(token, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return 'Malformed AUTH PLAIN message';
  const [authzid, authcid, password] = parts as [string, string, string];
  if ((authcid || authzid) === '' || password === '') return 'Empty user name or password';
  if (CONTROL_RE.test(authzid) || CONTROL_RE.test(authcid)) return 'Invalid characters in the user name';
  return undefined;
}

const proto = (SMTPConnection as unknown as { prototype: Record<string, Handler> }).prototype;
const originalAuth = proto.handler_AUTH!;
proto.handler_AUTH = function handlerAuth(this: ConnectionInternals, command: unknown, done: unknown) {
  const cb = done as Callback;
  if (!this.secure) {
    this.send(538, '5.7.11 Encryption required for requested authentication mechanism');
    return cb();
  }
  if (this.session.user) {
    this.send(503, '5.5.1 Already authenticated');
    return cb();
  }
  if (this.session.envelope.mailFrom) {
    this.send(503, '5.5.1 AUTH not permitted during a mail transaction');
    return cb();
  }
  originalAuth.call(this, command, cb);
};

const originalEhlo = proto.handler_EHLO!;
proto.handler_EHLO = function handlerEhlo(this: ConnectionInternals, command: unknown, done: unknown) {
  if (this.secure) return originalEhlo.call(this, command, done);
  const send = this.send;
  this.send = (code, data, context) => send.call(this, code, Array.isArray(data) ? data.filter((l) => !/^AUTH\b/.test(l)) : data, context);
  try {
    originalEhlo.call(this, command, done);
  } finally {
    // own property removed: the prototype's send is back
    delete (this as Partial<ConnectionInternals>).send;
  }
};

const sasl = SASL as unknown as Record<string, Handler>;
const plainToken = sasl.PLAIN_token!;
sasl.PLAIN_token = function strictPlain(this: ConnectionInternals, canAbort: unknown, raw: unknown, done: unknown) {
  const token = String(raw ?? '').trim();
  if (!(canAbort && token === '*')) {
    const problem = plainProblem(token);
    if (problem) return badSyntax(this, done as Callback, problem);
  }
  plainToken.call(this, canAbort, raw, done);
};

const loginUser = sasl.LOGIN_username!;
sasl.LOGIN_username = function strictLoginUser(this: ConnectionInternals, canAbort: unknown, raw: unknown, done: unknown) {
  const line = String(raw ?? '').trim();
  if (!(canAbort && line === '*') && (line === '' || !BASE64_RE.test(line))) return badSyntax(this, done as Callback, 'Invalid base64 data');
  loginUser.call(this, canAbort, raw, done);
};

const loginPassword = sasl.LOGIN_password!;
sasl.LOGIN_password = function strictLoginPassword(this: ConnectionInternals, user: unknown, raw: unknown, done: unknown) {
  const line = String(raw ?? '').trim();
  if (line !== '*' && (line === '' || !BASE64_RE.test(line))) return badSyntax(this, done as Callback, 'Invalid base64 data');
  loginPassword.call(this, user, raw, done);
};
