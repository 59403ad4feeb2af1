import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import type { SmtpConfig } from '../../app/src/config/app-config.js';
import { CoalescingStream } from '../../app/src/smtp/coalesced-message.js';
import { createSmtpTransport } from '../../app/src/smtp/transport.js';
import { leafParts } from '../support/mime.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

async function piecesOf(chunks: readonly string[], limit: number): Promise<string[]> {
  const pieces: string[] = [];
  const stream = Readable.from(chunks.map((chunk) => Buffer.from(chunk))).pipe(
    new CoalescingStream(limit),
  );
  // 'data' sees each piece as pushed; reading the stream as an iterator would join them.
  stream.on('data', (piece: Buffer) => pieces.push(piece.toString()));
  await finished(stream);
  return pieces;
}

/** Every buffer written to any socket while `action` runs, in order, per socket. */
async function socketWrites(action: () => Promise<void>): Promise<Map<Socket, string[]>> {
  const writes = new Map<Socket, string[]>();
  const original = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString();
    writes.set(this, [...(writes.get(this) ?? []), text]);
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof original;
  try {
    await action();
  } finally {
    Socket.prototype.write = original;
  }
  return writes;
}

describe('coalesced message chunks', () => {
  it('joins small chunks into pieces of up to the limit, bytes unchanged', async () => {
    assert.deepEqual(await piecesOf(['ab', 'cd', 'ef'], 64), ['abcdef']);
    assert.deepEqual(await piecesOf(['abcd', 'efgh', 'ij', 'k'], 4), ['abcd', 'efgh', 'ijk']);
    assert.deepEqual(await piecesOf(['abc', 'defgh', 'i'], 4), ['abcdefgh', 'i']);
    assert.deepEqual(await piecesOf([], 4), []);
  });

  it('refuses a limit that is not a positive integer, naming it', () => {
    assert.throws(() => new CoalescingStream(0), /limit must be a positive integer, got 0/);
  });

  describe('through the queue workers’ transport', () => {
    let sink: SmtpSink;
    let config: SmtpConfig;
    before(async () => {
      sink = await startSmtpSink({ starttls: false });
      config = {
        host: sink.host,
        port: sink.port,
        user: undefined,
        pass: undefined,
        tls: false,
        tlsVerify: true,
        timeoutSeconds: 30,
        poolSize: 2,
      };
    });
    after(() => sink.stop());

    it('writes a small message to the socket in one piece and its end-of-data mark', async () => {
      sink.reset();
      const transport = createSmtpTransport(config);
      const html = `<p>${'hello '.repeat(300)}</p>`;
      const writes = await socketWrites(async () => {
        await transport.sendMail({
          from: 'a@example.com',
          to: 'b@example.com',
          subject: 'one piece',
          html,
          text: 'first line\n.a line that starts with a dot\nlast line',
          messageId: '<coalesced-1@example.com>',
        });
      });
      transport.close();
      const [message] = await sink.waitForMessages(1);
      const leaves = leafParts(message?.mime ?? assert.fail('no message'));
      assert.equal(
        leaves.find((part) => part.contentType === 'text/plain')?.body.toString(),
        'first line\r\n.a line that starts with a dot\r\nlast line',
      );
      assert.equal(leaves.find((part) => part.contentType === 'text/html')?.body.toString(), html);

      const [smtp] = [...writes.values()].filter((texts) => texts.includes('DATA\r\n'));
      const afterData = smtp?.slice(smtp.indexOf('DATA\r\n') + 1) ?? [];
      const endOfData = afterData.findIndex((text) => `\r\n${text}`.endsWith('\r\n.\r\n'));
      assert.ok(endOfData >= 0, `no end of DATA among ${afterData.length} writes`);
      // The whole message, then the end-of-data mark: two writes, not one per MIME chunk.
      assert.ok(endOfData <= 1, `the message took ${endOfData + 1} socket writes`);
    });

    it('delivers a message larger than one piece intact', async () => {
      sink.reset();
      const transport = createSmtpTransport(config);
      const attachment = Buffer.alloc(300 * 1024, 'selfmx coalesced ');
      await transport.sendMail({
        from: 'a@example.com',
        to: 'b@example.com',
        subject: 'several pieces',
        text: 'see attached',
        attachments: [
          { filename: 'big.txt', content: attachment.toString('base64'), encoding: 'base64' },
        ],
      });
      transport.close();
      const [message] = await sink.waitForMessages(1);
      const leaves = leafParts(message?.mime ?? assert.fail('no message'));
      assert.ok(leaves.find((part) => part.filename === 'big.txt')?.body.equals(attachment));
    });
  });
});
