/**
 * A DNS server of the test's own, on UDP 127.0.0.1 (smtpd --resolver points at it): MX, A and
 * AAAA records from a zone given by the test; NXDOMAIN for a name it does not know; an empty
 * answer (NODATA) for a known name without records of the asked type; SERVFAIL for a name
 * marked so. Enough of RFC 1035 for
 * the daemon's resolver, nothing more.
 */
import * as dgram from 'node:dgram';

export interface ZoneEntry {
  /** [preference, exchange]; exchange '.' is a null MX (RFC 7505) */
  readonly mx?: readonly (readonly [number, string])[];
  readonly a?: readonly string[];
  readonly aaaa?: readonly string[];
  /** TXT records, one string each (split into 255-byte pieces on the wire) */
  readonly txt?: readonly string[];
  /** answer every query for this name with SERVFAIL (rcode 2) */
  readonly servfail?: boolean;
}

export type Zone = Record<string, ZoneEntry>;

const TYPE = { A: 1, MX: 15, TXT: 16, AAAA: 28 } as const;

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l !== '');
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
}

/** the question's name and type, and where the question ends */
function question(msg: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let i = 12;
  while (msg[i]! !== 0) {
    const len = msg[i]!;
    labels.push(msg.toString('ascii', i + 1, i + 1 + len));
    i += 1 + len;
  }
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(i + 1), end: i + 5 };
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, k) => b.writeUInt16BE(parseInt(g, 16), k * 2));
  return b;
}

function record(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // the question's name
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // IN
  head.writeUInt32BE(60, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

function answer(zone: Zone, msg: Buffer): Buffer {
  const q = question(msg);
  const entry = zone[q.name];
  const answers: Buffer[] = [];
  if (entry && q.type === TYPE.MX) {
    for (const [pref, host] of entry.mx ?? []) {
      const p = Buffer.alloc(2);
      p.writeUInt16BE(pref);
      answers.push(record(TYPE.MX, Buffer.concat([p, encodeName(host === '.' ? '' : host)])));
    }
  }
  if (entry && q.type === TYPE.A) for (const a of entry.a ?? []) answers.push(record(TYPE.A, Buffer.from(a.split('.').map(Number))));
  if (entry && q.type === TYPE.AAAA) for (const a of entry.aaaa ?? []) answers.push(record(TYPE.AAAA, ipv6Bytes(a)));
  if (entry && q.type === TYPE.TXT) {
    for (const t of entry.txt ?? []) {
      const bytes = Buffer.from(t, 'latin1');
      const pieces: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += 255) {
        const p = bytes.subarray(i, i + 255);
        pieces.push(Buffer.from([p.length]), p);
      }
      answers.push(record(TYPE.TXT, Buffer.concat(pieces)));
    }
  }
  const head = Buffer.alloc(12);
  head.writeUInt16BE(msg.readUInt16BE(0), 0); // id
  // QR, the opcode and RD as asked, AA, RA; NXDOMAIN for an unknown name
  const rcode = !entry ? 3 : entry.servfail ? 2 : 0;
  head.writeUInt16BE(0x8000 | (msg.readUInt16BE(2) & 0x7900) | 0x0400 | 0x0080 | rcode, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(rcode === 0 ? answers.length : 0, 6);
  return Buffer.concat([head, msg.subarray(12, q.end), ...(rcode === 0 ? answers : [])]);
}

export interface FakeDns {
  /** `127.0.0.1:port`, for smtpd --resolver */
  readonly address: string;
  /** how many queries it answered, by `name/type` */
  readonly queries: Map<string, number>;
  close(): Promise<void>;
}

export async function startFakeDns(zone: Zone): Promise<FakeDns> {
  const sock = dgram.createSocket('udp4');
  const queries = new Map<string, number>();
  sock.on('message', (msg, from) => {
    try {
      const q = question(msg);
      queries.set(`${q.name}/${q.type}`, (queries.get(`${q.name}/${q.type}`) ?? 0) + 1);
      sock.send(answer(zone, msg), from.port, from.address);
    } catch {
      // not a query it understands: no answer, as a server that drops it
    }
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${sock.address().port}`,
    queries,
    close: () => new Promise((resolve) => sock.close(() => resolve())),
  };
}
