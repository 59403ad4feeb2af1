import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { type MimePart, parseMime } from './mime.js';

/** An SMTP reply the sink gives instead of accepting, e.g. `{ code: 421, message: 'try later' }`. */
export interface SinkReply {
  readonly code: number;
  readonly message: string;
}

export interface ReceivedMessage {
  /** MAIL FROM and every RCPT TO that was accepted (bcc recipients appear only here). */
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  /** The message exactly as received after DATA. */
  readonly raw: string;
  readonly mime: MimePart;
  /** First value of a top-level header, case-insensitive. */
  header(name: string): string | undefined;
  /** Whether the connection was TLS (implicit or after STARTTLS). */
  readonly secure: boolean;
  /** The authenticated user name, if the client logged in. */
  readonly user: string | undefined;
  /** What the sink answered: 250, or the scripted refusal. */
  readonly reply: SinkReply | { code: 250; message: string };
  /** When the whole message had arrived (the end of DATA). */
  readonly receivedAt: Date;
}

export interface SmtpSinkOptions {
  /** Implicit TLS from the first byte (like port 465). @default false */
  secure?: boolean;
  /**
   * Offer STARTTLS, using smtp-server's built-in self-signed test certificate unless `key`/`cert`
   * are given (clients must then skip verification). @default true
   */
  starttls?: boolean;
  key?: string | Buffer;
  cert?: string | Buffer;
  /** Require AUTH PLAIN/LOGIN with these credentials. @default no authentication */
  auth?: { user: string; pass: string };
  /** Refuse plain-text connections: MAIL FROM is answered 530 until TLS is on. @default false */
  requireTls?: boolean;
}

export interface SmtpSink {
  readonly host: string;
  readonly port: number;
  /** Messages accepted with 250, in arrival order. */
  readonly messages: ReceivedMessage[];
  /** Every complete DATA transaction, accepted or refused, in arrival order. */
  readonly attempts: ReceivedMessage[];
  /** Every RCPT TO address the sink was asked for, accepted or refused, in arrival order. */
  readonly recipientsTried: string[];
  /** Connections opened so far, and the most that were open at once. */
  readonly stats: { connections: number; open: number; maxOpen: number };
  /** The next `count` DATA transactions are answered with `reply` (e.g. 421) instead of 250. */
  failNextMessages(count: number, reply: SinkReply): void;
  /** Every RCPT TO for `address` is answered with `reply` (e.g. 550) from now on. */
  rejectRecipient(address: string, reply: SinkReply): void;
  /** RCPT TO for `address` is accepted again. */
  acceptRecipient(address: string): void;
  /** Wait this long before answering each DATA transaction (a slow relay). */
  setReplyDelay(milliseconds: number): void;
  /** Resolves once `count` messages have been accepted; rejects after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  /** Forgets recorded messages and scripted replies. */
  reset(): void;
  stop(): Promise<void>;
}

/** A real SMTP server (the smtp-server package) on 127.0.0.1 and a free port, for tests. */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMessage[] = [];
  const attempts: ReceivedMessage[] = [];
  const stats = { connections: 0, open: 0, maxOpen: 0 };
  const pendingFailures: SinkReply[] = [];
  const rejectedRecipients = new Map<string, SinkReply>();
  const recipientsTried: string[] = [];
  const waiters = new Set<() => void>();
  let replyDelay = 0;

  const disabledCommands: string[] = [];
  if (options.starttls === false) disabledCommands.push('STARTTLS');
  if (!options.auth) disabledCommands.push('AUTH');

  const server = new SMTPServer({
    secure: options.secure ?? false,
    ...(options.key ? { key: options.key } : {}),
    ...(options.cert ? { cert: options.cert } : {}),
    disabledCommands,
    authOptional: !options.auth,
    disableReverseLookup: true,
    // Pooled clients keep connections open; do not make stop() wait 30 s for them.
    closeTimeout: 100,
    logger: false,
    onConnect(_session, callback) {
      stats.connections += 1;
      stats.open += 1;
      stats.maxOpen = Math.max(stats.maxOpen, stats.open);
      callback();
    },
    onClose() {
      stats.open -= 1;
    },
    onAuth(auth, _session, callback) {
      const ok = auth.username === options.auth?.user && auth.password === options.auth?.pass;
      if (ok) callback(null, { user: auth.username });
      else callback(smtpError({ code: 535, message: 'Authentication credentials invalid' }));
    },
    onMailFrom(_address, session, callback) {
      if (options.requireTls && !session.secure) {
        callback(smtpError({ code: 530, message: 'Must issue a STARTTLS command first' }));
      } else {
        callback();
      }
    },
    onRcptTo(address, _session, callback) {
      recipientsTried.push(address.address);
      const reply = rejectedRecipients.get(address.address.toLowerCase());
      callback(reply ? smtpError(reply) : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const failure = pendingFailures.shift();
        const reply = failure ?? { code: 250 as const, message: 'OK: queued' };
        const message = receivedMessage(session, Buffer.concat(chunks).toString('utf8'), reply);
        const answer = () => {
          attempts.push(message);
          if (failure) {
            callback(smtpError(failure));
          } else {
            messages.push(message);
            for (const wake of waiters) wake();
            callback(null, reply.message);
          }
        };
        if (replyDelay > 0) setTimeout(answer, replyDelay);
        else answer();
      });
    },
  });
  server.on('error', () => {
    // Client resets (e.g. a worker killed mid-send) are expected in tests.
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    messages,
    attempts,
    recipientsTried,
    stats,
    failNextMessages(count, reply) {
      for (let i = 0; i < count; i++) pendingFailures.push(reply);
    },
    rejectRecipient(address, reply) {
      rejectedRecipients.set(address.toLowerCase(), reply);
    },
    acceptRecipient(address) {
      rejectedRecipients.delete(address.toLowerCase());
    },
    setReplyDelay(milliseconds) {
      replyDelay = milliseconds;
    },
    waitForMessages(count, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < count) return;
          cleanup();
          resolve(messages.slice());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`SMTP sink: ${messages.length} of ${count} messages after ${timeoutMs} ms`),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    reset() {
      messages.length = 0;
      attempts.length = 0;
      recipientsTried.length = 0;
      pendingFailures.length = 0;
      rejectedRecipients.clear();
      replyDelay = 0;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function receivedMessage(
  session: SMTPServerSession,
  raw: string,
  reply: ReceivedMessage['reply'],
): ReceivedMessage {
  const mime = parseMime(raw);
  const { mailFrom, rcptTo } = session.envelope;
  return {
    envelope: {
      from: mailFrom ? mailFrom.address : '',
      to: rcptTo.map((recipient) => recipient.address),
    },
    raw,
    mime,
    header: (name) => mime.header(name),
    secure: session.secure,
    user: typeof session.user === 'string' ? session.user : undefined,
    reply,
    receivedAt: new Date(),
  };
}

function smtpError(reply: SinkReply): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}
