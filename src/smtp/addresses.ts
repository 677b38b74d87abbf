/**
 * Addresses of smtp's sockets: where a `listen on` statement binds (an address as written,
 * `localhost`, an interface name (its addresses), or `all`/`*`/`0.0.0.0`/`::` (every
 * address), optionally one family only), and a socket's address as sessions name it.
 */
import { isIP } from 'node:net';
import * as os from 'node:os';

/** an IPv4 address as itself, not IPv4-mapped IPv6 (`::ffff:1.2.3.4`), in lower case */
export function plainAddress(a: string | undefined): string {
  return (a ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1').toLowerCase();
}

export function bindAddresses(on: string, family?: 'inet4' | 'inet6'): string[] {
  const want = (a: string) => !family || (family === 'inet4' ? isIP(a) === 4 : isIP(a) === 6);
  const literal = on.replace(/^\[|\]$/g, '');
  if (isIP(literal)) return want(literal) ? [literal] : [];
  if (on === 'localhost') return ['127.0.0.1', '::1'].filter(want);
  if (on === 'all' || on === '*' || on === 'egress') return family === 'inet6' ? ['::'] : ['0.0.0.0'];
  const iface = os.networkInterfaces()[on];
  if (iface) return iface.map((a) => a.address).filter(want);
  throw new Error(`listen on ${on}: no such interface or address`);
}
