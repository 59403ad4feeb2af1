import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder on a fixed local port that a drill can close ("the server is down":
 * connections refused, open ones cut) and open again on the same port, in front of a real server
 * that keeps running. Lets a drill take SMTP away without a scripted reply, or black-hole the
 * open connections of a database client as a failover does.
 */
export interface TcpGate {
  readonly port: number;
  /** Stops listening and cuts every open connection. */
  close(): Promise<void>;
  /**
   * Stops forwarding on every open connection without closing or resetting it: both sockets stay
   * open and this side's kernel keeps ACKing, so neither peer can tell (keepalive included).
   * New connections are forwarded as usual: the healthy path after a failover.
   */
  blackHole(): number;
  /** Listens again on the same port. */
  open(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTcpGate(target: { host: string; port: number }): Promise<TcpGate> {
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  let server: Server | undefined;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = createConnection(target);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        const pair: [Socket, Socket] = [client, upstream];
        pairs.add(pair);
        client.on('close', () => pairs.delete(pair));
        client.pipe(upstream).pipe(client);
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        const address = next.address();
        port = typeof address === 'object' && address ? address.port : port;
        server = next;
        resolve();
      });
    });

  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server) return resolve();
      const closing = server;
      server = undefined;
      closing.close(() => resolve());
    });

  const blackHole = () => {
    const held = [...pairs];
    for (const [client, upstream] of held) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    pairs.clear();
    return held.length;
  };

  await listen();
  return {
    get port() {
      return port;
    },
    close,
    blackHole,
    open: listen,
    stop: close,
  };
}
