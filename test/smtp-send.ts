/**
 * One message through a real SMTP dialogue, for scenarios that only need it accepted: EHLO,
 * MAIL FROM, one RCPT TO, DATA; asserts every reply and returns the msgid of the 250.
 */
import assert from 'node:assert/strict';
import { RawSmtp } from './smtp-raw';

export interface SendOptions {
  readonly from?: string;
  readonly helo?: string;
  /** the DATA lines after the Subject header, CRLF-separated and dot-stuffed by the caller */
  readonly body?: string;
}

export async function sendOne(port: number, rcpt: string, subject: string, o: SendOptions = {}): Promise<string> {
  const c = await RawSmtp.connect(port);
  try {
    assert.equal((await c.reply()).code, 220);
    assert.equal((await c.cmd(`EHLO ${o.helo ?? 'client.test'}`)).code, 250);
    assert.equal((await c.cmd(`MAIL FROM:<${o.from ?? 's@remote.test'}>`)).code, 250);
    const r = await c.cmd(`RCPT TO:<${rcpt}>`);
    assert.equal(r.code, 250, r.text);
    assert.equal((await c.cmd('DATA')).code, 354);
    const done = await c.cmd(`Subject: ${subject}\r\n\r\n${o.body ?? `body of ${subject}`}\r\n.`);
    assert.equal(done.code, 250, done.text);
    return /^2\.0\.0 ([0-9a-f]{8}) /.exec(done.text)![1]!;
  } finally {
    c.close();
  }
}
