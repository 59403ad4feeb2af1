import { keepBacklogTemplate } from './backlog.js';
import type { BenchEnvironment, RunningService } from './environment.js';
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
