/**
 * This machine's names and addresses, as smtpd.conf's implicit tables need them: the server
 * name (first line of /etc/mail/mailname, else the host name) and every interface address.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

export function serverName(): string {
  try {
    const first = fs.readFileSync('/etc/mail/mailname', 'utf8').split('\n')[0]!.trim();
    if (first) return first.toLowerCase();
  } catch {
    // no mailname: the host name
  }
  return os.hostname().toLowerCase();
}

/** Every address of every interface (127.0.0.1 and ::1 included). */
export function interfaceAddresses(): string[] {
  const out = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) out.add(a.address.toLowerCase());
  }
  return [...out];
}
