/**
 * lka's decisions, from a real configuration: the match rules in order (every criterion,
 * negation, regex, implicit from local / for local), and alias/virtual expansion with its
 * replies (relay denied, unknown user, error: aliases, loops, self-reference).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Action } from '../src/parse/config';
import { parseConfigText } from '../src/parse/load';
import { forwardValues, resolveRecipient, splitAliasValues, type ExpandContext, type ForwardContent } from '../src/lka/expand';
import { Tables } from '../src/lka/tables';
import type { SessionInfo } from '../src/bus/msg-smtp-lka';

const USERS = new Set(['alice', 'bob', 'root', 'carol', 'dave', 'erin']);

function context(conf: string): ExpandContext {
  const r = parseConfigText(conf, 'test.conf', { checkFiles: false });
  assert.deepEqual(r.diagnostics.map((d) => d.message), []);
  const c = r.config!;
  return {
    rules: c.rules,
    actions: new Map<string, Action>(c.actions.map((a) => [a.name, a])),
    tables: new Tables(c.tables, { serverName: 'mx.example.org', addresses: ['127.0.0.1', '::1', '192.0.2.10'] }),
    subAddrDelim: c.smtp.subAddrDelim,
    userExists: (u) => USERS.has(u),
    readForward: (u) => Promise.resolve(FORWARDS.has(u) ? FORWARDS.get(u)! : { result: 'none' as const }),
    aliasUser: '_smtpd',
    readInclude: (file) => {
      if (!INCLUDES.has(file)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return forwardValues(INCLUDES.get(file)!);
    },
  };
}

/** the .forward files of the test's users, as the parent would read them */
const FORWARDS = new Map<string, ForwardContent>();
/** the :include: files of the test */
const INCLUDES = new Map<string, string>([['/etc/mail/staff', '# staff\nbob\n|/usr/bin/log-staff\n']]);

const REMOTE: SessionInfo = { src: '198.51.100.7', socket: false, helo: 'client.example.net', tls: false };
const LOCAL: SessionInfo = { src: '127.0.0.1', socket: false, helo: 'localhost', tls: false };

async function decide(ctx: ExpandContext, rcpt: string, session = REMOTE, from = 'x@example.net'): Promise<string> {
  const r = await resolveRecipient(ctx, session, from, rcpt);
  return r.ok ? r.targets.map((t) => `${t.action}:${t.dest}`).sort().join(' ') : `${r.code} ${r.esc} ${r.text}`;
}

const BASE = `
table domains { example.org, *.example.com }
table aliases { postmaster = root, staff = "alice, bob", abuse = "error:550 5.7.1 go away", loop = loop2, loop2 = loop, me = alice, fwd = "alice@example.org, friend@remote.test", selfref = "selfref", pipe = "|/bin/cat" }
action "local" maildir alias <aliases>
action "out" relay
match from any for domain <domains> action "local"
match from local for any action "out"
`;

test('first match wins; no match: 5.1.1 for a local domain, 5.7.1 (relaying denied) otherwise', async () => {
  const ctx = context(BASE);
  assert.equal(await decide(ctx, 'alice@example.org'), 'local:alice@example.org');
  assert.equal(await decide(ctx, 'bob@sub.example.com'), 'local:bob@sub.example.com');
  assert.equal(await decide(ctx, 'someone@remote.test'), '550 5.7.1 Relaying denied');
  assert.equal(await decide(ctx, 'someone@remote.test', LOCAL), 'out:someone@remote.test');
  assert.equal(await decide(ctx, 'nosuch@example.org'), '550 5.1.1 Invalid recipient');
});

test('aliases: users, lists, addresses through the rules again, error:, loops, self-reference', async () => {
  const ctx = context(BASE);
  assert.equal(await decide(ctx, 'postmaster@example.org'), 'local:root@example.org');
  assert.equal(await decide(ctx, 'staff@example.org'), 'local:alice@example.org local:bob@example.org');
  assert.equal(await decide(ctx, 'abuse@example.org'), '550 5.7.1 go away');
  assert.equal(await decide(ctx, 'fwd@example.org'), 'local:alice@example.org out:friend@remote.test');
  assert.equal(await decide(ctx, 'loop@example.org'), '550 5.2.4 Mailing list expansion problem');
  assert.equal(await decide(ctx, 'selfref@example.org'), '550 5.1.1 Invalid recipient');
  assert.equal(await decide(ctx, 'pipe@example.org'), 'local:pipe@example.org', 'a command of an alias table (run as the daemon user)');
  assert.equal(await decide(ctx, 'alice+news@example.org'), 'local:alice+news@example.org');
});

