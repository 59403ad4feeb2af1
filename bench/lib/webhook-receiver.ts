import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local webhook endpoint that reads each POST whole and answers 204, counting them and
 * timing the first and the latest, so a run can be timed where the requests arrive.
 */
export interface WebhookReceiver {
  readonly url: string;
  readonly received: number;
  /** Connections opened since the last reset: kept-alive senders open few. */
  readonly connections: number;
  readonly firstAt: number | undefined;
  readonly lastAt: number | undefined;
  /** Resolves once `count` POSTs have arrived since the last reset. */
  waitFor(count: number, timeoutMs: number): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let received = 0;
  let connections = 0;
  let firstAt: number | undefined;
  let lastAt: number | undefined;
  let waiter: { count: number; resolve: () => void } | undefined;
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received += 1;
      lastAt = performance.now();
      firstAt ??= lastAt;
      response.writeHead(204).end();
      if (waiter && received >= waiter.count) waiter.resolve();
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    get received() {
      return received;
    },
    get connections() {
      return connections;
    },
    get firstAt() {
      return firstAt;
    },
    get lastAt() {
      return lastAt;
    },
    waitFor(count, timeoutMs) {
      if (received >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error(`webhook receiver: ${received} of ${count} POSTs in ${timeoutMs} ms`));
        }, timeoutMs);
        waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            waiter = undefined;
            resolve();
          },
        };
      });
    },
    reset() {
      received = 0;
      connections = 0;
      firstAt = undefined;
      lastAt = undefined;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
