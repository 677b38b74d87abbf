/**
 * ALPN on the TLS listeners: a client that offers ALPN protocols, none of them SMTP, is
 * refused with TLS's no_application_protocol alert (RFC 7301 §3.2), as Exim 4.95+ does: a
 * handshake meant for HTTP must not end in an SMTP session (ALPACA, checklist T06). A client
 * that offers no ALPN is served as before, and one that offers "smtp" gets it.
 * tls-settings.ts puts it in the options of every listener's TLS sockets (STARTTLS and smtps).
 * Privileges: none. Peers: none. No I/O.
 */

/** the ALPN names of SMTP (Exim's default tls_alpn) */
export const SMTP_ALPN: readonly string[] = ['smtp', 'esmtp'];

/** Node's ALPNCallback: the protocol chosen, or undefined to refuse the handshake */
export function smtpAlpn({ protocols }: { servername: string; protocols: string[] }): string | undefined {
  return protocols.find((p) => SMTP_ALPN.includes(p));
}
