/**
 * MX lookups for outbound mail (RFC 5321 §5.1): the MX records of a domain in preference order
 * (equal preferences in random order), each host with its IPv4 and IPv6 addresses; no MX but
 * addresses: the domain itself (the implicit MX); a null MX (`MX 0 .`, RFC 7505): the domain
 * takes no mail; no such domain, or neither MX nor address: no route. Resolver failures are
 * temporary. `--resolver host:port` sends every query to that server instead of the system's.
 * Privileges: none (lka). Peers: the DNS resolver.
 */
import { Resolver } from 'node:dns/promises';
import type { MxHost } from '../bus/msg-mta-lka';

export type MxAnswer =
  | { readonly hosts: MxHost[] }
  | { readonly error: 'nullmx' | 'nodomain' | 'tempfail'; readonly text: string };

/** the domain has no such record (as opposed to a failure to find out) */
const ABSENT = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'ENONAME']);

function code(e: unknown): string {
  return String((e as NodeJS.ErrnoException).code ?? (e as Error).message);
}

export class Dns {
  private readonly resolver: Resolver;

  constructor(server?: string) {
    this.resolver = new Resolver({ timeout: 5000, tries: 2 });
    if (server !== undefined) this.resolver.setServers([server]);
  }

  /** the IPv4 then IPv6 addresses of `name`; absent records give none, failures throw */
  async addresses(name: string): Promise<string[]> {
    const all = await Promise.allSettled([this.resolver.resolve4(name), this.resolver.resolve6(name)]);
    const out: string[] = [];
    for (const r of all) {
      if (r.status === 'fulfilled') out.push(...r.value);
      else if (!ABSENT.has(code(r.reason))) throw r.reason;
    }
    return out;
  }

  async mx(domain: string): Promise<MxAnswer> {
    let records: { exchange: string; priority: number }[];
    try {
      records = await this.resolver.resolveMx(domain);
    } catch (e) {
      const c = code(e);
      if (c === 'ENOTFOUND') return { error: 'nodomain', text: `${domain}: no such domain` };
      if (c !== 'ENODATA') return { error: 'tempfail', text: `${domain}: MX lookup failed (${c})` };
      records = [];
    }
    if (records.some((r) => r.exchange === '' || r.exchange === '.')) {
      return { error: 'nullmx', text: `${domain} does not accept mail (null MX)` };
    }
    if (records.length === 0) {
      // no MX: the domain itself, if it has an address (RFC 5321 §5.1)
      try {
        const addresses = await this.addresses(domain);
        if (addresses.length === 0) return { error: 'nodomain', text: `${domain}: no MX and no address` };
        return { hosts: [{ name: domain, preference: 0, addresses }] };
      } catch (e) {
        return { error: 'tempfail', text: `${domain}: address lookup failed (${code(e)})` };
      }
    }
    const ordered = records.map((r) => ({ r, tie: Math.random() })).sort((a, b) => a.r.priority - b.r.priority || a.tie - b.tie).map((x) => x.r);
    const hosts: MxHost[] = [];
    let failure: string | undefined;
    for (const r of ordered) {
      try {
        const addresses = await this.addresses(r.exchange);
        if (addresses.length > 0) hosts.push({ name: r.exchange.toLowerCase(), preference: r.priority, addresses });
      } catch (e) {
        failure ??= `${r.exchange}: address lookup failed (${code(e)})`;
      }
    }
    if (hosts.length > 0) return { hosts };
    if (failure !== undefined) return { error: 'tempfail', text: failure };
    // MX hosts without addresses: a misconfiguration that may be fixed; try again later
    return { error: 'tempfail', text: `${domain}: its MX hosts have no address` };
  }
}
