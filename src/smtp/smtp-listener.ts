/**
 * A listening socket of smtp: accepts connections, reads a PROXY v2 header first on
 * `proxy-v2` listeners, does the TLS handshake first on `smtps` ones (a client certificate
 * checked with `verify`), then runs an SmtpSession on each. At most `maxClients` sessions
 * at once: the next gets `421 4.7.0` and is closed. close() stops listening and ends the
 * sessions that are between commands.
 * Privileges: bound by smtp while root (port 25), used after the drop. Peers: SMTP clients.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { plainAddress } from './addresses';
import { readProxyHeader } from './proxy-v2';
import { SmtpSession, type SessionOptions } from './smtp-session';
import { verifyClient } from './tls-settings';

export interface ListenerOptions extends SessionOptions {
  /** the name announced for a local address (`hostnames`), else `name` */
  readonly nameFor?: (localAddress: string) => string;
  readonly maxClients: number;
  readonly proxyV2: boolean;
  /** smtps: TLS from the first byte */
  readonly implicitTls: boolean;
}

export class SmtpListener {
  readonly server: net.Server;
  private readonly sessions = new Set<SmtpSession>();
  /** connections still in their PROXY header or TLS handshake */
  private pending = 0;

  constructor(private readonly opts: ListenerOptions) {
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  /** Stops listening; `cb` once every session is gone (those in a transaction may finish). */
  close(cb: () => void): void {
    this.server.close(() => cb());
    for (const s of this.sessions) s.shutdown();
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => socket.destroy());
    if (this.opts.maxClients > 0 && this.pending >= this.opts.maxClients) return void socket.destroy();
    if (!this.opts.proxyV2) return this.secure(socket, undefined);
    this.pending++;
    readProxyHeader(socket, (err, address) => {
      this.pending--;
      if (!err) this.secure(socket, address);
    });
  }

  private secure(socket: net.Socket, remote: string | undefined): void {
    const setup = this.opts.tls;
    if (!this.opts.implicitTls || !setup) return this.start(socket, remote);
    this.pending++;
    const secure = new tls.TLSSocket(socket, setup.socketOptions);
    let settled = false;
    const fail = () => {
      if (settled) return;
      settled = true;
      this.pending--;
      clearTimeout(deadline);
      secure.destroy();
      socket.destroy();
    };
    const deadline = setTimeout(fail, this.opts.commandTimeoutMs || 300_000);
    secure.on('error', fail);
    secure.once('close', fail);
    secure.once('secure', () => {
      if (verifyClient(secure, setup)) return fail();
      settled = true;
      this.pending--;
      clearTimeout(deadline);
      secure.removeListener('error', fail);
      secure.removeListener('close', fail);
      this.start(secure, remote);
    });
  }

  private start(socket: net.Socket, remote: string | undefined): void {
    const o = this.opts;
    const options = o.nameFor ? { ...o, name: o.nameFor(plainAddress(socket.localAddress)) } : o;
    const session = new SmtpSession(socket, options, remote, (s) => this.sessions.delete(s));
    this.sessions.add(session);
    if (o.maxClients > 0 && this.sessions.size > o.maxClients) {
      return session.refuse(421, `4.7.0 ${options.name} Too many connected clients, try again in a moment`);
    }
    session.start();
  }
}
