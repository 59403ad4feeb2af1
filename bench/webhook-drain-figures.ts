import { startBenchEnvironment } from './lib/environment.js';
import { prepareBacklogTemplate } from './lib/template-email.js';
import { startWebhookReceiver } from './lib/webhook-receiver.js';
import { measureWebhookDrain } from './scenarios/webhooks.js';

/**
 * Only the drain half of the bench's webhooks scenario: SelfMX deliveries/s at a local receiver
 * against the bare POST loop, alternating ROUNDS times, and webhook_ratio.
 * BENCH_PROFILE=<dir> also writes the app's CPU profiles (bench/lib/app-child.ts).
 * Run after `npm run build`: BENCH_EVENTS=10000 BENCH_ROUNDS=2 npx tsx bench/webhook-drain-figures.ts
 */
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

const env = await startBenchEnvironment();
const receiver = await startWebhookReceiver();
try {
  await prepareBacklogTemplate(env);
  const result = await measureWebhookDrain(env, receiver, {
    outboxEmails: EVENTS,
    rounds: ROUNDS,
    deliveryBacklog: 0,
    deliveryRounds: 0,
    queueWorkers: 4,
  });
  console.log(JSON.stringify(result));
} finally {
  await receiver.close();
  await env.close();
}
