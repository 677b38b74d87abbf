/**
 * The Sender Rewriting Scheme, in the address format OpenSMTPD writes and reads (so that the
 * addresses one wrote are still understood after a switch, with the same `srs key`):
 *   SRS0=HHHH=TT=orig-domain=orig-user@forwarder      (first forwarder)
 *   SRS1=HHHH=first-forwarder==HHHH=TT=...@forwarder  (a forwarder of SRS0 mail)
 * HHHH: the first four base64 characters of SHA-1(key || the rest after `HHHH=`); TT: the day
 * number (days since the epoch, mod 1024) in two base32 characters. A returned address is
 * accepted with the key or the backup key, and (SRS0) while TT lies within the ttl in days
 * (or one day ahead, for clocks apart). The local part is used as written: the hash covers its
 * case.
 * Privileges: none (pure). Peers: none; used by lka (decoding bounces) and mta (encoding).
 */
import { createHash } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export interface SrsKeys {
  readonly key: string;
  readonly keyBackup?: string;
  /** how many days a rewritten address stays valid */
  readonly ttlDays: number;
}

function hash(key: string, value: string): string {
  return createHash('sha1').update(key).update(value).digest('base64').slice(0, 4);
}

function dayNumber(nowMs: number): number {
  return Math.floor(nowMs / 86_400_000) % 1024;
}

function timestamp(nowMs: number): string {
  const t = dayNumber(nowMs);
  return `${BASE32[(t >> 5) & 31]}${BASE32[t & 31]}`;
}

/** does TT (two base32 characters) lie within ttl days before today, or one day after? */
function fresh(tt: string, ttlDays: number, nowMs: number): boolean {
  const hi = BASE32.indexOf(tt[0]?.toUpperCase() ?? '');
  const lo = BASE32.indexOf(tt[1]?.toUpperCase() ?? '');
  if (hi < 0 || lo < 0 || tt.length !== 2) return false;
  const then = (hi << 5) | lo;
  const age = (dayNumber(nowMs) - then + 1024) % 1024;
  return age <= ttlDays || age === 1023;
}

/** split at the last '@', keeping case (the hash covers the local part as written) */
function split(address: string): { user: string; domain: string } | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  return { user: address.slice(0, at), domain: address.slice(at + 1) };
}

function signed(keys: SrsKeys, mac: string, rest: string): boolean {
  const ok = (k: string | undefined) => k !== undefined && hash(k, rest) === mac;
  return ok(keys.key) || ok(keys.keyBackup);
}

/** `sender` rewritten for mail forwarded by `forwarderDomain` (the domain the mail was
 * addressed to here); undefined if the sender is not an address */
export function srsEncode(sender: string, forwarderDomain: string, key: string, nowMs = Date.now()): string | undefined {
  const a = split(sender);
  if (!a) return undefined;
  const prefix = a.user.slice(0, 5).toUpperCase();
  if (prefix === 'SRS0=') {
    // the first forwarder's domain goes in; its SRS0 part is kept as it is
    const rest = `${a.domain}==${a.user.slice(5)}@${forwarderDomain}`;
    return `SRS1=${hash(key, rest)}=${rest}`;
  }
  if (prefix === 'SRS1=') {
    // a later forwarder: only the hash changes
    const rest = `${a.user.slice(5)}@${forwarderDomain}`;
    if (rest.length < 5 || !'=+-'.includes(rest[4]!)) return undefined;
    return `SRS1=${hash(key, rest.slice(5))}=${rest.slice(5)}`;
  }
  const rest = `${timestamp(nowMs)}=${a.domain}=${a.user}@${forwarderDomain}`;
  return `SRS0=${hash(key, rest)}=${rest}`;
}

/** is this the local part of an SRS address? */
export function isSrs(address: string): boolean {
  return /^SRS[01]=/i.test(address);
}

/** the address an SRS address stands for (SRS0: the original sender; SRS1: the first
 * forwarder's SRS0 address), or undefined if it is not one of ours or is too old */
export function srsDecode(address: string, keys: SrsKeys, nowMs = Date.now()): string | undefined {
  const a = split(address);
  if (!a || !isSrs(a.user)) return undefined;
  const kind = a.user[3];
  const signedPart = `${a.user.slice(5)}@${a.domain}`;
  // HHHH= and what it signs
  if (signedPart.length < 5 || !'=+-'.includes(signedPart[4]!)) return undefined;
  const mac = signedPart.slice(0, 4);
  const rest = signedPart.slice(5);
  if (!signed(keys, mac, rest)) return undefined;
  const r = split(rest);
  if (!r) return undefined;
  if (kind === '0') {
    // TT=orig-domain=orig-user
    const m = /^(..)[=+-]([^=]+)=(.+)$/s.exec(r.user);
    if (!m || !fresh(m[1]!, keys.ttlDays, nowMs)) return undefined;
    return `${m[3]}@${m[2]}`;
  }
  // first-forwarder==HHHH=TT=orig-domain=orig-user: the first forwarder's SRS0 address
  const eq = r.user.indexOf('=');
  if (eq <= 0) return undefined;
  const srs0 = r.user.slice(eq + 1);
  const m = /^=.{4}[=+-](..)[=+-]/s.exec(srs0);
  if (!m || !fresh(m[1]!, keys.ttlDays, nowMs)) return undefined;
  return `SRS0${srs0}@${r.user.slice(0, eq)}`;
}
