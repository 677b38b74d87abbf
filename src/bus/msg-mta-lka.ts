/**
 * mta <-> lka: DNS for outbound mail (lka is the one process that asks the resolver).
 *
 * mta -> lka: LKA_MX (the hosts that take mail for a domain).
 * lka -> mta: LKA_MX_RESULT: `hosts` in the order to try them (MX preference, each with its
 * addresses; the domain itself when it has no MX but has addresses), or `error`: `nullmx` (the
 * domain takes no mail, RFC 7505), `nodomain` (no such domain, or no MX and no address),
 * `tempfail` (the resolver failed; `text` says how).
 */
import { COMMON_MESSAGES } from './msg-common';
import { arr, int, lit, obj, opt, str, union, type Infer } from './schema';

export const MxHost = obj({ name: str, preference: int, addresses: arr(str, 64) });
export type MxHost = Infer<typeof MxHost>;

export const MtaToLka = union({
  ...COMMON_MESSAGES,
  LKA_MX: { reqid: int, domain: str },
});
export type MtaToLka = Infer<typeof MtaToLka>;

export const LkaToMta = union({
  ...COMMON_MESSAGES,
  LKA_MX_RESULT: { re: int, hosts: arr(MxHost, 64), error: opt(lit('nullmx', 'nodomain', 'tempfail')), text: opt(str) },
});
export type LkaToMta = Infer<typeof LkaToMta>;
