import type { TerraformStack } from 'cdktf';

/** Terraform 1.5 has every feature the stacks use (postconditions, replace_triggered_by). */
export const REQUIRED_TERRAFORM_VERSION = '>= 1.5.0';

/** `removed` blocks (Terraform forgets a resource without destroying it) need Terraform 1.7. */
export const REMOVED_BLOCK_TERRAFORM_VERSION = '>= 1.7.0';

/** S3's native state lock file (`use_lockfile`) needs Terraform 1.10. */
export const S3_LOCKFILE_TERRAFORM_VERSION = '>= 1.10.0';

/** Sets `terraform.required_version`, so that an older Terraform refuses the stack at init. */
export function requireTerraform(
  stack: TerraformStack,
  version = REQUIRED_TERRAFORM_VERSION,
): void {
  stack.addOverride('terraform.required_version', version);
}