test('criteria: src, auth, tls, helo, mail-from, rcpt-to, tag, with ! and regex', async () => {
  const ctx = context(`
table nets { 192.0.2.0/24, [2001:db8::]/32 }
action "a" mbox
action "b" relay
match from src <nets> for any action "b"
match from auth for any action "b"
match from any !tls for rcpt-to regex "^secret@" reject
match helo { "*.trusted.test" } for domain "example.org" action "a"
match mail-from "@vip.test" for domain "example.org" action "a"
match from any tag "internal" for any action "b"
match from any for domain "example.org" rcpt-to { "@example.org" } !mail-from "@spam.test" action "a"
`);
  assert.equal(await decide(ctx, 'x@remote.test', { ...REMOTE, src: '192.0.2.44' }), 'b:x@remote.test');
  assert.equal(await decide(ctx, 'x@remote.test', { ...REMOTE, src: '2001:db8::9' }), 'b:x@remote.test');
  assert.equal(await decide(ctx, 'x@remote.test', { ...REMOTE, auth: 'alice', tls: true }), 'b:x@remote.test');
  assert.equal(await decide(ctx, 'secret@example.org'), '550 5.7.1 Delivery not authorized, message refused');
  assert.equal(await decide(ctx, 'x@remote.test', { ...REMOTE, tag: 'internal' }), 'b:x@remote.test');
  assert.equal(await decide(ctx, 'alice@example.org', { ...REMOTE, src: '127.0.0.1', helo: 'mx.trusted.test' }), 'a:alice@example.org');
  assert.equal(await decide(ctx, 'alice@example.org', REMOTE, 'a@spam.test'), '550 5.1.1 Invalid recipient');
  assert.equal(await decide(ctx, 'alice@example.org', REMOTE, 'a@vip.test'), 'a:alice@example.org');
});

test('from local and for local use the implicit tables', async () => {
  const ctx = context('action "a" mbox\nmatch for local action "a"\n');
  assert.equal(await decide(ctx, 'alice@localhost', LOCAL), 'a:alice@localhost');
  assert.equal(await decide(ctx, 'alice@mx.example.org', { ...LOCAL, src: '192.0.2.10' }), 'a:alice@mx.example.org');
  assert.equal(await decide(ctx, 'alice@[127.0.0.1]', LOCAL), 'a:alice@[127.0.0.1]');
  assert.equal(await decide(ctx, 'alice@localhost', REMOTE), '550 5.1.1 Invalid recipient');
  assert.equal(await decide(ctx, 'alice@localhost', { ...REMOTE, socket: true, src: 'local' }), 'a:alice@localhost');
});

test('virtual: lookup order, catch-all, unknown address', async () => {
  const ctx = context(`
table vdomains { virtual.test }
table vusers { "alice+list@virtual.test" = bob, "alice@virtual.test" = alice, "carol" = carol, "@virtual.test" = root }
action "v" maildir virtual <vusers>
match from any for domain <vdomains> action "v"
`);
  assert.equal(await decide(ctx, 'alice+list@virtual.test'), 'v:bob@virtual.test');
  assert.equal(await decide(ctx, 'alice+other@virtual.test'), 'v:alice+other@virtual.test', 'the mailbox keeps its sub-address');
  assert.equal(await decide(ctx, 'carol@virtual.test'), 'v:carol@virtual.test');
  assert.equal(await decide(ctx, 'anyone@virtual.test'), 'v:root@virtual.test');
});

test('aliases(5) value lists: commas, quotes, escapes', async () => {
  assert.deepEqual(splitAliasValues('a, b ,c'), ['a', 'b', 'c']);
  assert.deepEqual(splitAliasValues('"|/bin/x, y", z'), ['|/bin/x, y', 'z']);
  assert.deepEqual(splitAliasValues('a\\,b, c'), ['a,b', 'c']);
  assert.deepEqual(splitAliasValues(' , '), []);
});

