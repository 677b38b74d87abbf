/**
 * Format specifiers of smtpd.conf (maildir paths; mda commands later): `%{name}` with
 * - names: sender, rcpt, dest (each also .user and .domain), user.username, user.directory,
 *   mbox.from (the sender, or MAILER-DAEMON for the null sender);
 * - a substring: `[n]` (the character at n), `[n:]`, `[-n:]` (the last n), `[a:b]` (a to b);
 * - modifiers after `:`, chained with `|`: lowercase, uppercase, strip (drops the
 *   sub-address), raw (no sanitizing);
 * - `%%` for a percent sign.
 * Values are sanitized unless `raw`: every character but letters, digits and `_.@+=-` becomes
 * `:`, and a value of only dots becomes colons, so no value can add a path component or climb
 * out of a directory. user.directory is trusted (it comes from the password database).
 * Privileges: none. Pure.
 */

export interface FormatVars {
  readonly sender: string;
  readonly rcpt: string;
  readonly dest: string;
  readonly user: { readonly name: string; readonly home: string };
  readonly subAddrDelim: string;
}

export class FormatError extends Error {}

function parts(address: string): { user: string; domain: string } {
  const at = address.lastIndexOf('@');
  return at < 0 ? { user: address, domain: '' } : { user: address.slice(0, at), domain: address.slice(at + 1) };
}

function value(name: string, v: FormatVars): { text: string; trusted: boolean } {
  const addr: Record<string, string> = { sender: v.sender, rcpt: v.rcpt, dest: v.dest };
  const [base, field] = name.split('.', 2) as [string, string | undefined];
  if (base in addr && (field === undefined || field === 'user' || field === 'domain')) {
    const a = addr[base]!;
    return { text: field === undefined ? a : parts(a)[field], trusted: false };
  }
  if (name === 'user.username') return { text: v.user.name, trusted: false };
  if (name === 'user.directory') return { text: v.user.home, trusted: true };
  if (name === 'mbox.from') return { text: v.sender === '' ? 'MAILER-DAEMON' : v.sender, trusted: false };
  throw new FormatError(`unknown format specifier %{${name}}`);
}

/** `[n]` the character at offset n, `[n:]` from n to the end, `[-n:]` the last n, `[a:b]`
 * offsets a through b (negative offsets count from the end) */
function substring(s: string, range: string): string {
  const m = /^(-?\d+)(?:(:)(-?\d*))?$/.exec(range);
  if (!m) throw new FormatError(`bad substring [${range}]`);
  const at = (n: number) => (n < 0 ? Math.max(0, s.length + n) : n);
  const a = at(Number(m[1]));
  if (m[2] === undefined) return s.slice(a, a + 1);
  if (m[3] === '') return s.slice(a);
  return s.slice(a, at(Number(m[3])) + 1);
}

export function sanitize(s: string): string {
  const safe = s.replace(/[^A-Za-z0-9_.@+=-]/g, ':');
  return /^\.+$/.test(safe) ? safe.replace(/\./g, ':') : safe;
}

/** Expand every `%{...}` of `spec`; throws FormatError on a malformed or unknown specifier. */
export function expandFormat(spec: string, vars: FormatVars): string {
  return spec.replace(/%%|%\{([^}]*)\}|%/g, (whole, inner: string | undefined) => {
    if (whole === '%%') return '%';
    if (inner === undefined) throw new FormatError('a lone % (write %% for a percent sign)');
    const m = /^([a-z]+(?:\.[a-z]+)?)(?:\[([^\]]*)\])?(?::([a-z|]+))?$/.exec(inner);
    if (!m) throw new FormatError(`bad format specifier %{${inner}}`);
    const got = value(m[1]!, vars);
    let text = got.text;
    let raw = got.trusted;
    for (const mod of (m[3] ?? '').split('|').filter(Boolean)) {
      if (mod === 'lowercase') text = text.toLowerCase();
      else if (mod === 'uppercase') text = text.toUpperCase();
      else if (mod === 'raw') raw = true;
      else if (mod === 'strip') {
        const { user, domain } = parts(text);
        const cut = vars.subAddrDelim ? user.split(vars.subAddrDelim)[0]! : user;
        text = domain ? `${cut}@${domain}` : cut;
      } else throw new FormatError(`unknown modifier :${mod}`);
    }
    if (m[2] !== undefined) text = substring(text, m[2]);
    return raw ? text : sanitize(text);
  });
}
