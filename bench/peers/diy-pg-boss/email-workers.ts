import type { Transporter } from 'nodemailer';
import type PgBoss from 'pg-boss';
import type { EmailJob } from './peer-boss.js';
import { EMAIL_QUEUE } from './peer-schema.js';

/** Jobs each worker holds at once, sent concurrently (as SelfMX's workers claim 10). */
const BATCH_SIZE = 10;
/** pg-boss's shortest polling interval, used when the queue is empty. */
const IDLE_POLL_MS = 500;

/**
 * `count` delivery loops: fetch up to BATCH_SIZE jobs (pg-boss's SKIP LOCKED claim), send them
 * through the pooled transport, complete the sent ones and fail the others (pg-boss retries
 * them). Plain fetch/complete loops rather than boss.work(): work() waits its polling interval
 * after every batch even when more jobs are waiting, which would cap 4 workers at 80 emails/s.
 */
export function startEmailWorkers(
  boss: PgBoss,
  transport: Transporter,
  count: number,
): { stop(): Promise<void> } {
  let stopping = false;
  const sendBatch = async (): Promise<number> => {
    const jobs = await boss.fetch<EmailJob>(EMAIL_QUEUE, { batchSize: BATCH_SIZE });
    const results = await Promise.allSettled(
      jobs.map((job) => transport.sendMail({ ...job.data, to: job.data.to.join(', ') })),
    );
    const sent = jobs.filter((_, i) => results[i]?.status === 'fulfilled').map((job) => job.id);
    const failed = jobs.filter((_, i) => results[i]?.status === 'rejected').map((job) => job.id);
    if (sent.length > 0) await boss.complete(EMAIL_QUEUE, sent);
    if (failed.length > 0) await boss.fail(EMAIL_QUEUE, failed);
    return jobs.length;
  };
  const loop = async () => {
    while (!stopping) {
      let fetched = 0;
      try {
        fetched = await sendBatch();
      } catch (error) {
        console.error(`worker: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (fetched === 0) await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
    }
  };
  const loops = Array.from({ length: count }, loop);
  return {
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}
