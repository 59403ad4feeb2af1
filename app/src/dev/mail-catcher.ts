import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface MailCatcher {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * A local SMTP server for `npm run dev`: accepts every message, saves it as an .eml file and
 * reports it, so SelfMX can deliver end to end without an email provider.
 */
export async function startMailCatcher(
  dir: string,
  onMessage: (summary: string) => void,
): Promise<MailCatcher> {
  // Caught mail is the developer's only: the directory may be outside their checkout.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        count += 1;
        const file = join(dir, `${Date.now()}-${count}.eml`);
        const recipients = session.envelope.rcptTo.map((r) => r.address).join(', ');
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        writeFile(file, Buffer.concat(chunks)).then(
          () => {
            onMessage(`mail from ${from} to ${recipients} saved to ${file}`);
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
