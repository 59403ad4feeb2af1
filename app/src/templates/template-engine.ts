import Handlebars from 'handlebars';

/**
 * Handlebars for templates: only the built-in helpers (knownHelpersOnly), so an unknown helper is
 * a syntax error at create/update time rather than a surprise at send time. html is
 * HTML-escaped; subject and text are not (they are not HTML).
 */
const handlebars = Handlebars.create();

export type TemplatePart = 'subject' | 'html' | 'text';

// `log` writes its arguments raw to stdout: a template could forge log lines. It is not a known
// helper, so a template that uses it does not compile.
handlebars.unregisterHelper('log');
// Handlebars also logs prototype-access refusals to the console; those lines are not ours.
Handlebars.logger.log = () => undefined;

const COMPILE_OPTIONS = {
  knownHelpersOnly: true,
  knownHelpers: { log: false },
  strict: false,
} as const;

/** The reason a template source does not compile, or undefined when it does. */
export function templateSyntaxError(source: string): string | undefined {
  try {
    handlebars.precompile(source, COMPILE_OPTIONS);
    return undefined;
  } catch (error) {
    return `Handlebars syntax error: ${firstLines(error)}`;
  }
}

/** A rendered part grew past its limit; thrown as soon as one `{{#each}}` has produced too much. */
export class RenderedTooLarge extends Error {
  constructor(readonly maxChars: number) {
    super(`renders to more than ${maxChars} characters`);
  }
}

// The output limit of the render running now (rendering is synchronous, one at a time).
let outputBudget = Number.POSITIVE_INFINITY;

// `{{#each}}` is where output multiplies (`{{#each a}}{{@root.big}}{{/each}}`): count what one
// loop has produced and stop it at the limit instead of building the whole string. Every built-in
// helper keeps its block's output, so a loop's output is part of the result.
const builtinEach = handlebars.helpers.each as Handlebars.HelperDelegate;
handlebars.registerHelper('each', function (this: unknown, context: unknown, options) {
  const fn = options.fn as (value: unknown, frame: unknown) => string;
  let produced = 0;
  const counted = (value: unknown, frame: unknown): string => {
    const output = fn(value, frame);
    produced += output.length;
    if (produced > outputBudget) throw new RenderedTooLarge(outputBudget);
    return output;
  };
  return builtinEach.call(this, context, { ...options, fn: counted });
});

type Render = (data: Record<string, unknown>) => string;

// Compiled templates by (template id, version, part); a bounded cache, oldest evicted first.
const compiled = new Map<string, Render>();
const CACHE_SIZE = 500;

/**
 * Renders one part of a template; `cacheKey` must change whenever the source changes. Throws
 * RenderedTooLarge when the output would exceed `maxChars`.
 */
export function renderTemplatePart(
  cacheKey: string,
  part: TemplatePart,
  source: string,
  data: Record<string, unknown>,
  maxChars: number,
): string {
  const key = `${cacheKey}:${part}`;
  let render = compiled.get(key);
  if (!render) {
    render = handlebars.compile(source, { ...COMPILE_OPTIONS, noEscape: part !== 'html' });
    compiled.set(key, render);
    if (compiled.size > CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
  }
  outputBudget = maxChars;
  try {
    const output = render(data);
    if (output.length > maxChars) throw new RenderedTooLarge(maxChars);
    return output;
  } catch (error) {
    // A string past V8's maximum length: the same verdict, reached later.
    if (error instanceof RangeError && /string length/i.test(error.message)) {
      throw new RenderedTooLarge(maxChars);
    }
    throw error;
  } finally {
    outputBudget = Number.POSITIVE_INFINITY;
  }
}

function firstLines(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n').slice(0, 4).join(' | ');
}
