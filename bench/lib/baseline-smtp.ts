import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { SmtpSink } from '../../test/support/smtp-sink.js';
import type { SenderSettings } from './nodemailer-sender.js';

const SENDER = fileURLToPath(new URL('./nodemailer-sender.ts', import.meta.url));

/** Messages per second that plain nodemailer gets into `sink` (see nodemailer-sender.ts). */
export async function measureNodemailerBaseline(
  sink: SmtpSink,
  poolSize: number,
  count: number,
): Promise<{
  perSecond: number;
  elapsedMs: number;
  maxOpenConnections: number;
  /** The sender process's CPU per message, in ms. */
  cpuMsPerMessage: number;
}> {
  sink.reset();
  sink.stats.maxOpen = sink.stats.open;
  const settings: SenderSettings = { host: sink.host, port: sink.port, poolSize, count };
  // fork() reuses this process's execArgv, i.e. tsx's loader, so the child can be TypeScript.
  const child = fork(SENDER, [], {
    env: { ...process.env, BENCH_SENDER: JSON.stringify(settings) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const [ready] = await once(child, 'message');
    if (ready !== 'ready') throw new Error(`nodemailer sender: unexpected ${String(ready)}`);
    const began = performance.now();
    child.send('go');
    const [[report], deliveredAt] = await Promise.all([
      once(child, 'message') as Promise<[{ ok: boolean; error?: string; cpuMs?: number }]>,
      sink.waitForMessages(count, 300_000).then(() => performance.now()),
    ]);
    const elapsedMs = deliveredAt - began;
    if (!report.ok) throw new Error(`nodemailer sender failed: ${report.error}`);
    return {
      perSecond: count / (elapsedMs / 1000),
      elapsedMs,
      maxOpenConnections: sink.stats.maxOpen,
      cpuMsPerMessage: (report.cpuMs ?? Number.NaN) / count,
    };
  } finally {
    if (child.exitCode === null) child.kill();
  }
}
