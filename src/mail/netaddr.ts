/**
 * Network addresses and CIDR blocks, for `from src` tables (`10.0.0.0/8`, `[::1]`, `::/0`).
 * No I/O.
 */
import { isIP } from 'node:net';

function v4(addr: string): bigint | undefined {
  const p = addr.split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return undefined;
  return p.reduce((acc, x) => (acc << 8n) | BigInt(Number(x)), 0n);
}

function v6(addr: string): bigint | undefined {
  if (isIP(addr) !== 6) return undefined;
  let a = addr;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted) {
    const n = v4(dotted[1]!);
    if (n === undefined) return undefined;
    a = `${a.slice(0, dotted.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

/** An address as a (family, number) pair; IPv4-mapped IPv6 counts as IPv4. */
export function parseIp(text: string): { family: 4 | 6; n: bigint } | undefined {
  const s = text.replace(/^\[|\]$/g, '').toLowerCase();
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  const n4 = v4(m ? m[1]! : s);
  if (n4 !== undefined) return { family: 4, n: n4 };
  const n6 = v6(s);
  return n6 === undefined ? undefined : { family: 6, n: n6 };
}

/** Does `ip` fall in `key` (an address or a CIDR block, IPv6 possibly in brackets)? */
export function netaddrMatches(ip: string, key: string): boolean {
  const addr = parseIp(ip);
  if (!addr) return false;
  const k = key.replace(/^\[|\]$/g, '').replace(/\](\/\d+)$/, '$1').replace(/^\[/, '');
  const slash = k.lastIndexOf('/');
  const base = parseIp(slash >= 0 ? k.slice(0, slash) : k);
  if (!base || base.family !== addr.family) return false;
  const bits = addr.family === 4 ? 32 : 128;
  const len = slash >= 0 ? Number(k.slice(slash + 1)) : bits;
  if (!Number.isInteger(len) || len < 0 || len > bits) return false;
  const shift = BigInt(bits - len);
  return addr.n >> shift === base.n >> shift;
}
