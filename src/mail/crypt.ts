/**
 * Password hashes in the crypt(3) formats: checking a password, making a new hash.
 *
 * Purpose: check an SMTP AUTH password against a credentials table entry (`user  $6$salt$hash`)
 * or a system password from /etc/shadow, and make the hashes that `smtpctl encrypt` prints.
 * Schemes: SHA-512 crypt (`$6$`) and SHA-256 crypt (`$5$`), written from Ulrich Drepper's
 * "Unix crypt using SHA-256 and SHA-512"; MD5 crypt (`$1$`, Poul-Henning Kamp's algorithm);
 * bcrypt (`$2a$`, `$2b$`, `$2y$`) through the bcryptjs package. Every other entry (yescrypt
 * `$y$`, DES, `*`, a locked `!...`, an empty string) matches no password.
 * Privileges: none; pure computation, no I/O (the caller reads the table or the shadow file).
 * Peers: lka for credentials tables, the parent for system passwords, smtpctl encrypt.
 * Limits: passwords over 1024 bytes or containing NUL never match; SHA crypt with more than
 * 5,000,000 rounds and bcrypt with a cost over 16 are refused, to bound the CPU an entry costs.
 */
import { createHash, hash as oneShotHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { genSalt as bcryptGenSalt, hash as bcryptHash } from 'bcryptjs';

export type PasswordScheme = 'sha512' | 'sha256' | 'bcrypt' | 'md5' | 'unsupported';

/** Longer passwords are refused unhashed (SHA crypt's work grows with the square of the length). */
const MAX_PASSWORD_BYTES = 1024;
/** SHA crypt rounds: glibc's default and clamping range, and the most this module will run. */
const SHA_ROUNDS_DEFAULT = 5000;
const SHA_ROUNDS_MIN = 1000;
const SHA_ROUNDS_MAX = 999_999_999;
const SHA_ROUNDS_LIMIT = 5_000_000;
/** Rounds computed between two yields to the event loop, so a verification never blocks it long. */
const SHA_ROUNDS_PER_SLICE = 2000;
/** bcrypt cost: the one hashPassword uses, and the most verifyPassword will run (2^16 rounds). */
const BCRYPT_COST = 10;
const BCRYPT_COST_LIMIT = 16;

/** The crypt base64 alphabet, shared by MD5 and SHA crypt (bcrypt uses another order). */
const B64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CHECKSUM_RE = /^[./0-9A-Za-z]+$/;
const BCRYPT_RE = /^\$2[aby]\$([0-9]{2})\$[./0-9A-Za-z]{53}$/;

/** Which algorithm a stored hash names, from its prefix alone (the rest is checked on use). */
export function schemeOf(hash: string): PasswordScheme {
  if (hash.startsWith('$6$')) return 'sha512';
  if (hash.startsWith('$5$')) return 'sha256';
  if (hash.startsWith('$1$')) return 'md5';
  if (/^\$2[aby]\$/.test(hash)) return 'bcrypt';
  return 'unsupported';
}

/**
 * True if `password` matches the stored crypt(3) `hash`. Never throws: an unsupported scheme,
 * a malformed or locked entry, an over-long password or an over-expensive hash gives false.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    if (typeof password !== 'string' || typeof hash !== 'string') return false;
    if (!acceptablePassword(password)) return false;
    switch (schemeOf(hash)) {
      case 'sha512':
        return await verifySha(512, password, hash);
      case 'sha256':
        return await verifySha(256, password, hash);
      case 'md5':
        return verifyMd5(password, hash);
      case 'bcrypt':
        return await verifyBcrypt(password, hash);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/**
 * A new hash of `password` with a random salt: `$6$` + 16 salt characters and the default
 * 5000 rounds (no `rounds=`), or bcrypt `$2b$10$`. Throws RangeError for a password that
 * verifyPassword would refuse (over 1024 bytes, or containing NUL).
 */
export async function hashPassword(password: string, scheme: 'sha512' | 'bcrypt' = 'sha512'): Promise<string> {
  if (!acceptablePassword(password)) throw new RangeError('password is longer than 1024 bytes or contains NUL');
  if (scheme === 'bcrypt') return bcryptHash(password, await bcryptGenSalt(BCRYPT_COST));
  if (scheme !== 'sha512') throw new RangeError(`unknown password scheme "${String(scheme)}"`);
  let salt = '';
  for (const byte of randomBytes(16)) salt += B64[byte & 0x3f];
  const digest = await shaCrypt(512, Buffer.from(password, 'utf8'), Buffer.from(salt, 'latin1'), SHA_ROUNDS_DEFAULT);
  return `$6$${salt}$${encodeSha(512, digest)}`;
}

/** crypt(3) stops at NUL, so a password containing one could not match what C tools hash. */
function acceptablePassword(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') <= MAX_PASSWORD_BYTES && !password.includes('\0');
}

/** Constant-time comparison of two checksums; false (still without early exit) if lengths differ. */
function sameChecksum(computed: string, stored: string): boolean {
  const a = Buffer.from(computed, 'latin1');
  const b = Buffer.from(stored, 'latin1');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** `buf` repeated (the last copy cut short) to exactly `length` bytes. */
function repeatTo(buf: Buffer, length: number): Buffer {
  return length === 0 ? Buffer.alloc(0) : Buffer.alloc(length, buf);
}

/** Three bytes, most significant first, as `n` crypt-base64 characters, least significant first. */
function b64From24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += B64[w & 0x3f];
    w >>>= 6;
  }
  return out;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One digest of `data`: node:crypto's one-shot hash() (Node >= 20.12, a third faster), else createHash. */
function digestOf(alg: 'sha256' | 'sha512', data: Buffer): Buffer {
  if (typeof oneShotHash === 'function') return oneShotHash(alg, data, 'buffer');
  return createHash(alg).update(data).digest();
}

// ---- SHA-256 / SHA-512 crypt (Drepper) ----------------------------------------------------

/** `$5$` or `$6$`, optional `rounds=N$`, the salt (up to 16 bytes used), `$`, the checksum. */
async function verifySha(bits: 256 | 512, password: string, hash: string): Promise<boolean> {
  let rest = hash.slice(3);
  let rounds = SHA_ROUNDS_DEFAULT;
  const custom = /^rounds=([0-9]+)\$/.exec(rest);
  if (custom) {
    // glibc: any decimal number, clamped to [1000, 999999999]; refuse what costs too much.
    rounds = Math.min(Math.max(Number(custom[1]), SHA_ROUNDS_MIN), SHA_ROUNDS_MAX);
    if (rounds > SHA_ROUNDS_LIMIT) return false;
    rest = rest.slice(custom[0].length);
  }
  const dollar = rest.indexOf('$');
  if (dollar < 0) return false;
  const salt = Buffer.from(rest.slice(0, dollar), 'utf8').subarray(0, 16);
  const stored = rest.slice(dollar + 1);
  if (stored.length !== (bits === 512 ? 86 : 43) || !CHECKSUM_RE.test(stored)) return false;
  const digest = await shaCrypt(bits, Buffer.from(password, 'utf8'), salt, rounds);
  return sameChecksum(encodeSha(bits, digest), stored);
}

/** The final digest C of the specification, steps 1 to 21. */
async function shaCrypt(bits: 256 | 512, key: Buffer, salt: Buffer, rounds: number): Promise<Buffer> {
  const alg = bits === 512 ? 'sha512' : 'sha256';
  // Steps 4-8: digest B = H(key salt key).
  const b = createHash(alg).update(key).update(salt).update(key).digest();
  // Steps 1-3 and 9-12: digest A = H(key salt, B repeated to the key's length, then for each bit
  // of the key length from the lowest up to the highest 1: B for a 1, the key for a 0).
  const a = createHash(alg).update(key).update(salt).update(repeatTo(b, key.length));
  for (let n = key.length; n > 0; n >>>= 1) a.update(n & 1 ? b : key);
  const digestA = a.digest();
  // Steps 13-16: DP = H(key repeated key-length times); P = DP repeated to the key's length.
  const dp = createHash(alg);
  for (let i = 0; i < key.length; i++) dp.update(key);
  const p = repeatTo(dp.digest(), key.length);
  // Steps 17-20: DS = H(salt repeated 16 + A[0] times); S = DS repeated to the salt's length.
  const ds = createHash(alg);
  for (let i = 0; i < 16 + digestA[0]!; i++) ds.update(salt);
  const s = repeatTo(ds.digest(), salt.length);
  // Step 21: the rounds, each input assembled in one buffer: odd rounds P, even rounds the
  // previous digest; S unless the round number divides by 3; P unless it divides by 7; then
  // odd rounds the previous digest, even rounds P.
  let c: Buffer = digestA;
  const input = Buffer.allocUnsafe(2 * p.length + s.length + 2 * c.length);
  for (let i = 0; i < rounds; i++) {
    if (i > 0 && i % SHA_ROUNDS_PER_SLICE === 0) await yieldToEventLoop();
    let n = (i & 1 ? p : c).copy(input, 0);
    if (i % 3 !== 0) n += s.copy(input, n);
    if (i % 7 !== 0) n += p.copy(input, n);
    n += (i & 1 ? c : p).copy(input, n);
    c = digestOf(alg, input.subarray(0, n));
  }
  return c;
}

/**
 * Step 22: the digest as crypt base64, in groups of three bytes taken in the specification's
 * order. SHA-512: 21 groups (k, k+21, k+42) rotated left by k mod 3, then byte 63 alone.
 * SHA-256: 10 groups (k, k+10, k+20) rotated right by k mod 3, then bytes 31 and 30.
 */
function encodeSha(bits: 256 | 512, d: Buffer): string {
  let out = '';
  if (bits === 512) {
    for (let k = 0; k < 21; k++) {
      const g = [d[k]!, d[k + 21]!, d[k + 42]!];
      const r = k % 3;
      out += b64From24(g[r]!, g[(r + 1) % 3]!, g[(r + 2) % 3]!, 4);
    }
    return out + b64From24(0, 0, d[63]!, 2);
  }
  for (let k = 0; k < 10; k++) {
    const g = [d[k]!, d[k + 10]!, d[k + 20]!];
    const r = (3 - (k % 3)) % 3;
    out += b64From24(g[r]!, g[(r + 1) % 3]!, g[(r + 2) % 3]!, 4);
  }
  return out + b64From24(0, d[31]!, d[30]!, 3);
}

// ---- MD5 crypt (Kamp) ---------------------------------------------------------------------

const MD5_MAGIC = Buffer.from('$1$', 'latin1');
const NUL_BYTE = Buffer.alloc(1);

/** `$1$`, the salt (up to 8 bytes used), `$`, 22 checksum characters. Always 1000 rounds. */
function verifyMd5(password: string, hash: string): boolean {
  const rest = hash.slice(3);
  const dollar = rest.indexOf('$');
  if (dollar < 0) return false;
  const salt = Buffer.from(rest.slice(0, dollar), 'utf8').subarray(0, 8);
  const stored = rest.slice(dollar + 1);
  if (stored.length !== 22 || !CHECKSUM_RE.test(stored)) return false;
  return sameChecksum(encodeMd5(md5Crypt(Buffer.from(password, 'utf8'), salt)), stored);
}

function md5Crypt(key: Buffer, salt: Buffer): Buffer {
  // The alternate sum H(key salt key), repeated to the key's length after key, magic and salt.
  const alt = createHash('md5').update(key).update(salt).update(key).digest();
  const ctx = createHash('md5').update(key).update(MD5_MAGIC).update(salt).update(repeatTo(alt, key.length));
  // For each bit of the key length, lowest first: a NUL byte for a 1, the key's first byte for a 0.
  for (let n = key.length; n > 0; n >>>= 1) ctx.update(n & 1 ? NUL_BYTE : key.subarray(0, 1));
  let f = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const h = createHash('md5');
    h.update(i & 1 ? key : f);
    if (i % 3 !== 0) h.update(salt);
    if (i % 7 !== 0) h.update(key);
    h.update(i & 1 ? f : key);
    f = h.digest();
  }
  return f;
}

/** Groups (i, i+6, i+12) for i = 0..3, then (4, 10, 5), then byte 11 alone. */
function encodeMd5(d: Buffer): string {
  let out = '';
  for (let i = 0; i < 4; i++) out += b64From24(d[i]!, d[i + 6]!, d[i + 12]!, 4);
  return out + b64From24(d[4]!, d[10]!, d[5]!, 4) + b64From24(0, 0, d[11]!, 2);
}

// ---- bcrypt (bcryptjs) --------------------------------------------------------------------

/**
 * `$2a$`/`$2b$`/`$2y$`, two-digit cost, 22 salt and 31 checksum characters. bcryptjs rehashes
 * with the stored settings; the 31 checksum characters are compared here in constant time
 * (not the salt characters, whose last one may be written non-canonically). bcrypt uses only
 * the first 72 bytes of a password.
 */
async function verifyBcrypt(password: string, hash: string): Promise<boolean> {
  const m = BCRYPT_RE.exec(hash);
  if (!m) return false;
  const cost = Number(m[1]);
  if (cost < 4 || cost > BCRYPT_COST_LIMIT) return false;
  const computed = await bcryptHash(password, hash.slice(0, 29));
  return sameChecksum(computed.slice(29), hash.slice(29));
}
