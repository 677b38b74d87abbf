/**
 * Envelope address checks smtp-server does not make: RFC 5321 length limits (local part 64,
 * domain 255, label 63, path 256) and 8-bit addresses only with SMTPUTF8 (RFC 6531), valid
 * UTF-8 at that. Returns the reply that refuses the address, or undefined.
 */

export interface AddressProblem {
  readonly code: number;
  readonly esc: string;
  readonly text: string;
}

export function checkAddress(address: string, role: 'sender' | 'recipient', smtputf8: boolean): AddressProblem | undefined {
  const esc = role === 'sender' ? '5.1.7' : '5.1.3';
  const what = role === 'sender' ? 'sender' : 'recipient';
  if (address === '') return undefined;
  if (/[^\x20-\x7e]/.test(address)) {
    if (!smtputf8) return { code: 553, esc: '5.6.7', text: `8-bit ${what} address without SMTPUTF8` };
    const control = [...address].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
    if (address.includes('\ufffd') || control) return { code: 553, esc, text: `Invalid ${what} address` };
  }
  const at = address.lastIndexOf('@');
  const local = at < 0 ? address : address.slice(0, at);
  const domain = at < 0 ? '' : address.slice(at + 1);
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  if (bytes(address) > 254) return { code: 553, esc, text: `The ${what} address is too long` };
  if (bytes(local) > 64) return { code: 553, esc, text: `The local part of the ${what} address is too long` };
  if (bytes(domain) > 255 || domain.split('.').some((l) => bytes(l) > 63)) {
    return { code: 553, esc, text: `The domain of the ${what} address is too long` };
  }
  return undefined;
}
