import { type Readable, Transform, type TransformCallback } from 'node:stream';
import type { Transporter } from 'nodemailer';

/** A message's bytes are handed to the relay's socket in pieces of up to this size. */
export const COALESCED_CHUNK_BYTES = 64 * 1024;

/**
 * Joins the many small chunks of nodemailer's MIME stream (a header block, each boundary, each
 * encoded line group) into pieces of up to `limit` bytes. nodemailer writes every chunk of the
 * message to the socket as it comes, one system call each, and on a busy host those writes are a
 * large share of the CPU a delivery costs; a message under `limit` leaves in one write. Memory
 * stays bounded by `limit` per message in flight, whatever the message's size.
 */
export class CoalescingStream extends Transform {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(limit = COALESCED_CHUNK_BYTES) {
    super();
    if (!Number.isInteger(limit) || limit < 1) {
      throw new Error(`CoalescingStream limit must be a positive integer, got ${limit}`);
    }
    this.#limit = limit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#size >= this.#limit) this.#release();
    done();
  }

  override _flush(done: TransformCallback): void {
    this.#release();
    done();
  }

  #release(): void {
    if (this.#size === 0) return;
    const chunks = this.#chunks;
    this.push(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.#size));
    this.#chunks = [];
    this.#size = 0;
  }
}

/**
 * Joins the message chunks of every message `transport` sends (a nodemailer `stream` plugin: the
 * bytes are unchanged, and a DKIM signature, if configured, is computed over them as before).
 */
export function coalesceMessageChunks(transport: Transporter): void {
  transport.use('stream', (mail, done) => {
    mail.message.processFunc((input: Readable) => {
      const output = new CoalescingStream();
      // nodemailer expects a process function to report its input's errors on its output.
      input.on('error', (error) => output.destroy(error));
      return input.pipe(output);
    });
    done();
  });
}
