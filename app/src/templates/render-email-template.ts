import { renderTemplatePart, type TemplatePart } from './template-engine.js';
import type { TemplateRow } from './template-repository.js';

export interface RenderedTemplate {
  subject: string;
  html: string | null;
  text: string | null;
}

/** A template that failed to render with the given data; `part` says which. */
export class TemplateRenderError extends Error {
  constructor(
    readonly part: TemplatePart,
    message: string,
  ) {
    super(message);
  }
}

/** Renders a stored template's subject, html and text with template_data, at send time. */
export function renderEmailTemplate(
  template: TemplateRow,
  data: Record<string, unknown>,
): RenderedTemplate {
  // The cache key changes with every update of the template.
  const version = `${template.id}@${template.updated_at.getTime()}`;
  const render = (part: TemplatePart, source: string | null): string | null => {
    if (source === null) return null;
    try {
      return renderTemplatePart(version, part, source, data);
    } catch (error) {
      throw new TemplateRenderError(part, error instanceof Error ? error.message : String(error));
    }
  };
  return {
    subject: render('subject', template.subject) ?? '',
    html: render('html', template.html),
    text: render('text', template.text),
  };
}
