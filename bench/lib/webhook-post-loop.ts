import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { signWebhook } from '../../app/src/webhooks/signing-secret.js';
import { spawnTsScript } from './app-child.js';
import { ownCpuMs } from './proc-cpu.js';

export interface PostLoopOptions {
  url: string;
  /** The JSON body every request carries (a real outbox payload). */
  body: string;
  /** The endpoint's signing secret: each request is signed as SelfMX signs it. */
  secret: string;
  count: number;
  concurrency: number;
}

const THIS_FILE = fileURLToPath(import.meta.url);
const OPTIONS_VARIABLE = 'BENCH_POST_LOOP';

/**
 * The webhook baseline: `concurrency` loops POSTing `count` signed requests in all, one at a
 * time each, with node:http's keep-alive agent, and nothing else (no outbox, no claim, no record
 * of the attempt). It runs in a process of its own, as the app does, so both reach the receiver
 * (in the bench's process) across processes. Resolves with the loop's CPU ms per POST; rejects
 * when the loop got an answer other than a 2xx or failed.
 */
export async function runWebhookPostLoop(options: PostLoopOptions): Promise<{ cpuMs: number }> {
  const child = spawnTsScript(THIS_FILE, {
    [OPTIONS_VARIABLE]: JSON.stringify(options),
  });
  const code = await child.exited;
  const output = child.output();
  if (code !== 0) throw new Error(`webhook POST loop exited ${code}:\n${output}`);
  const last = output.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as { cpuMs: number };
}

async function postLoop(options: PostLoopOptions): Promise<{ cpuMs: number }> {
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
  const before = ownCpuMs();
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
  return { cpuMs: (ownCpuMs() - before) / options.count };
}

if (process.env[OPTIONS_VARIABLE] && process.argv[1] === THIS_FILE) {
  const options = JSON.parse(process.env[OPTIONS_VARIABLE]) as PostLoopOptions;
  console.log(JSON.stringify(await postLoop(options)));
}
