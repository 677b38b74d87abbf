/**
 * Mail addresses as the rules and tables see them: split into user and domain, with the
 * sub-address (`user+tag`) and OpenSMTPD's mailaddr matching (`user`, `@domain`,
 * `user@domain`, `user@*.domain`). No I/O.
 */

export interface MailAddress {
  /** local part, lower-cased */
  readonly user: string;
  /** domain, lower-cased; '' for a bare user */
  readonly domain: string;
}

export function parseAddress(text: string): MailAddress {
  const at = text.lastIndexOf('@');
  if (at < 0) return { user: text.toLowerCase(), domain: '' };
  return { user: text.slice(0, at).toLowerCase(), domain: text.slice(at + 1).toLowerCase() };
}

export function formatAddress(a: MailAddress): string {
  return a.domain ? `${a.user}@${a.domain}` : a.user;
}

/** `user+tag` -> `user` (and the tag), with the configured delimiter. */
export function stripSubaddress(user: string, delim: string): { user: string; tag?: string } {
  const i = user.indexOf(delim);
  return i <= 0 ? { user } : { user: user.slice(0, i), tag: user.slice(i + 1) };
}

/** A domain against a table key: exact, or `*.example.org` for any subdomain. */
export function domainMatches(domain: string, key: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, '');
  const k = key.toLowerCase().replace(/\.$/, '');
  if (k === '*') return true;
  if (k.startsWith('*.')) return d.endsWith(k.slice(1)) || d === k.slice(2);
  return d === k;
}

/** OpenSMTPD's mailaddr matching of an address against one table key. */
export function mailaddrMatches(address: string, key: string): boolean {
  const a = parseAddress(address);
  const k = key.toLowerCase();
  if (k.startsWith('@')) return domainMatches(a.domain, k.slice(1));
  if (!k.includes('@')) return a.user === k;
  const kk = parseAddress(k);
  return a.user === kk.user && domainMatches(a.domain, kk.domain);
}
