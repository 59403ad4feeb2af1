import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { App, S3Backend, type TerraformStack } from 'cdktf';
import type { StateBackendConfig } from '../../config/aws-config.js';
import { LocalStateBackend } from '../local-state-backend.js';

/**
 * One Terraform state per environment. With SELFMX_STATE_BUCKET: S3 at
 * `selfmx/<env>/<stack>.tfstate`, encrypted, locked by a DynamoDB table (SELFMX_STATE_LOCK_TABLE)
 * or by S3's native lock file (Terraform >= 1.10). Otherwise the local state file the local stack
 * uses too: `terraform.<stack>.<env>.tfstate` at the repository root, by a relative path.
 */
export function configureStateBackend(
  stack: TerraformStack,
  envName: string,
  backend: StateBackendConfig | undefined,
): void {
  if (backend === undefined) {
    new LocalStateBackend(stack, 'state', { env: envName });
    return;
  }
  const key = `selfmx/${envName}/${stack.node.id}.tfstate`;
  const s3 = new S3Backend(stack, {
    bucket: backend.bucket,
    key,
    region: backend.region,
    encrypt: true,
    ...(backend.lockTable ? { dynamodbTable: backend.lockTable } : {}),
  });
  if (!backend.lockTable) s3.addOverride('use_lockfile', true);
  forgetOtherS3State(join(App.of(stack).outdir, 'stacks', stack.node.id), backend.bucket, key);
}

/**
 * `terraform init` caches the backend in the stack directory's `.terraform/terraform.tfstate` and
 * offers to copy the state when the key changes, which would copy one environment's state into
 * another's. When this synth is for another environment, drop the cache: init then simply opens
 * that environment's own state.
 */
function forgetOtherS3State(stackDirectory: string, bucket: string, key: string): void {
  const cache = join(stackDirectory, '.terraform', 'terraform.tfstate');
  if (!existsSync(cache)) return;
  let cached: { type?: string; config?: { bucket?: string; key?: string } } | undefined;
  try {
    cached = JSON.parse(readFileSync(cache, 'utf8')).backend;
  } catch {
    return; // Not ours to repair: `terraform init` reports what is wrong with it.
  }
  if (cached?.type === 's3' && (cached.config?.bucket !== bucket || cached.config?.key !== key)) {
    rmSync(cache);
  }
}
