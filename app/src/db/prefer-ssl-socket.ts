import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { type ConnectionOptions, connect as connectTls, type TLSSocket } from 'node:tls';

/** PostgreSQL's SSLRequest packet: length 8, request code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const ERROR_RESPONSE = 0x45; // 'E'

const ignore = () => {};

/**
 * libpq's sslmode=prefer, which node-postgres lacks, as the socket pg is given (pg itself runs
 * with ssl=false and sees a plain byte stream). Per connection, like libpq:
 * - ask the server for TLS; 'N' (ssl=off) -> continue unencrypted on the same connection;
 * - 'S' -> TLS handshake; if the handshake fails -> reconnect unencrypted;
 * - if the server's first answer over TLS is an error (e.g. pg_hba.conf has only `hostnossl`
 *   lines) -> reconnect unencrypted and resend the start-up packet.
 * The extra round trip is the SSLRequest that any TLS connection makes anyway.
 */
export class PreferSslSocket extends Duplex {
  /** True once the current connection runs over TLS. */
  encrypted = false;
  private port = 0;
  private host = '';
  private noDelay = true;
  private keepAlive: [boolean, number] = [false, 0];
  private referenced = true;
  private raw: Socket | undefined;
  /** The socket pg's bytes go through, once connected (raw or TLS over raw). */
  private socket: Socket | TLSSocket | undefined;
  /** Writes made before a socket is ready: flushed (or replayed) when one is. */
  private pending: Buffer[] = [];
  /** What pg sent over TLS before the server's first answer, kept to resend unencrypted. */
  private sentOverTls: Buffer[] | undefined;

  constructor(private readonly tlsOptions: ConnectionOptions) {
    super();
  }

  connect(port: number, host: string): this {
    this.port = port;
    this.host = host;
    this.open(true);
    return this;
  }

  setNoDelay(noDelay = true): this {
    this.noDelay = noDelay;
    this.raw?.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    this.keepAlive = [enable, initialDelay];
    this.raw?.setKeepAlive(enable, initialDelay);
    return this;
  }

  ref(): this {
    this.referenced = true;
    this.raw?.ref();
    return this;
  }

  unref(): this {
    this.referenced = false;
    this.raw?.unref();
    return this;
  }

  private open(tryTls: boolean): void {
    // A fallback racing pg's own teardown (connection timeout, end) must not open a new socket.
    if (this.destroyed) return;
    const raw = connectTcp({ port: this.port, host: this.host });
    this.raw = raw;
    raw.setNoDelay(this.noDelay);
    raw.setKeepAlive(...this.keepAlive);
    if (!this.referenced) raw.unref();
    const fail = (error: Error) => this.destroy(error);
    raw.on('error', fail);
    raw.once('connect', () => {
      if (!tryTls) return this.use(raw);
      raw.write(SSL_REQUEST);
      raw.once('data', (answer: Buffer) => {
        if (answer.length === 1 && answer[0] === 0x53 /* 'S' */) return this.startTls(raw, fail);
        if (answer.length === 1 && answer[0] === 0x4e /* 'N' */) return this.use(raw);
        // Same checks as pg and libpq (extra bytes here could be injected before the handshake).
        this.destroy(new Error('There was an error establishing an SSL connection'));
      });
    });
  }

  private startTls(raw: Socket, fail: (error: Error) => void): void {
    // From here errors surface on the TLS socket; raw's own would race the fallback.
    raw.off('error', fail).on('error', ignore);
    const secure = connectTls({
      ...this.tlsOptions,
      socket: raw,
      host: this.host,
      // SNI must not be an IP address (RFC 6066); the identity check then uses `host`.
      ...(isIP(this.host) === 0 ? { servername: this.host } : {}),
    });
    const fallBack = () => {
      secure.destroy();
      raw.destroy();
      this.open(false);
    };
    secure.once('error', fallBack);
    secure.once('secureConnect', () => {
      secure.off('error', fallBack);
      this.encrypted = true;
      this.sentOverTls = [];
      this.use(secure);
    });
  }

  /** Starts carrying pg's bytes over `socket`. */
  private use(socket: Socket | TLSSocket): void {
    this.socket = socket;
    const current = () => this.socket === socket;
    socket.on('data', (data: Buffer) => current() && this.receive(data));
    socket.on('end', () => current() && this.push(null));
    socket.on('error', (error: Error) => current() && this.destroy(error));
    socket.on('close', () => current() && this.destroy());
    const pending = this.pending;
    this.pending = [];
    for (const chunk of pending) this.send(chunk);
    this.emit('connect');
  }

  private receive(data: Buffer): void {
    const sentOverTls = this.sentOverTls;
    this.sentOverTls = undefined;
    if (sentOverTls && data[0] === ERROR_RESPONSE) {
      // The server refused the encrypted session before authentication: retry without TLS.
      this.socket?.destroy();
      this.raw?.destroy();
      this.socket = undefined;
      this.encrypted = false;
      this.pending = sentOverTls;
      this.open(false);
      return;
    }
    if (!this.push(data)) this.socket?.pause();
  }

  private send(chunk: Buffer, callback: (error?: Error | null) => void = ignore): void {
    this.sentOverTls?.push(chunk);
    this.socket?.write(chunk, callback);
  }

  override _read(): void {
    this.socket?.resume();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ) {
    this.forward(chunk, callback);
  }

  // pg corks the stream around each query's messages (Parse, Bind, Execute, Sync...): one write
  // for them all, as a plain socket would make, instead of one system call per message.
  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.forward(Buffer.concat(chunks.map(({ chunk }) => chunk)), callback);
  }

  private forward(chunk: Buffer, callback: (error?: Error | null) => void): void {
    if (this.socket) {
      this.send(chunk, callback);
    } else {
      this.pending.push(chunk);
      callback();
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket?.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket?.destroy();
    this.raw?.destroy();
    callback(error);
  }
}
