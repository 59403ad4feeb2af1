import { randomBytes } from 'node:crypto';
import { clearEmails } from '../lib/backlog.js';
import { type BenchEnvironment, startService } from '../lib/environment.js';
import { RssSampler } from '../lib/proc-memory.js';
import { RawHttpPool } from '../lib/raw-http-pool.js';
import {
  SAMPLE_FROM,
  SAMPLE_HTML,
  SAMPLE_SUBJECT,
  SAMPLE_TEXT,
  sampleEmailBody,
  sampleRecipient,
} from '../lib/sample-email.js';
import { round } from '../lib/stats.js';

export interface LargeMemoryOptions {
  concurrency: number;
  /** Emails sent in all (so the number of large ones does not depend on the machine's speed). */
  emails: number;
  /** Every `largeEvery`-th email carries the large attachment. */
  largeEvery: number;
  /** Decoded size of that attachment. */
  largeBytes: number;
}

export interface LargeMemoryResult {
  readonly concurrency: number;
  readonly emails: number;
  readonly elapsed_ms: number;
  readonly large_every: number;
  readonly large_bytes: number;
  /** Size of a large email's request body (the attachment is base64 in JSON). */
  readonly large_request_bytes: number;
  readonly accepted: number;
  readonly large_accepted: number;
  readonly per_second: number;
  readonly errors: number;
  readonly error_samples: string[];
  /** VmHWM of the app process at the end of the run (its start-up included). */
  readonly peak_rss_mb_large: number;
  readonly sampled_peak_rss_mb: number;
}

/**
 * `emails` POST /v1/emails at `concurrency` against a fresh service with no queue workers, as the ingest
 * runs, but every `largeEvery`-th email carries an attachment of `largeBytes`: the app's peak
 * resident memory when large emails arrive among the usual small ones.
 */
export async function measureLargeEmailMemory(
  env: BenchEnvironment,
  options: LargeMemoryOptions,
): Promise<LargeMemoryResult> {
  const largeBody = JSON.stringify({
    from: SAMPLE_FROM,
    to: [sampleRecipient(0)],
    subject: SAMPLE_SUBJECT,
    html: SAMPLE_HTML,
    text: SAMPLE_TEXT,
    attachments: [
      {
        filename: 'statement.pdf',
        content_type: 'application/pdf',
        content: randomBytes(options.largeBytes).toString('base64'),
      },
    ],
  });
  const service = await startService(env, { QUEUE_WORKERS: '0' });
  const http = new RawHttpPool(service.baseUrl, { authorization: `Bearer ${env.apiKey}` });
  const sampler = new RssSampler(service.app.pid);
  let sequence = 0;
  let accepted = 0;
  let largeAccepted = 0;
  const errors: string[] = [];
  const send = async () => {
    while (sequence < options.emails) {
      sequence += 1;
      const large = sequence % options.largeEvery === 0;
      try {
        await http.post('/v1/emails', large ? largeBody : sampleEmailBody(sequence));
        accepted += 1;
        if (large) largeAccepted += 1;
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  try {
    sampler.start();
    const began = performance.now();
    await Promise.all(Array.from({ length: options.concurrency }, send));
    const elapsedMs = performance.now() - began;
    const memory = sampler.stop();
    if (accepted === 0) throw new Error(`no email was accepted: ${errors.slice(0, 3).join('; ')}`);
    return {
      concurrency: options.concurrency,
      emails: options.emails,
      elapsed_ms: round(elapsedMs, 0),
      large_every: options.largeEvery,
      large_bytes: options.largeBytes,
      large_request_bytes: Buffer.byteLength(largeBody),
      accepted,
      large_accepted: largeAccepted,
      per_second: round(accepted / (elapsedMs / 1000), 1),
      errors: errors.length,
      error_samples: [...new Set(errors)].slice(0, 5),
      peak_rss_mb_large: round(memory.processPeakMb, 1),
      sampled_peak_rss_mb: round(memory.sampledPeakMb, 1),
    };
  } finally {
    http.close();
    await service.stop();
    await clearEmails(env.pool);
  }
}
