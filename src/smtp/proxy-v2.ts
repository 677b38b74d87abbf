/**
 * The PROXY protocol version 2 header (`proxy-v2` listeners; haproxy's proxy-protocol.txt
 * §2.2): every connection starts with the binary header of the proxy in front, and the client
 * address of the session is the one it carries (smtp-listener.ts reads it before anything).
 * A connection without a valid header is closed without a banner. LOCAL (the proxy's own
 * health checks) and UNIX or unspecified families keep the socket's address; UDP is refused.
 * Privileges: none. Peers: none. No I/O beyond the accepted socket.
 */
import type { Socket } from 'node:net';

export const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** the largest header accepted (addresses and TLVs) */
export const MAX_HEADER = 16 + 4096;

export type ProxyParse =
  | { readonly need: number }
  | { readonly error: string }
  | { readonly length: number; readonly address?: string; readonly port?: number };

function ipv6(b: Buffer): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(b.readUInt16BE(i).toString(16));
  return words.join(':').replace(/^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/, (_m, hi: string, lo: string) => {
    const n = (parseInt(hi, 16) << 16) | parseInt(lo, 16);
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  });
}

/** Parse the start of a connection: more bytes needed, a refusal, or the header's length and
 * the client address it carries. */
export function parseProxyV2(buf: Buffer): ProxyParse {
  const sig = Math.min(buf.length, SIGNATURE.length);
  if (!buf.subarray(0, sig).equals(SIGNATURE.subarray(0, sig))) return { error: 'not a PROXY protocol v2 header' };
  if (buf.length < 16) return { need: 16 - buf.length };
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return { error: `PROXY protocol version ${verCmd >> 4}` };
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return { error: `unknown PROXY command ${cmd}` };
  const len = buf.readUInt16BE(14);
  if (16 + len > MAX_HEADER) return { error: 'PROXY header too long' };
  if (buf.length < 16 + len) return { need: 16 + len - buf.length };
  const body = buf.subarray(16, 16 + len);
  if (cmd === 0) return { length: 16 + len }; // LOCAL: the proxy speaking for itself
  const fam = buf[13]!;
  if (fam === 0x11) {
    if (len < 12) return { error: 'short IPv4 address block' };
    return { length: 16 + len, address: [...body.subarray(0, 4)].join('.'), port: body.readUInt16BE(8) };
  }
  if (fam === 0x21) {
    if (len < 36) return { error: 'short IPv6 address block' };
    return { length: 16 + len, address: ipv6(body.subarray(0, 16)), port: body.readUInt16BE(32) };
  }
  if (fam === 0x00 || fam === 0x31 || fam === 0x32) return { length: 16 + len };
  return { error: `unsupported PROXY address family 0x${fam.toString(16)}` };
}

/**
 * Reads the PROXY v2 header at the start of `socket`: `done` gets the client address it
 * carries (undefined for LOCAL and the families without one), or an error after which the
 * socket has been destroyed. Bytes after the header stay on the socket for the session.
 */
export function readProxyHeader(socket: Socket, done: (err: Error | null, address?: string) => void): void {
  let buf = Buffer.alloc(0);
  let finished = false;
  const finish = (err: Error | null, address?: string) => {
    if (finished) return;
    finished = true;
    socket.removeListener('readable', read);
    socket.removeListener('close', closed);
    if (err) socket.destroy();
    done(err, address);
  };
  const closed = () => finish(new Error('closed before the PROXY header'));
  const read = () => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) {
      buf = Buffer.concat([buf, chunk]);
      const r = parseProxyV2(buf);
      if ('need' in r) continue;
      if ('error' in r) return finish(new Error(r.error));
      const rest = buf.subarray(r.length);
      if (rest.length > 0) socket.unshift(rest);
      return finish(null, r.address);
    }
  };
  socket.on('readable', read);
  socket.on('close', closed);
  socket.on('error', () => finish(new Error('socket error before the PROXY header')));
}
