import { connect, type Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly body: string;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * One keep-alive HTTP/1.1 connection that sends a request and waits for its response before the
 * next (what each closed-loop "user" of the ingest runs does). It writes pre-built request bytes
 * and reads Content-Length framed responses, and nothing more: the load generator shares the two
 * cores with the app and PostgreSQL, and node:http's own CPU per request would take a large share
 * of them. Fastify always answers JSON with Content-Length.
 */
export class RawHttpConnection {
  private socket: Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private pending:
    | { resolve: (response: RawResponse) => void; reject: (error: Error) => void }
    | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly headers: Record<string, string>,
  ) {}

  post(path: string, body: string): Promise<RawResponse> {
    const payload = Buffer.from(body);
    const head =
      `POST ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\n` +
      Object.entries(this.headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('') +
      `content-type: application/json\r\ncontent-length: ${payload.length}\r\n\r\n`;
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.connection().write(Buffer.concat([Buffer.from(head), payload]));
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connection(): Socket {
    if (this.socket) return this.socket;
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (error: Error) => {
      if (this.socket === socket) this.socket = undefined;
      this.buffered = Buffer.alloc(0);
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by the server')));
    this.socket = socket;
    return socket;
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headerEnd = this.buffered.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.buffered.subarray(0, headerEnd).toString('latin1');
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const bodyStart = headerEnd + HEADER_END.length;
    if (this.buffered.length < bodyStart + length) return;
    const status = Number(head.slice(9, 12));
    const body = this.buffered.subarray(bodyStart, bodyStart + length).toString('utf8');
    this.buffered = this.buffered.subarray(bodyStart + length);
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve({ status, body });
  }
}
