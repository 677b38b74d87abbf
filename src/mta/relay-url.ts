/**
 * Relay URLs (smtpd.conf `relay host`): `[proto://][label@]host[:port]` with proto smtp
 * (opportunistic STARTTLS, the default), smtp+tls (STARTTLS required), smtp+notls, smtps
 * (TLS from the start, port 465 by default) or lmtp (a port is required). The host is a name,
 * an IPv4 address or an IPv6 address in brackets. The label names the credentials of the
 * action's `auth` table. smtps and smtp+tls hosts are verified unless the action says
 * `tls no-verify`.
 * Privileges: none. Peers: none. No I/O.
 */

export type TlsMode = 'opportunistic' | 'starttls' | 'none' | 'smtps';

export interface RelayUrl {
  readonly proto: 'smtp' | 'lmtp';
  readonly tls: TlsMode;
  readonly host: string;
  readonly port: number;
  readonly label?: string;
}

const PROTOS: Readonly<Record<string, { proto: 'smtp' | 'lmtp'; tls: TlsMode; port?: number }>> = {
  smtp: { proto: 'smtp', tls: 'opportunistic', port: 25 },
  'smtp+tls': { proto: 'smtp', tls: 'starttls', port: 25 },
  'smtp+notls': { proto: 'smtp', tls: 'none', port: 25 },
  smtps: { proto: 'smtp', tls: 'smtps', port: 465 },
  lmtp: { proto: 'lmtp', tls: 'none' },
};

/** the URL, or a message saying what is wrong with it */
export function parseRelayUrl(url: string): RelayUrl | string {
  const m = /^(?:([a-z+]+):\/\/)?(?:([^@/\s]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d+))?$/.exec(url.trim());
  if (!m) return `"${url}" is not a relay URL ([proto://][label@]host[:port])`;
  const p = PROTOS[m[1] ?? 'smtp'];
  if (!p) return `"${m[1]}" is not a relay protocol (smtp, smtp+tls, smtp+notls, smtps, lmtp)`;
  const port = m[4] !== undefined ? Number(m[4]) : p.port;
  if (port === undefined) return `${m[1]}:// needs a port`;
  if (port < 1 || port > 65535) return `port ${m[4]} is out of range`;
  const host = m[3]!.startsWith('[') ? m[3]!.slice(1, -1) : m[3]!;
  return { proto: p.proto, tls: p.tls, host, port, ...(m[2] !== undefined ? { label: m[2] } : {}) };
}
