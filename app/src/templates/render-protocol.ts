import type { TemplatePart } from './template-engine.js';

/** What the main thread asks a template-render worker, and what it answers. */

export interface RenderRequest {
  readonly id: number;
  /** Changes whenever the template's source changes (the worker's compile cache key). */
  readonly cacheKey: string;
  readonly part: TemplatePart;
  readonly source: string;
  readonly data: Record<string, unknown>;
  readonly maxChars: number;
}

export type RenderReply =
  | { readonly id: number; readonly ok: true; readonly output: string }
  | {
      readonly id: number;
      readonly ok: false;
      readonly reason: 'too_large' | 'failed';
      readonly message: string;
    };
