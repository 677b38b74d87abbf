/**
 * Session deadlines and abuse limits smtp-server does not have, installed once, at load, on its
 * connection class. The values come from the server's options (set per listener by main.ts).
 *
 * - Command deadline (`tsCommandTimeout` ms): after each reply the client has this long to send
 *   a complete command line. Bytes that trickle in do not extend it (slowloris), unlike
 *   smtp-server's idle timeout. On expiry: `421 4.4.2` and close.
 * - DATA deadline (`tsDataTimeout` ms): after 354, each interval must bring at least
 *   DATA_PROGRESS bytes, or the session ends with `421 4.4.2`. The wait for our own verdict
 *   after the final dot is not counted.
 * - Junk commands: more than JUNK_LIMIT of NOOP, RSET, HELP, VRFY, EXPN since the last accepted
 *   message end the session with `421 4.7.0` (Postfix's smtpd_junk_command_limit).
 * - An HTTP request line (cross-protocol attacks, ALPACA) gets `554 5.7.0` and the connection is
 *   closed before any later line is read.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

export const JUNK_LIMIT = 100;
export const DATA_PROGRESS = 64 * 1024;
const JUNK = new Set(['NOOP', 'RSET', 'HELP', 'VRFY', 'EXPN']);
const HTTP_RE = /^(?:OPTIONS|GET|HEAD|POST|PUT|DELETE|TRACE|CONNECT|PATCH) \S+ HTTP\/\d(?:\.\d)?$/i;

/** the options session-guard reads, to spread into smtp-server's options */
export function guardOptions(commandTimeoutMs: number, dataTimeoutMs: number): Record<string, number> {
  return { tsCommandTimeout: commandTimeoutMs, tsDataTimeout: dataTimeoutMs };
}

interface Connection {
  _upgrading?: boolean;
  _server: { options: { tsCommandTimeout?: number; tsDataTimeout?: number } };
  _parser?: { dataBytes: number; _dataMode: boolean } | false;
  _closing?: boolean;
  _transactionCounter: number;
  name: string;
  send(code: number, data?: string | string[], context?: unknown): void;
  close(): void;
  _tsTimer?: NodeJS.Timeout;
  _tsJunk?: number;
  _tsJunkTx?: number;
}
type Method = (this: Connection, ...args: unknown[]) => unknown;
const proto = (SMTPConnection as unknown as { prototype: Record<string, Method> }).prototype;

function disarm(c: Connection): void {
  if (c._tsTimer) clearTimeout(c._tsTimer);
  c._tsTimer = undefined;
}

function armCommand(c: Connection): void {
  disarm(c);
  const ms = c._server.options.tsCommandTimeout;
  if (!ms) return;
  c._tsTimer = setTimeout(() => {
    c._tsTimer = undefined;
    if (!c._closing) c.send(421, `4.4.2 ${c.name} Timeout: no complete command in time, closing connection`);
  }, ms);
}

function armData(c: Connection, mark: number): void {
  disarm(c);
  const ms = c._server.options.tsDataTimeout;
  if (!ms) return;
  c._tsTimer = setTimeout(() => {
    c._tsTimer = undefined;
    const parser = c._parser;
    if (c._closing || !parser || !parser._dataMode) return; // the message is in: our reply re-arms
    if (parser.dataBytes - mark >= DATA_PROGRESS) return armData(c, parser.dataBytes);
    c.send(421, `4.4.2 ${c.name} Timeout: message data too slow, closing connection`);
  }, ms);
}

const send = proto.send!;
proto.send = function guardedSend(this: Connection, code: unknown, data: unknown, context: unknown) {
  send.call(this, code, data, context);
  if (this._closing || code === 421) return disarm(this);
  if (code === 354) armData(this, this._parser ? this._parser.dataBytes : 0);
  else armCommand(this);
};

const close = proto.close!;
proto.close = function guardedClose(this: Connection) {
  disarm(this);
  return close.call(this);
};

const onClose = proto._onClose!;
proto._onClose = function guardedOnClose(this: Connection, ...args: unknown[]) {
  disarm(this);
  return onClose.apply(this, args);
};

const onCommand = proto._onCommand!;
proto._onCommand = function guardedCommand(this: Connection, command: unknown, callback: unknown) {
  // plaintext sent during a STARTTLS handshake is dropped by smtp-server: it stops no clock
  if (this._upgrading) return onCommand.call(this, command, callback);
  disarm(this);
  const line = String(command ?? '');
  if (this._closing) return (callback as (() => void) | undefined)?.();
  if (HTTP_RE.test(line)) {
    this.send(554, '5.7.0 This is an SMTP server, not an HTTP one');
    this.close();
    return (callback as (() => void) | undefined)?.();
  }
  const name = line.split(' ', 1)[0]!.toUpperCase();
  if (this._tsJunkTx !== this._transactionCounter) {
    this._tsJunkTx = this._transactionCounter;
    this._tsJunk = 0;
  }
  if (JUNK.has(name) && (this._tsJunk = (this._tsJunk ?? 0) + 1) > JUNK_LIMIT) {
    this.send(421, '4.7.0 Too many junk commands, closing connection');
    return (callback as (() => void) | undefined)?.();
  }
  return onCommand.call(this, command, callback);
};
