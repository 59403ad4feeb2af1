import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { signWebhook } from '../../app/src/webhooks/signing-secret.js';

export interface PostLoopOptions {
  url: string;
  /** The JSON body every request carries (a real outbox payload). */
  body: string;
  /** The endpoint's signing secret: each request is signed as SelfMX signs it. */
  secret: string;
  count: number;
  concurrency: number;
}

/**
 * The webhook baseline: `concurrency` loops POSTing `count` signed requests in all, one at a
 * time each, with node:http's default keep-alive agent, and nothing else (no outbox, no claim,
 * no record of the attempt). Rejects on any answer but a 2xx.
 */
export async function runWebhookPostLoop(options: PostLoopOptions): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const url = new URL(options.url);
  let remaining = options.count;
  const postOne = () =>
    new Promise<void>((resolve, reject) => {
      const headers = signWebhook(options.secret, randomUUID(), new Date(), options.body);
      const request = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(options.body)),
            'user-agent': 'bench-webhook-loop',
          },
        },
        (response) => {
          response.resume();
          response.on('end', () =>
            (response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 300
              ? resolve()
              : reject(new Error(`webhook receiver answered ${response.statusCode}`)),
          );
        },
      );
      request.on('error', reject);
      request.end(options.body);
    });
  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (remaining > 0) {
          remaining -= 1;
          await postOne();
        }
      }),
    );
  } finally {
    agent.destroy();
  }
}
