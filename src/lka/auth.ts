/**
 * AUTH credentials and allowed senders for smtp's authenticated sessions.
 * - checkCredentials: the user's hash in the listener's credentials table (`user  $6$...`),
 *   checked with mail/crypt; without a table the parent checks the system passwords.
 * - senderAllowed: a `senders` mailaddrmap (user -> addresses, comma-separated, each an
 *   address, a bare user or an @domain) allows this MAIL FROM.
 * Privileges: none (the daemon user); the shadow database is the parent's. Peers: smtp asks,
 * the parent checks system passwords.
 */
import type { AuthResult } from '../bus/msg-smtp-lka';
import { mailaddrMatches } from '../mail/address';
import { verifyPassword } from '../mail/crypt';
import { TableError, type Tables } from './tables';

const TEMPFAIL = Symbol('tempfail');

/** the value of `key` in `table`, or TEMPFAIL when the table cannot answer now */
function lookup(tables: Tables, table: string, key: string): string | undefined | typeof TEMPFAIL {
  try {
    return tables.lookup(table, key);
  } catch (e) {
    if (e instanceof TableError) return TEMPFAIL;
    throw e;
  }
}

export async function checkCredentials(
  tables: Tables,
  table: string | undefined,
  user: string,
  password: string,
  systemCheck: (user: string, password: string) => Promise<AuthResult>,
): Promise<AuthResult> {
  if (user === '' || password === '') return 'fail';
  if (table === undefined) return systemCheck(user, password);
  const hash = lookup(tables, table, user);
  if (hash === TEMPFAIL) return 'tempfail';
  if (hash === undefined) {
    // spend about the time a real check costs, so a missing user does not show in the timing
    await verifyPassword(password, '$6$tsmtpdnouser$0000000000000000000000000000000000000000000000000000000000000000000000000000000000000');
    return 'fail';
  }
  return (await verifyPassword(password, hash)) ? 'ok' : 'fail';
}

export function senderAllowed(tables: Tables, table: string, user: string, mailFrom: string): 'allowed' | 'refused' | 'tempfail' {
  const value = lookup(tables, table, user);
  if (value === TEMPFAIL) return 'tempfail';
  if (value === undefined || mailFrom === '') return 'refused';
  const allowed = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  return allowed.some((k) => mailaddrMatches(mailFrom, k)) ? 'allowed' : 'refused';
}
