/**
 * The Delivered-To header of local delivery (as OpenSMTPD's mda and Postfix's local add it):
 * `Delivered-To: <dest>` in front of the message; a message whose header block already names
 * the same destination has been here before (an alias or forward loop): it is not delivered
 * again (RFC 5321 §6.3 loop detection, checklist D06, D07).
 * Privileges: none. Pure.
 */

/** the header block (up to the empty line, at most 64 KiB), as text */
function head(content: Buffer): string {
  const part = content.subarray(0, 64 * 1024);
  const end = part.indexOf('\r\n\r\n');
  return part.subarray(0, end < 0 ? part.length : end).toString('latin1');
}

export function hasDeliveredTo(content: Buffer, dest: string): boolean {
  const want = dest.toLowerCase();
  return head(content)
    .split('\r\n')
    .some((line) => {
      const m = /^delivered-to[ \t]*:[ \t]*<?([^>\s]*)>?[ \t]*$/i.exec(line);
      return m !== null && m[1]!.toLowerCase() === want;
    });
}

/** the message with Delivered-To in front; the destination is reduced to printable ASCII */
export function withDeliveredTo(content: Buffer, dest: string): Buffer {
  return Buffer.concat([Buffer.from(`Delivered-To: ${dest.replace(/[^\x21-\x7e]/g, '')}\r\n`, 'latin1'), content]);
}
