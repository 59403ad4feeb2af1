import type { TerraformResource } from 'cdktf';

/** One broken rule: what is wrong and how to fix it. */
export interface GuardrailViolation {
  readonly problem: string;
  readonly fix: string;
}

/** One rule of the production guardrails: the violations of a resource (none when it complies). */
export type GuardrailCheck = (resource: TerraformResource) => GuardrailViolation[];
