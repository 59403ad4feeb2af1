import { DockerProvider } from '@cdktf/provider-docker/lib/provider/index.js';
import { RandomProvider } from '@cdktf/provider-random/lib/provider/index.js';
import type { TerraformStack } from 'cdktf';
import { LocalStateBackend } from '../local-state-backend.js';
import { REMOVED_BLOCK_TERRAFORM_VERSION, requireTerraform } from '../terraform-version.js';

export interface DockerTerraformSetupProps {
  /** SELFMX_ENV: each environment has its own state file. */
  readonly env: string;
}

/**
 * What selfmx-local needs before any resource: the Terraform version (the data volume's `removed`
 * block needs 1.7), the local state file of the environment, and the Docker and random providers.
 */
export function configureDockerTerraform(
  stack: TerraformStack,
  props: DockerTerraformSetupProps,
): void {
  requireTerraform(stack, REMOVED_BLOCK_TERRAFORM_VERSION);
  new LocalStateBackend(stack, 'state', { env: props.env });
  new DockerProvider(stack, 'docker');
  new RandomProvider(stack, 'random');
}
