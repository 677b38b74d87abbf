/**
 * The byte-exact SMTP client of the tests, under the name most scenarios use: each send() is
 * one write(), replies are read whole, so protocol edge cases (smuggling, pipelining, bare LF)
 * can be sent exactly as the reliability checklist writes them. See smtp-tls-raw.ts.
 */
export { TlsRawSmtp as RawSmtp, type Reply } from './smtp-tls-raw';
