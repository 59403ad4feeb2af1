/** `-- selfmx-lint allow <rule> : <reason>`: allows one rule for the statement right after it. */
export interface Annotation {
  /** Character offset of the comment in the section. */
  readonly position: number;
  readonly rule: string;
  /** Empty when the annotation gives none (which is itself an error). */
  readonly reason: string;
  /** The comment as written, for messages. */
  readonly text: string;
  used: boolean;
}

const ANNOTATION = /--\s*selfmx-lint\s+allow\b(.*)$/gm;

export function findAnnotations(sql: string): Annotation[] {
  const annotations: Annotation[] = [];
  for (const match of sql.matchAll(ANNOTATION)) {
    const body = (match[1] ?? '').trim();
    const colon = body.indexOf(':');
    const rule = (colon < 0 ? body : body.slice(0, colon)).trim();
    const reason = colon < 0 ? '' : body.slice(colon + 1).trim();
    annotations.push({ position: match.index, rule, reason, text: match[0].trim(), used: false });
  }
  return annotations;
}
