/**
 * smtpctl spf walk: for each domain read on standard input, the addresses and networks its SPF
 * record lets send mail (RFC 7208), following include: and redirect=, and turning a and mx
 * into the addresses they name: one per line, each once, for an allowlist. Only terms that
 * pass (no qualifier or "+") are printed; a domain without SPF, or whose lookups fail, is
 * skipped with a note on standard error. At most MAX_LOOKUPS includes and redirects per domain.
 * Privileges: the caller's; needs no daemon. Peers: the DNS resolver (`--resolver` for tests).
 */
import { Resolver } from 'node:dns/promises';
import * as net from 'node:net';

export const MAX_LOOKUPS = 10;

function cidr(address: string, v4: string | undefined, v6: string | undefined): string {
  const len = net.isIPv6(address) ? v6 : v4;
  return len !== undefined ? `${address}/${len}` : address;
}

export class SpfWalker {
  private readonly resolver = new Resolver({ timeout: 5000, tries: 2 });
  readonly found = new Set<string>();

  constructor(server: string | undefined, private readonly warn: (line: string) => void) {
    if (server !== undefined) this.resolver.setServers([server]);
  }

  private async spfRecord(domain: string): Promise<string | undefined> {
    const txt = await this.resolver.resolveTxt(domain).catch(() => [] as string[][]);
    return txt.map((chunks) => chunks.join('')).find((t) => /^v=spf1(?:\s|$)/i.test(t));
  }

  private async addresses(name: string): Promise<string[]> {
    const all = await Promise.allSettled([this.resolver.resolve4(name), this.resolver.resolve6(name)]);
    return all.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  }

  /** every address `domain`'s record allows, added to `found` */
  async walk(domain: string, budget = { left: MAX_LOOKUPS }, seen = new Set<string>()): Promise<void> {
    const d = domain.toLowerCase().replace(/\.$/, '');
    if (seen.has(d)) return;
    seen.add(d);
    const record = await this.spfRecord(d);
    if (record === undefined) return this.warn(`${d}: no SPF record`);
    for (const raw of record.split(/\s+/).slice(1)) {
      if (raw === '') continue;
      const qualifier = /^[+\-~?]/.test(raw) ? raw[0] : '+';
      const term = qualifier === raw[0] ? raw.slice(1) : raw;
      const [name, value] = term.includes(':') ? [term.slice(0, term.indexOf(':')).toLowerCase(), term.slice(term.indexOf(':') + 1)] : term.includes('=') ? [term.slice(0, term.indexOf('=')).toLowerCase(), term.slice(term.indexOf('=') + 1)] : [term.toLowerCase().replace(/\/.*$/, ''), undefined];
      const lens = /\/(\d+)(?:\/\/(\d+))?$/.exec(term);
      if (name === 'redirect' || name === 'include') {
        if (name === 'include' && qualifier !== '+') continue;
        if (value && budget.left-- > 0) await this.walk(value, budget, seen);
        continue;
      }
      if (qualifier !== '+') continue;
      if (name === 'ip4' || name === 'ip6') {
        if (value) this.found.add(value);
      } else if (name === 'a' || name === 'mx') {
        const target = (value ?? d).replace(/\/.*$/, '');
        const hosts = name === 'a' ? [target] : (await this.resolver.resolveMx(target).catch(() => [])).map((m) => m.exchange);
        for (const h of hosts) for (const a of await this.addresses(h)) this.found.add(cidr(a, lens?.[1], lens?.[2]));
      }
    }
  }
}
