import Handlebars from 'handlebars';

/**
 * Handlebars for templates: only the built-in helpers (knownHelpersOnly), so an unknown helper is
 * a syntax error at create/update time rather than a surprise at send time. html is
 * HTML-escaped; subject and text are not (they are not HTML).
 */
const handlebars = Handlebars.create();

export type TemplatePart = 'subject' | 'html' | 'text';

const COMPILE_OPTIONS = { knownHelpersOnly: true, strict: false } as const;

/** The reason a template source does not compile, or undefined when it does. */
export function templateSyntaxError(source: string): string | undefined {
  try {
    handlebars.precompile(source, COMPILE_OPTIONS);
    return undefined;
  } catch (error) {
    return `Handlebars syntax error: ${firstLines(error)}`;
  }
}

type Render = (data: Record<string, unknown>) => string;

// Compiled templates by (template id, version, part); a bounded cache, oldest evicted first.
const compiled = new Map<string, Render>();
const CACHE_SIZE = 500;

/** Renders one part of a template; `cacheKey` must change whenever the source changes. */
export function renderTemplatePart(
  cacheKey: string,
  part: TemplatePart,
  source: string,
  data: Record<string, unknown>,
): string {
  const key = `${cacheKey}:${part}`;
  let render = compiled.get(key);
  if (!render) {
    render = handlebars.compile(source, { ...COMPILE_OPTIONS, noEscape: part !== 'html' });
    compiled.set(key, render);
    if (compiled.size > CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
  }
  return render(data);
}

function firstLines(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n').slice(0, 4).join(' | ');
}
