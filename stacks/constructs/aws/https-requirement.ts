import { type Precondition, TerraformLocal } from 'cdktf';
import type { Construct } from 'constructs';

/** Why Terraform refuses to plan a production stack without a certificate, and the fix. */
export const HTTPS_REQUIRED_MESSAGE =
  'SELFMX_CERTIFICATE_ARN is unset: a production selfmx-aws serves the API over HTTPS only. ' +
  'Set SELFMX_CERTIFICATE_ARN to the ARN of an ACM certificate for the API domain (in ' +
  'SELFMX_AWS_REGION) and synthesize again, or set SELFMX_EPHEMERAL=true for a throwaway ' +
  'environment, which may serve plain HTTP.';

/**
 * The precondition of a plain HTTP listener: only an ephemeral environment may have one.
 *
 * A plan-time check rather than a synth-time refusal: `npm run synth` synthesizes every stack, so
 * refusing there would also block selfmx-local. `terraform plan` (and so `cdktf deploy
 * selfmx-aws`) fails on it before anything is created. Terraform refuses a condition that refers
 * to nothing, so the setting is a local value (`local.selfmx_ephemeral`), shown in the plan.
 */
export function plainHttpOnlyWhenEphemeral(scope: Construct, ephemeral: boolean): Precondition {
  const allowed = new TerraformLocal(scope, 'selfmx_ephemeral', ephemeral);
  return { condition: allowed.asBoolean, errorMessage: HTTPS_REQUIRED_MESSAGE };
}
