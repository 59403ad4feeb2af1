import { RawHttpConnection } from './raw-http-client.js';
import { sampleEmailBody } from './sample-email.js';

export interface EmailPoster {
  /** POSTs the next sample email to /v1/emails; rejects unless the answer is 2xx. */
  post(): Promise<void>;
  close(): void;
}

/**
 * The closed-loop client's operation: one sample email per call over keep-alive connections.
 * Each in-flight request holds one connection, so at most `concurrency` are ever open.
 */
export function emailPoster(baseUrl: string, apiKey: string): EmailPoster {
  const { hostname, port } = new URL(baseUrl);
  const idle: RawHttpConnection[] = [];
  const connections: RawHttpConnection[] = [];
  let index = 0;
  return {
    async post() {
      index += 1;
      let connection = idle.pop();
      if (!connection) {
        connection = new RawHttpConnection(hostname, Number(port), {
          authorization: `Bearer ${apiKey}`,
        });
        connections.push(connection);
      }
      try {
        const response = await connection.post('/v1/emails', sampleEmailBody(index));
        if (response.status < 200 || response.status > 299) {
          throw new Error(`HTTP ${response.status}: ${response.body.slice(0, 200)}`);
        }
      } finally {
        idle.push(connection);
      }
    },
    close() {
      for (const connection of connections) connection.close();
    },
  };
}