test('~/.forward: addresses and users go on, \\user keeps a copy in the mailbox, :include: is skipped, an empty one delivers, a loop ends', async () => {
  const ctx = context(BASE);
  FORWARDS.set('alice', { result: 'ok', content: '# to bob, and keep one\nbob\n\\alice\n:include:/etc/passwd\n' });
  FORWARDS.set('carol', { result: 'ok', content: '# nothing here\n' });
  FORWARDS.set('erin', { result: 'ok', content: 'carol@example.org\n' });
  FORWARDS.set('dave', { result: 'tempfail', text: '451 4.2.1 the home of dave has its sticky bit set: .forward lookup deferred' });
  try {
    assert.equal(await decide(ctx, 'alice@example.org'), 'local:alice@example.org local:bob@example.org');
    assert.equal(await decide(ctx, 'carol@example.org'), 'local:carol@example.org');
    assert.equal(await decide(ctx, 'erin@example.org'), 'local:carol@example.org', 'erin forwards to carol, whose empty .forward delivers');
    assert.equal(await decide(ctx, 'dave@example.org'), '451 4.2.1 the home of dave has its sticky bit set: .forward lookup deferred');
    FORWARDS.set('bob', { result: 'ok', content: 'alice@example.org\n' });
    FORWARDS.set('alice', { result: 'ok', content: 'bob@example.org\n' });
    assert.equal(await decide(ctx, 'alice@example.org'), '550 5.2.4 Mailing list expansion problem', 'alice -> bob -> alice: nothing left');
  } finally {
    FORWARDS.clear();
  }
  assert.deepEqual(forwardValues('a@x, b\n# c\n"|/bin/x, y"\n'), ['a@x', 'b', '|/bin/x, y']);
});

test('~/.forward |command and /file become deliveries as the .forward\'s user; in an alias table, as the daemon user; :include: files are read', async () => {
  const ctx = context(BASE);
  FORWARDS.set('alice', { result: 'ok', content: '"|/usr/bin/vacation alice"\n/home/alice/saved\n' });
  try {
    const r = await resolveRecipient(ctx, REMOTE, 'x@example.net', 'alice@example.org');
    assert.ok(r.ok);
    assert.deepEqual(r.targets, [
      { action: 'local', dest: 'alice@example.org', via: { kind: 'command', value: '/usr/bin/vacation alice', user: 'alice' } },
      { action: 'local', dest: 'alice@example.org', via: { kind: 'file', value: '/home/alice/saved', user: 'alice' } },
    ]);
  } finally {
    FORWARDS.clear();
  }
  const pipe = await resolveRecipient(ctx, REMOTE, 'x@example.net', 'pipe@example.org');
  assert.deepEqual(pipe.ok && pipe.targets, [{ action: 'local', dest: 'pipe@example.org', via: { kind: 'command', value: '/bin/cat', user: '_smtpd' } }]);
  const inc = context(BASE.replace('pipe = "|/bin/cat"', 'staff2 = ":include:/etc/mail/staff", gone = ":include:/etc/mail/none", rel = ":include:staff"'));
  const staff = await resolveRecipient(inc, REMOTE, 'x@example.net', 'staff2@example.org');
  assert.deepEqual(staff.ok && staff.targets, [
    { action: 'local', dest: 'bob@example.org' },
    { action: 'local', dest: 'staff2@example.org', via: { kind: 'command', value: '/usr/bin/log-staff', user: '_smtpd' } },
  ]);
  assert.equal(await decide(inc, 'gone@example.org'), '451 4.3.0 Temporary failure: cannot read /etc/mail/none: ENOENT');
  assert.equal(await decide(inc, 'rel@example.org'), '550 5.1.3 Invalid alias value ":include:staff": :include: needs an absolute path');
});

test('forward-only: only what aliases or .forward send elsewhere (else 451); expand-only: no mailbox (550), commands and files are fine', async () => {
  const conf = `
table aliases { out = "friend@remote.test", mine = "alice", piped = "|/usr/bin/x" }
action "fwd" forward-only alias <aliases>
action "exp" expand-only alias <aliases>
action "relay" relay
match from any for domain "f.example.org" action "fwd"
match from any for domain "e.example.org" action "exp"
match from local for any action "relay"
`;
  const ctx = context(conf);
  assert.equal(await decide(ctx, 'out@f.example.org'), 'relay:friend@remote.test');
  assert.equal(await decide(ctx, 'mine@f.example.org'), '451 4.7.1 Temporary failure: this address only forwards, and nothing forwards it elsewhere');
  assert.equal(await decide(ctx, 'piped@f.example.org'), '451 4.7.1 Temporary failure: this address only forwards, and nothing forwards it elsewhere');
  assert.equal(await decide(ctx, 'alice@e.example.org'), '550 5.1.1 Invalid recipient: this address only expands, and nothing expands it');
  assert.equal(await decide(ctx, 'piped@e.example.org'), 'exp:piped@e.example.org');
  FORWARDS.set('bob', { result: 'ok', content: 'friend@remote.test\n' });
  try {
    assert.equal(await decide(ctx, 'bob@f.example.org'), 'relay:friend@remote.test', 'a .forward that sends it elsewhere');
  } finally {
    FORWARDS.clear();
  }
});
