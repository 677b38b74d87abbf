/**
 * The TLS side of a listener: the first pki's certificate by default and the others by SNI;
 * the listener's `protocols` and `ciphers` (libtls words as OpenSMTPD takes them, or an
 * OpenSSL list); with `verify`, a client certificate signed by the listener's `ca` (the
 * system's trusted roots without one) is required. The options are for server-side
 * tls.TLSSocket over an accepted socket (STARTTLS and smtps alike); `verifyClient` judges the
 * client certificate once the handshake is done, as tls.Server does for its own sockets.
 * Privileges: none (certificates, keys and CA files were read before the drop). No I/O.
 */
import * as tls from 'node:tls';
import type { InetListener } from '../parse/config';
import { smtpAlpn } from './tls-alpn';
import { cipherList, protocolRange } from '../mail/tls-words';

export type Certificates = ReadonlyMap<string, { cert: Buffer; key: Buffer }>;

export interface TlsSetup {
  /** options for `new tls.TLSSocket(socket, options)` on the server side */
  readonly socketOptions: tls.TLSSocketOptions;
  /** a client certificate is required and checked */
  readonly verify: boolean;
}

/** The TLS setup of a listener, or undefined for one without TLS. */
export function tlsSetup(l: InetListener, certs: Certificates, cas: ReadonlyMap<string, Buffer>, defaultCiphers: string): TlsSetup | undefined {
  if (l.tls === 'none' || l.pki.length === 0) return undefined;
  const common: tls.SecureContextOptions = {
    ...protocolRange(l.protocols),
    ciphers: cipherList(l.ciphers ?? defaultCiphers),
    honorCipherOrder: true,
    // resumed sessions keep the client certificate check (OpenSSL needs a context id for that)
    sessionIdContext: 'tsmtpd',
    ...(l.verify && l.ca !== undefined ? { ca: cas.get(l.ca) } : {}),
  };
  const contextOf = (name: string) => tls.createSecureContext({ ...common, ...certs.get(name)! });
  const byName = new Map<string, tls.SecureContext>();
  for (const name of l.pki) if (name !== '*') byName.set(name.toLowerCase(), contextOf(name));
  const fallback = byName.get(l.pki[0]!.toLowerCase()) ?? contextOf(l.pki[0]!);
  return {
    verify: l.verify,
    socketOptions: {
      isServer: true,
      secureContext: fallback,
      SNICallback: (servername, cb) => cb(null, byName.get(servername.toLowerCase()) ?? fallback),
      ALPNCallback: smtpAlpn,
      ...(l.verify ? { requestCert: true, rejectUnauthorized: true } : {}),
    },
  };
}

/** After the handshake: the reason to refuse the client's certificate, or undefined.
 * OpenSSL fails a handshake only when a required certificate is missing; the chain's check
 * is left to the server (Node's tls.Server reads it from the handle, as here). */
export function verifyClient(socket: tls.TLSSocket, setup: TlsSetup): Error | undefined {
  if (!setup.verify) return undefined;
  const handle = (socket as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  if (!handle?.verifyError) return new Error('cannot check the client certificate');
  return handle.verifyError() ?? undefined;
}
