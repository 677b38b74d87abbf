/**
 * smtpctl spf walk against a DNS server of the test's own (smtpctl --resolver): includes and
 * redirects followed, a and mx turned into addresses (with their prefix lengths), failing
 * terms and loops left out, each address once; no daemon needed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fromRoot } from './helpers';
import { startFakeDns, type FakeDns } from './fake-dns';

let dns: FakeDns;

before(async () => {
  dns = await startFakeDns({
    'example.test': { txt: ['google-site-verification=x', 'v=spf1 ip4:192.0.2.0/24 include:_spf.example.test a mx/28 -ip4:198.51.100.1 ~all'], a: ['192.0.2.10'], mx: [[10, 'mx.example.test']] },
    '_spf.example.test': { txt: [`v=spf1 ip6:2001:db8::/32 include:loop.example.test ${'ip4:203.0.113.1 '.repeat(30).trim()} ?all`] },
    'loop.example.test': { txt: ['v=spf1 include:example.test redirect=last.example.test'] },
    'last.example.test': { txt: ['v=spf1 ip4:203.0.113.99'] },
    'mx.example.test': { a: ['192.0.2.20'], aaaa: ['2001:db8::20'] },
    'nospf.test': { txt: ['just text'] },
  });
});

after(async () => {
  await dns.close();
});

/** smtpctl, run without blocking this process (its DNS server answers from here) */
function smtpctl(args: string[], input: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [fromRoot('bin', 'smtpctl'), ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
    p.stdin.end(input);
  });
}

test('spf walk: every address the records allow, once, following include and redirect; a and mx resolved', async () => {
  const r = await smtpctl(['--resolver', dns.address, 'spf', 'walk'], 'example.test\nnospf.test\n');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').sort(), ['192.0.2.0/24', '2001:db8::/32', '203.0.113.1', '203.0.113.99', '192.0.2.10', '192.0.2.20/28', '2001:db8::20'].sort());
  assert.match(r.stderr, /nospf\.test: no SPF record/);
});
