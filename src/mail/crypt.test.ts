// Unit tests of password hashes: known answers from real tools and from Drepper's specification,
// refusal of unsupported, malformed and over-expensive entries, and new hashes read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, schemeOf, verifyPassword } from './crypt';

/** Checks that `password` matches `hash` and that a one-character change does not. */
async function known(password: string, hash: string): Promise<void> {
  assert.equal(await verifyPassword(password, hash), true, `${JSON.stringify(password)} should match ${hash}`);
  assert.equal(await verifyPassword(password + 'x', hash), false, `wrong password should not match ${hash}`);
}

/** Resolves with how many milliseconds `p` took. */
async function elapsed(p: () => Promise<unknown>): Promise<number> {
  const start = Date.now();
  await p();
  return Date.now() - start;
}

// Test vectors of "Unix crypt using SHA-256 and SHA-512" (Drepper): setting, password, result.
// Each also checked against this machine's libxcrypt with Python 3.11's crypt.crypt(password,
// setting); libxcrypt refuses rounds=10 outright, so that case was checked there as rounds=1000.
const DREPPER: [string, string][] = [
  ['Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
  ['Hello world!', '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA'],
  ['This is just a test', '$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5'],
  [
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1',
  ],
  ['we have a short salt string but not a short password', '$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/'],
  ['a short string', '$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD'],
  ['the minimum number is still observed', '$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC'],
  ['Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  [
    'Hello world!',
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  ],
  [
    'This is just a test',
    '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
  ],
  [
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  ],
  [
    'we have a short salt string but not a short password',
    '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
  ],
  [
    'a short string',
    '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
  ],
  [
    'the minimum number is still observed',
    '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
  ],
];

test("Drepper's SHA-256 and SHA-512 crypt test vectors", async () => {
  for (const [password, hash] of DREPPER) {
    // A wrong password is tried only where it is cheap: 77777 and 123456 rounds take a while.
    if (/rounds=(77777|123456)\$/.test(hash)) assert.equal(await verifyPassword(password, hash), true, hash);
    else await known(password, hash);
  }
});

test('rounds= is clamped like glibc: 10 and 0 mean 1000; an explicit 5000 is the default', async () => {
  // The specification's "$6$rounds=10$roundstoolow" case: glibc writes the result as rounds=1000.
  const low = 'the minimum number is still observed';
  assert.equal(await verifyPassword(low, '$6$rounds=10$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.'), true);
  assert.equal(await verifyPassword(low, '$6$rounds=0$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.'), true);
  assert.equal(await verifyPassword(low, '$5$rounds=10$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC'), true);
  // "$6$rounds=5000$toolongsaltstring": the salt is cut to 16 bytes, 5000 is the default.
  const test5000 = 'lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0';
  assert.equal(await verifyPassword('This is just a test', `$6$toolongsaltstrin$${test5000}`), true);
  assert.equal(await verifyPassword('This is just a test', `$6$toolongsaltstring$${test5000}`), true);
  assert.equal(await verifyPassword('This is just a test', `$6$rounds=5001$toolongsaltstrin$${test5000}`), false);
});

test('SHA-512 crypt hashes made by openssl and mkpasswd', async () => {
  // openssl passwd -6 -salt saltsaltsaltsalt 'correct horse battery staple'
  await known('correct horse battery staple', '$6$saltsaltsaltsalt$csoGsaC3yxEIvMdVpxO2zEQlhCHi/6pnPVKHT3nfribhRDnEOL4O5nnsAETH/r6rG0vxiN/wRElsAf4u8CK4d.');
  // mkpasswd -m sha-512 -S 'Q9kqZ.Hx/0ZP1bwn' 'pässwörd'   (UTF-8 password)
  await known('pässwörd', '$6$Q9kqZ.Hx/0ZP1bwn$QUThF2911fvgdRxU4k3YAS6IHJXFuQswhDUHAFkEWbGB5y6XgVmtAykADommjOqBKq9.yN3Aw1In4JTwzRV83/');
  // mkpasswd -m sha-512 -R 10000 -S abcdefgh secret
  await known('secret', '$6$rounds=10000$abcdefgh$dtkgtX8ow6kub/Iulo6m6YRiWBlfmJEeDmTXbQPwlPu6qBjkZV2Ix8CeH0sE3NMp3Sq63bHshmKLBUGe7mWYy/');
  // python3 -c "import crypt; print(crypt.crypt('', '\$6\$emptysalt'))"   (empty password)
  await known('', '$6$emptysalt$TrI.h19YNad.S.Xw2WEgON9ojBrkXYcCfZrEcOEa9k/Bp5Sw4dxhsyY0KdBJ5Vt2UbEFOMolXqrfnZHc1QRM..');
  // python3 -c "import crypt; print(crypt.crypt('x'*200, '\$6\$abcdefgh'))"   (several blocks)
  await known('x'.repeat(200), '$6$abcdefgh$tpP3/LI4wMLKhgKp8bTwVQweEEM46u1QVpxJ4s7//kd/n92pnKvxNc51RM.csWa9OlZn10Z4pRopwomQmhBXx1');
  // python3 -c "import crypt; print(crypt.crypt(('0123456789abcdef'*32)[:511], '\$6\$longlonglonglong'))"
  // (511 bytes: the longest password libxcrypt accepts)
  await known('0123456789abcdef'.repeat(32).slice(0, 511), '$6$longlonglonglong$HIKuQvJ.7EoUTHTvuLkNPoW5dbjBVazHTu/rgZ89dpmQWbbfzRXDMzbt2skG56EKEdvYExcWB1eaQaN7ifi5c0');
  // openssl passwd -6 -salt longlonglonglong "$(printf 'a%.0s' $(seq 256))"   (openssl's limit is 256)
  await known('a'.repeat(256), '$6$longlonglonglong$cbTrZZECjxqQvuCPoiAU4z2o87wIxQOI6W2kk2ITQcu4nn5AUGD0bbrq7NYT6Ezu.Wghnn7RJHqnS/33kWRtX/');
});

test('SHA-256 crypt hashes made by openssl and mkpasswd', async () => {
  // openssl passwd -5 -salt saltsaltsaltsalt 'correct horse battery staple'
  await known('correct horse battery staple', '$5$saltsaltsaltsalt$bPJpWK7vm672W79VQB0m5/jkpFJLCXVgRFgJGTHMelA');
  // mkpasswd -m sha-256 -R 2000 -S abcdefgh secret
  await known('secret', '$5$rounds=2000$abcdefgh$XBRXX9zoBDpGbKdvcfMAWt0YeAUBDNNlgztxJdk6Oy9');
  // python3 -c "import crypt; print(crypt.crypt('x'*200, '\$5\$abcdefgh'))"
  await known('x'.repeat(200), '$5$abcdefgh$p1DRMssem7UX3RykoeHgHd2cOJOmkx4pzILzbY0TMm9');
  // python3 -c "import crypt; print(crypt.crypt(('0123456789abcdef'*32)[:511], '\$5\$longlonglonglong'))"
  await known('0123456789abcdef'.repeat(32).slice(0, 511), '$5$longlonglonglong$sL5tNo0qL.EQ662GyoJqKuSFY850.0HJzo.U0A9.rJ0');
});

test('MD5 crypt hashes made by openssl and mkpasswd', async () => {
  // openssl passwd -1 -salt saltsalt 'correct horse battery staple'
  await known('correct horse battery staple', '$1$saltsalt$BsXyQbZiQujHkdhwPwdol.');
  // mkpasswd -m md5crypt -S 12345678 'pässwörd'
  await known('pässwörd', '$1$12345678$mQ1/t.WwP76MO4VquZEL.0');
  // python3 -c "import crypt; print(crypt.crypt('', '\$1\$empty'))"
  await known('', '$1$empty$dcN8YAzH./JGClDgyY17..');
  // python3 -c "import crypt; print(crypt.crypt('x'*200, '\$1\$abcdefgh'))"
  await known('x'.repeat(200), '$1$abcdefgh$z6x8uc2YR4Iwn7XrK8ZMY/');
});

test('bcrypt $2b$, $2a$ and $2y$ hashes made by mkpasswd and libxcrypt', async () => {
  // mkpasswd -m bcrypt -R 5 -S abcdefghijklmnopqrstuu 'correct horse battery staple'
  await known('correct horse battery staple', '$2b$05$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS');
  // python3 -c "import crypt; print(crypt.crypt('correct horse battery staple', '\$2a\$05\$abcdefghijklmnopqrstuu'))"
  await known('correct horse battery staple', '$2a$05$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS');
  // python3 -c "import crypt; print(crypt.crypt('correct horse battery staple', '\$2y\$05\$abcdefghijklmnopqrstuu'))"
  await known('correct horse battery staple', '$2y$05$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS');
  // python3 -c "import crypt; print(crypt.crypt('U*U', '\$2a\$05\$CCCCCCCCCCCCCCCCCCCCC.'))"   (Openwall's vector)
  await known('U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
  // The last salt character carries 2 unused bits: a non-canonical one ('/' for '.') still matches.
  assert.equal(await verifyPassword('U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC/E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'), true);
});

test('bcrypt uses only the first 72 bytes of a password', async () => {
  // python3 -c "import crypt; print(crypt.crypt('a'*72, '\$2b\$04\$abcdefghijklmnopqrstuu'))"
  const hash = '$2b$04$abcdefghijklmnopqrstuuBzzIgyKkz7xMWYSzkIjUSnxEQFQ0WNe';
  assert.equal(await verifyPassword('a'.repeat(72), hash), true);
  assert.equal(await verifyPassword('a'.repeat(73), hash), true);
  assert.equal(await verifyPassword('a'.repeat(71), hash), false);
});

test('unsupported schemes and locked or empty entries never match', async () => {
  const entries = [
    '$y$j9T$DwlURhIEerS5f5VjmNcBp1$tFE9wY14cALnbnTWkeSkYXOBuI3AhUjfkCfZAyySKv9', // mkpasswd -m yescrypt secret
    'abNANd1rDfiNc', // mkpasswd -m descrypt -S ab secret
    '$apr1$saltsalt$PU9q8.HoFJEM7m9NSIooE1', // openssl passwd -apr1 -salt saltsalt 'correct horse battery staple'
    '*',
    '!',
    '!!',
    '*LK*',
    '',
    '!$6$saltsaltsaltsalt$csoGsaC3yxEIvMdVpxO2zEQlhCHi/6pnPVKHT3nfribhRDnEOL4O5nnsAETH/r6rG0vxiN/wRElsAf4u8CK4d.',
    '*$1$saltsalt$BsXyQbZiQujHkdhwPwdol.',
    ' $1$saltsalt$BsXyQbZiQujHkdhwPwdol.',
  ];
  for (const hash of entries) {
    assert.equal(schemeOf(hash), 'unsupported', hash);
    assert.equal(await verifyPassword('secret', hash), false, hash);
    assert.equal(await verifyPassword('correct horse battery staple', hash), false, hash);
    assert.equal(await verifyPassword('', hash), false, hash);
  }
});

test('schemeOf names the scheme from the prefix', () => {
  assert.equal(schemeOf('$6$salt$x'), 'sha512');
  assert.equal(schemeOf('$5$salt$x'), 'sha256');
  assert.equal(schemeOf('$1$salt$x'), 'md5');
  assert.equal(schemeOf('$2a$10$x'), 'bcrypt');
  assert.equal(schemeOf('$2b$10$x'), 'bcrypt');
  assert.equal(schemeOf('$2y$10$x'), 'bcrypt');
  assert.equal(schemeOf('$2x$10$x'), 'unsupported');
  assert.equal(schemeOf('$2$10$x'), 'unsupported');
  assert.equal(schemeOf('$7$x'), 'unsupported');
  assert.equal(schemeOf('$6'), 'unsupported');
});

test('garbage and truncated hashes give false, never an exception', async () => {
  const sha = '$6$saltsaltsaltsalt$csoGsaC3yxEIvMdVpxO2zEQlhCHi/6pnPVKHT3nfribhRDnEOL4O5nnsAETH/r6rG0vxiN/wRElsAf4u8CK4d.';
  const bcrypt = '$2b$05$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS';
  const garbage = [
    '$6$',
    '$6$saltsaltsaltsalt',
    '$6$saltsaltsaltsalt$',
    sha.slice(0, -1),
    sha + '.',
    sha.slice(0, -1) + '*',
    sha.slice(0, -1) + '$',
    sha.replace('$saltsaltsaltsalt$', '$'),
    '$6$rounds=$saltsaltsaltsalt$' + sha.slice(-86),
    '$6$rounds=-5$saltsaltsaltsalt$' + sha.slice(-86),
    '$6$rounds=1e4$saltsaltsaltsalt$' + sha.slice(-86),
    '$6$rounds=5000$' + sha.slice(-86),
    '$5$saltsaltsaltsalt$' + sha.slice(-86),
    '$1$saltsalt$',
    '$1$saltsalt$BsXyQbZiQujHkdhwPwdol',
    '$1$saltsaltBsXyQbZiQujHkdhwPwdol.',
    bcrypt.slice(0, -1),
    bcrypt + 'S',
    bcrypt.replace('$05$', '$5$'),
    bcrypt.replace('$05$', '$03$'),
    bcrypt.replace('$05$', '$aa$'),
    bcrypt.replace('$2b$', '$2x$'),
    bcrypt.replace('uFiP', 'u*iP'),
    '$2b$05$',
    '$2b$',
    '$\u00e9$\u0000',
  ];
  for (const hash of garbage) {
    assert.equal(await verifyPassword('correct horse battery staple', hash), false, hash);
  }
  // Values that are not strings at all (a caller bug) are refused too.
  assert.equal(await verifyPassword(undefined as unknown as string, sha), false);
  assert.equal(await verifyPassword('correct horse battery staple', null as unknown as string), false);
});

test('SHA crypt rounds above 5,000,000 are refused without hashing', async () => {
  // mkpasswd -m sha-512 -R 5000001 -S capcapcap secret
  const hash = '$6$rounds=5000001$capcapcap$FBkcoyQS20ECK2Tcx5C.7ssSUEBcDiOcBYj3glxNORRP83MUA0MSARO8WNz0sdErYjSMF3ZyP6NZqTA5woFFY.';
  assert.ok((await elapsed(async () => assert.equal(await verifyPassword('secret', hash), false))) < 1000);
  const huge = `$6$rounds=99999999999999999999$capcapcap$${hash.slice(-86)}`;
  assert.equal(await verifyPassword('secret', huge), false);
  assert.equal(await verifyPassword('secret', `$5$rounds=1000000000$capcapcap$${'a'.repeat(43)}`), false);
});

test('bcrypt costs above 16 are refused without hashing', async () => {
  // A cost-17 hash would take many seconds in bcryptjs; it is refused before any work.
  const hash = '$2b$17$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS';
  assert.equal(schemeOf(hash), 'bcrypt');
  assert.ok((await elapsed(async () => assert.equal(await verifyPassword('correct horse battery staple', hash), false))) < 1000);
});

test('passwords over 1024 bytes, or with NUL, are refused', async () => {
  // bcrypt reads only 72 bytes, so without the guard every one of these would match.
  const hash = '$2b$04$abcdefghijklmnopqrstuuBzzIgyKkz7xMWYSzkIjUSnxEQFQ0WNe'; // 'a' * 72, see above
  assert.equal(await verifyPassword('a'.repeat(1024), hash), true);
  assert.equal(await verifyPassword('a'.repeat(1025), hash), false);
  assert.equal(await verifyPassword('a'.repeat(72) + '\u00e9'.repeat(477), hash), false); // 549 characters, 1026 bytes
  assert.equal(await verifyPassword('a'.repeat(72) + '\0', hash), false);
  assert.equal(await verifyPassword('\0', '$6$emptysalt$TrI.h19YNad.S.Xw2WEgON9ojBrkXYcCfZrEcOEa9k/Bp5Sw4dxhsyY0KdBJ5Vt2UbEFOMolXqrfnZHc1QRM..'), false);
  await assert.rejects(hashPassword('a'.repeat(1025)), RangeError);
  await assert.rejects(hashPassword('pass\0word', 'bcrypt'), RangeError);
});

test('hashPassword: SHA-512 with a 16-character salt and default rounds, read back', async () => {
  const a = await hashPassword('correct horse battery staple');
  const b = await hashPassword('correct horse battery staple', 'sha512');
  assert.match(a, /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  assert.notEqual(a.slice(3, 19), b.slice(3, 19), 'salts are random');
  assert.equal(schemeOf(a), 'sha512');
  await known('correct horse battery staple', a);
  await known('correct horse battery staple', b);
  const long = await hashPassword('\u00e9'.repeat(512)); // exactly 1024 bytes
  assert.equal(await verifyPassword('\u00e9'.repeat(512), long), true);
  await known('', await hashPassword(''));
});

test('hashPassword: bcrypt $2b$ with cost 10, read back', async () => {
  const h = await hashPassword('correct horse battery staple', 'bcrypt');
  assert.match(h, /^\$2b\$10\$[./0-9A-Za-z]{53}$/);
  assert.equal(schemeOf(h), 'bcrypt');
  await known('correct horse battery staple', h);
});
