/**
 * ALPN on the TLS listeners: a client that offers ALPN protocols, none of them SMTP, is
 * refused with TLS's no_application_protocol alert (RFC 7301 §3.2), as Exim 4.95+ does: a
 * handshake meant for HTTP must not end in an SMTP session (ALPACA, checklist T06). A client
 * that offers no ALPN is served as before, and one that offers "smtp" gets it.
 *
 * smtp-server copies a fixed list of its options (TLS_SOCKET_OPTIONS) onto the TLS sockets it
 * makes, for STARTTLS and implicit TLS alike; ALPNCallback is added to that list at load.
 * main.ts passes `ALPNCallback: smtpAlpn` with a TLS listener's options.
 */
import * as connection from 'smtp-server/lib/smtp-connection.js';

/** the ALPN names of SMTP (Exim's default tls_alpn) */
export const SMTP_ALPN: readonly string[] = ['smtp', 'esmtp'];

const copied = (connection as unknown as { TLS_SOCKET_OPTIONS: string[] }).TLS_SOCKET_OPTIONS;
if (!copied.includes('ALPNCallback')) copied.push('ALPNCallback');

/** Node's ALPNCallback: the protocol chosen, or undefined to refuse the handshake */
export function smtpAlpn({ protocols }: { servername: string; protocols: string[] }): string | undefined {
  return protocols.find((p) => SMTP_ALPN.includes(p));
}
