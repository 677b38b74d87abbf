/**
 * The banner without smtp-server's fixed 100 ms pause.
 *
 * smtp-server waits 100 ms after each connection before its banner (an early-talker check),
 * which alone caps a new-connection-per-message load at sessions / 0.1 s (toolchain.md).
 * OpenSMTPD and Postfix's smtpd send the banner at once; so does tsmtpd: the connection is
 * made ready on the next turn of the event loop. A client that talks before the banner is
 * still answered by smtp-server's own early-talker handling, since readiness stays async.
 * The connection's name may come from the server's `tsNameFor` option (per local address).
 * Installed once, at load.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

interface ConnectionInternals {
  _server: { options: { maxClients?: number; tsNameFor?: (localAddress: string) => string }; connections: Set<unknown> };
  _socket: { localAddress?: string };
  name: string;
  _setListeners(callback: () => void): void;
  send(code: number, data: string, context: false): void;
  connectionReady(): void;
}

(SMTPConnection as unknown as { prototype: { init: (this: ConnectionInternals) => void } }).prototype.init = function init(this: ConnectionInternals) {
  // `hostnames`: the name announced depends on the address the client connected to
  const nameFor = this._server.options.tsNameFor;
  if (nameFor) this.name = nameFor(this._socket.localAddress ?? '');
  this._setListeners(() => {
    const max = this._server.options.maxClients;
    if (max && this._server.connections.size > max) {
      this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
      return;
    }
    setImmediate(() => this.connectionReady());
  });
};
