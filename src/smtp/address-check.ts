/**
 * Envelope address checks beyond the path's shape (address-command.ts): RFC 5321 length
 * limits (local part 64, domain 255, label 63, path 256), 8-bit addresses only with SMTPUTF8
 * (RFC 6531), valid UTF-8 at that, and the RFC 5321 §4.1.2 syntax a permissive parser lets through:
 * a local part is a Dot-string of atext or a whole Quoted-string (no stray quote, backslash,
 * parenthesis or comma), and each label of a domain name starts and ends with a letter or
 * digit. Returns the reply that refuses the address, or undefined.
 */

export interface AddressProblem {
  readonly code: number;
  readonly esc: string;
  readonly text: string;
}

/** RFC 5321 Dot-string: atoms of atext joined by single dots; with SMTPUTF8 (RFC 6531) any
 * non-ASCII character is atext too */
const DOT_STRING = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOT_STRING_UTF8 = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10ffff}-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10ffff}-]+)*$/u;
/** RFC 5321 Quoted-string: qtextSMTP or quoted-pairSMTP between two double quotes */
const QUOTED_STRING = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;
const QUOTED_STRING_UTF8 = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\u{10ffff}]|\\[\x20-\x7e])*"$/u;
/** a label of a domain name (with SMTPUTF8, U-labels bring non-ASCII letters; the 8-bit
 * rule above decides whether they are allowed) */
const LABEL = /^[A-Za-z0-9\u0080-\u{10ffff}](?:[A-Za-z0-9\u0080-\u{10ffff}-]*[A-Za-z0-9\u0080-\u{10ffff}])?$/u;

function localPartValid(local: string, smtputf8: boolean): boolean {
  if (smtputf8) return DOT_STRING_UTF8.test(local) || QUOTED_STRING_UTF8.test(local);
  return DOT_STRING.test(local) || QUOTED_STRING.test(local);
}

function domainValid(domain: string): boolean {
  if (domain.startsWith('[')) return true; // an address literal, checked by address-command.ts
  return domain.split('.').every((l) => LABEL.test(l));
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
  if (!localPartValid(local, smtputf8) || (at >= 0 && !domainValid(domain))) {
    return { code: 501, esc, text: `Bad ${what} address syntax` };
  }
  return undefined;
}
