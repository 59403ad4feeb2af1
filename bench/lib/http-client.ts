import { Agent, request } from 'node:http';

export interface JsonResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * A minimal keep-alive JSON client on node:http: cheaper per request than fetch, so the load
 * generator (which shares the 2 cores with the app and PostgreSQL) costs as little as possible.
 */
export class HttpJsonClient {
  private readonly agent: Agent;

  constructor(
    private readonly baseUrl: string,
    private readonly headers: Record<string, string>,
    maxSockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  post(path: string, body: string, signal?: AbortSignal): Promise<JsonResponse> {
    return this.send('POST', path, body, signal);
  }

  get(path: string, signal?: AbortSignal): Promise<JsonResponse> {
    return this.send('GET', path, undefined, signal);
  }

  close(): void {
    this.agent.destroy();
  }

  private send(
    method: string,
    path: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<JsonResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, this.baseUrl),
        {
          method,
          agent: this.agent,
          signal,
          headers: {
            ...this.headers,
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
