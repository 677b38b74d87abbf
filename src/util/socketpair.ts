/**
 * A connected pair of Unix stream sockets, made the portable way: listen on a path in a
 * private (0700) directory, connect, accept, then remove the path. One end goes to each worker
 * of a pair (child.send with the socket as handle). Both ends stay paused in this process.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

let counter = 0;

export function socketPair(dir: string): Promise<[net.Socket, net.Socket]> {
  const file = path.join(dir, `pair-${process.pid}-${++counter}.sock`);
  return new Promise((resolve, reject) => {
    // Neither end may read here: bytes read by this process before the handle reaches the
    // worker would be lost, so the accepted end starts paused and the connecting end pauses.
    const server = net.createServer({ pauseOnConnect: true });
    let accepted: net.Socket | undefined;
    let connected: net.Socket | undefined;
    const finish = () => {
      if (!accepted || !connected) return;
      server.close();
      fs.rmSync(file, { force: true });
      resolve([connected, accepted]);
    };
    server.once('error', (e) => {
      fs.rmSync(file, { force: true });
      reject(e);
    });
    server.once('connection', (s) => {
      accepted = s;
      finish();
    });
    server.listen(file, () => {
      const c = net.connect(file, () => {
        connected = c;
        finish();
      });
      c.pause();
      c.once('error', reject);
    });
  });
}
