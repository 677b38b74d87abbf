/**
 * smtp-server's TLS options for a listener: the first pki's certificate by default and the
 * others by SNI; the listener's `protocols` and `ciphers` (libtls words as OpenSMTPD takes
 * them, or an OpenSSL list); with `verify`, a client certificate signed by the listener's
 * `ca` (the system's trusted roots without one) is required to finish the handshake.
 * Privileges: none (certificates, keys and CA files were read before the drop). No I/O.
 */
import type { InetListener } from '../parse/config';
import { smtpAlpn } from './tls-alpn';

export type Certificates = ReadonlyMap<string, { cert: Buffer; key: Buffer }>;

type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
const ORDER: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** libtls protocol strings: `tlsv1.2:tlsv1.3`, `secure`/`default` (1.2 and 1.3), `legacy`/`all` */
export function protocolRange(spec: string | undefined): { minVersion: TlsVersion; maxVersion: TlsVersion } {
  const picked = new Set<TlsVersion>();
  for (const word of (spec ?? 'secure').toLowerCase().split(/[:,\s]+/).filter(Boolean)) {
    if (word === 'secure' || word === 'default') ['TLSv1.2', 'TLSv1.3'].forEach((v) => picked.add(v as TlsVersion));
    else if (word === 'legacy' || word === 'all') ORDER.forEach((v) => picked.add(v));
    else {
      const m = /^tlsv1(?:\.([0-3]))?$/.exec(word);
      if (m) picked.add(ORDER[Number(m[1] ?? 0)]!);
    }
  }
  const list = ORDER.filter((v) => picked.has(v));
  if (list.length === 0) return { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' };
  return { minVersion: list[0]!, maxVersion: list[list.length - 1]! };
}

/** libtls cipher words to OpenSSL lists; anything else is an OpenSSL list already */
export function cipherList(spec: string): string {
  switch (spec.toLowerCase()) {
    case 'secure':
    case 'default':
      return 'HIGH:!aNULL:!MD5';
    case 'compat':
    case 'legacy':
      return 'HIGH:MEDIUM:!aNULL:!MD5';
    case 'all':
    case 'insecure':
      return 'ALL';
    default:
      return spec;
  }
}

export function tlsOptions(l: InetListener, certs: Certificates, cas: ReadonlyMap<string, Buffer>, defaultCiphers: string): Record<string, unknown> {
  if (l.tls === 'none') return { disabledCommands: ['AUTH', 'STARTTLS'] };
  const auth = l.auth !== 'none';
  const pairs = l.pki.map((name) => ({ name, ...certs.get(name)! }));
  const sniOptions = Object.fromEntries(pairs.filter((p) => p.name !== '*').map((p) => [p.name, { key: p.key, cert: p.cert }]));
  return {
    secure: l.tls === 'smtps',
    key: pairs[0]!.key,
    cert: pairs[0]!.cert,
    sniOptions,
    ...protocolRange(l.protocols),
    ciphers: cipherList(l.ciphers ?? defaultCiphers),
    ...(l.verify ? { requestCert: true, rejectUnauthorized: true, ...(l.ca !== undefined ? { ca: cas.get(l.ca) } : {}) } : {}),
    ALPNCallback: smtpAlpn,
    // STARTTLS stays a known command on smtps listeners: inside TLS it gets 503 (T03)
    disabledCommands: auth ? [] : ['AUTH'],
  };
}
