import { RawHttpConnection, type RawResponse } from './raw-http-client.js';

/**
 * Keep-alive RawHttpConnections to one service, handed out one request at a time: each request
 * in flight holds one, so a closed loop of concurrency N opens at most N.
 */
export class RawHttpPool {
  private readonly idle: RawHttpConnection[] = [];
  private readonly opened: RawHttpConnection[] = [];
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    private readonly headers: Record<string, string>,
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
  }

  /** POSTs `body` and rejects unless the answer is a 2xx. */
  async post(path: string, body: string): Promise<RawResponse> {
    let connection = this.idle.pop();
    if (!connection) {
      connection = new RawHttpConnection(this.host, this.port, this.headers);
      this.opened.push(connection);
    }
    try {
      const response = await connection.post(path, body);
      if (response.status < 200 || response.status > 299) {
        throw new Error(`${path}: HTTP ${response.status}: ${response.body.slice(0, 200)}`);
      }
      return response;
    } finally {
      this.idle.push(connection);
    }
  }

  close(): void {
    for (const connection of this.opened) connection.close();
  }
}
