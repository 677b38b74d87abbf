/**
 * The TLS words of smtpd.conf (`protocols`, `ciphers`), as OpenSMTPD takes them from libtls,
 * turned into Node's TLS options: for the listeners (smtp) and for outbound connections (mta).
 * Pure.
 */

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
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
