import { TEMPLATE_RENDER_LIMITS } from './render-limits.js';
import { type RenderOutcome, RenderWorkerPool } from './render-worker-pool.js';
import type { TemplatePart } from './template-engine.js';
import type { TemplateRow } from './template-repository.js';

export interface RenderedTemplate {
  subject: string;
  html: string | null;
  text: string | null;
}

type Failure = Extract<RenderOutcome, { ok: false }>;

/** A template that failed to render with the given data; `part` and `reason` say how. */
export class TemplateRenderError extends Error {
  constructor(
    readonly part: TemplatePart,
    readonly reason: Failure['reason'],
    message: string,
  ) {
    super(message);
  }
}

const renderers = new RenderWorkerPool(TEMPLATE_RENDER_LIMITS.workers);

/** The most characters each rendered part may have (the sender caps a part like the field). */
export type RenderCaps = Readonly<Record<TemplatePart, number>>;

/**
 * Renders a stored template's subject, html and text with template_data, at send time, in a
 * worker thread: all three parts within TEMPLATE_RENDER_LIMITS.deadlineMs, each within its
 * cap. Throws TemplateRenderError when a part fails, overruns or grows too large.
 */
export function renderEmailTemplate(
  template: TemplateRow,
  data: Record<string, unknown>,
  caps: RenderCaps,
): Promise<RenderedTemplate> {
  // The cache key changes with every update of the template.
  const cacheKey = `${template.id}@${template.updated_at.getTime()}`;
  return renderers.withWorker(async (worker) => {
    const deadline = performance.now() + TEMPLATE_RENDER_LIMITS.deadlineMs;
    const render = async (part: TemplatePart, source: string | null): Promise<string | null> => {
      if (source === null) return null;
      const maxChars = caps[part];
      const job = { cacheKey, part, source, data, maxChars };
      const outcome = await worker.render(job, deadline - performance.now());
      if (outcome.ok) return outcome.output;
      throw new TemplateRenderError(part, outcome.reason, describeFailure(outcome));
    };
    return {
      subject: (await render('subject', template.subject)) ?? '',
      html: await render('html', template.html),
      text: await render('text', template.text),
    };
  });
}

function describeFailure(failure: Failure): string {
  switch (failure.reason) {
    case 'timeout':
      return `did not render within ${TEMPLATE_RENDER_LIMITS.deadlineMs} ms (send fewer items or less nesting in the data)`;
    case 'too_large':
      return failure.message;
    case 'failed':
      return `failed to render: ${failure.message}`;
  }
}
