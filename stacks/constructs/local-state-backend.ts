import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { App, LocalBackend, type TerraformStack } from 'cdktf';
import { Construct } from 'constructs';

export interface LocalStateBackendProps {
  /** The environment name (SELFMX_ENV): each environment has its own state file. */
  readonly env: string;
  /**
   * The state file, relative to the directory Terraform runs in (cdktf.out/stacks/<stack>/).
   * Relative so that the synthesized JSON holds no path of this machine.
   * @default '../../../terraform.<stack>.<env>.tfstate' (the repository root, beside cdktf.out,
   * which is build output that may be deleted)
   */
  readonly path?: string;
}

/**
 * One local Terraform state per environment. Terraform caches the backend settings in
 * `.terraform/terraform.tfstate` of the stack directory, and `terraform init` (which
 * `cdktf deploy` runs) refuses a changed state path until it is re-initialised, suggesting a
 * state migration that would copy one environment's state into another. So when this synth
 * switches the stack directory to another environment, the cached settings are dropped and the
 * next init simply opens that environment's own state.
 */
export class LocalStateBackend extends Construct {
  readonly path: string;

  constructor(scope: TerraformStack, id: string, props: LocalStateBackendProps) {
    super(scope, id);
    this.path = props.path ?? `../../../terraform.${scope.node.id}.${props.env}.tfstate`;
    new LocalBackend(scope, { path: this.path });
    forgetOtherEnvironment(join(App.of(scope).outdir, 'stacks', scope.node.id), this.path);
  }
}

/** Drops the cached backend settings of the stack directory when they name another state file. */
function forgetOtherEnvironment(stackDirectory: string, path: string): void {
  const cache = join(stackDirectory, '.terraform', 'terraform.tfstate');
  if (!existsSync(cache)) return;
  let backend: { type?: string; config?: { path?: string } } | undefined;
  try {
    backend = JSON.parse(readFileSync(cache, 'utf8')).backend;
  } catch {
    return; // Not ours to repair: `terraform init` reports what is wrong with it.
  }
  if (backend?.type === 'local' && backend.config?.path !== path) rmSync(cache);
}
