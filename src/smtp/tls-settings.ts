/**
 * smtp-server's TLS options for a listener: the first pki's certificate by default and the
 * others by SNI; the listener's `protocols` and `ciphers` (libtls words as OpenSMTPD takes
 * them, or an OpenSSL list); with `verify`, a client certificate signed by the listener's
 * `ca` (the system's trusted roots without one) is required to finish the handshake.
 * Privileges: none (certificates, keys and CA files were read before the drop). No I/O.
 */
import type { InetListener } from '../parse/config';
import { smtpAlpn } from './tls-alpn';
import { cipherList, protocolRange } from '../mail/tls-words';

export type Certificates = ReadonlyMap<string, { cert: Buffer; key: Buffer }>;

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
