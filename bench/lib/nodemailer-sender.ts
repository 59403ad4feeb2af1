import { createPlainSmtpTransport } from './plain-smtp-transport.js';
import { ownCpuMs } from './proc-cpu.js';
import {
  SAMPLE_FROM,
  SAMPLE_HTML,
  SAMPLE_SUBJECT,
  SAMPLE_TEXT,
  sampleRecipient,
} from './sample-email.js';

/**
 * The delivery baseline, run as a forked child process (as the app is) so that it does not share
 * an event loop with the SMTP sink: nodemailer's pooled transport sending `count` sample messages
 * straight to the sink with the app's own transport options (pool size, maxMessages, timeouts).
 * The parent says "go" and times the sink.
 */
export interface SenderSettings {
  host: string;
  port: number;
  poolSize: number;
  count: number;
}

const settings = JSON.parse(process.env.BENCH_SENDER ?? '{}') as SenderSettings;
const transport = createPlainSmtpTransport(settings.host, settings.port, settings.poolSize);

process.once('message', async () => {
  const cpuBefore = ownCpuMs();
  try {
    await Promise.all(
      Array.from({ length: settings.count }, (_, i) =>
        transport.sendMail({
          from: SAMPLE_FROM,
          to: sampleRecipient(i),
          subject: SAMPLE_SUBJECT,
          html: SAMPLE_HTML,
          text: SAMPLE_TEXT,
          messageId: `<bench-${i}@selfmx.test>`,
        }),
      ),
    );
    process.send?.({ ok: true, cpuMs: ownCpuMs() - cpuBefore });
  } catch (error) {
    process.send?.({ ok: false, error: (error as Error).message });
  } finally {
    transport.close();
    process.disconnect?.();
  }
});
process.send?.('ready');
