import { clearEmails, keepBacklogTemplate } from './backlog.js';
import { type BenchEnvironment, type RunningService, startService } from './environment.js';
import { sampleEmailBody } from './sample-email.js';

/** Sends the sample email once through the API and keeps its row as the backlog's model. */
export async function captureBacklogTemplate(
  env: BenchEnvironment,
  service: RunningService,
): Promise<void> {
  const response = await fetch(`${service.baseUrl}/v1/emails`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.apiKey}`, 'content-type': 'application/json' },
    body: sampleEmailBody(0),
  });
  const body = (await response.json()) as { id?: string };
  if (!response.ok || !body.id) {
    throw new Error(`POST /v1/emails answered ${response.status}: ${JSON.stringify(body)}`);
  }
  await keepBacklogTemplate(env.pool, body.id);
}

/**
 * The same for a script that runs no ingest first: a worker-less `serve` started for it alone,
 * stopped after, leaving no email queued.
 */
export async function prepareBacklogTemplate(env: BenchEnvironment): Promise<void> {
  const service = await startService(env, { QUEUE_WORKERS: '0' });
  try {
    await captureBacklogTemplate(env, service);
  } finally {
    await service.stop();
    await clearEmails(env.pool);
  }
}
