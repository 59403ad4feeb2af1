import { LocalBackend, S3Backend, type TerraformStack } from 'cdktf';
import type { StateBackendConfig } from '../../config/aws-config.js';

/**
 * One Terraform state per environment. With SELFMX_STATE_BUCKET: S3, encrypted, locked by a
 * DynamoDB table (SELFMX_STATE_LOCK_TABLE) or by S3's native lock file (Terraform >= 1.10).
 * Otherwise a local file, by a relative path that survives `rm -rf cdktf.out`.
 */
export function configureStateBackend(
  stack: TerraformStack,
  stackName: string,
  envName: string,
  backend: StateBackendConfig | undefined,
): void {
  if (backend === undefined) {
    new LocalBackend(stack, { path: `../../../terraform-state/${stackName}-${envName}.tfstate` });
    return;
  }
  const s3 = new S3Backend(stack, {
    bucket: backend.bucket,
    key: `selfmx/${envName}/${stackName}.tfstate`,
    region: backend.region,
    encrypt: true,
    ...(backend.lockTable ? { dynamodbTable: backend.lockTable } : {}),
  });
  if (!backend.lockTable) s3.addOverride('use_lockfile', true);
}
