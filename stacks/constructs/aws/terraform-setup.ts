import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { RandomProvider } from '@cdktf/provider-random/lib/provider/index.js';
import type { TerraformStack } from 'cdktf';
import type { StateBackendConfig } from '../../config/aws-config.js';
import { requireTerraform, S3_LOCKFILE_TERRAFORM_VERSION } from '../terraform-version.js';
import { configureStateBackend } from './state-backend.js';

export interface AwsTerraformSetupProps {
  /** SELFMX_ENV: names the state and tags every resource. */
  readonly env: string;
  readonly region: string;
  /** S3 state; undefined keeps the local state file. */
  readonly stateBackend: StateBackendConfig | undefined;
}

/**
 * What selfmx-aws needs before any resource: its state backend, the Terraform version that
 * backend requires, and the AWS provider (tagging every resource with the environment) beside
 * the random provider.
 */
export function configureAwsTerraform(stack: TerraformStack, props: AwsTerraformSetupProps): void {
  configureStateBackend(stack, props.env, props.stateBackend);
  const s3LockFile = props.stateBackend !== undefined && !props.stateBackend.lockTable;
  requireTerraform(stack, s3LockFile ? S3_LOCKFILE_TERRAFORM_VERSION : undefined);
  new AwsProvider(stack, 'aws', {
    region: props.region,
    defaultTags: [{ tags: { Application: 'selfmx', Environment: props.env, ManagedBy: 'cdktf' } }],
  });
  new RandomProvider(stack, 'random');
}
