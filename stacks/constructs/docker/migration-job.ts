import { Container } from '@cdktf/provider-docker/lib/container/index.js';
import type { ITerraformDependable, TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { type AppEnvironment, containerEnv } from '../app-environment.js';
import type { AppImage } from './app-image.js';
import type { PrivateNetwork } from './private-network.js';
import { READ_ONLY_ROOT_FILESYSTEM } from './read-only-root.js';
import type { ReleaseInstance } from './release-instance.js';
import { dockerLabels, dockerResourceName, logicalId } from './resource-name.js';

export interface MigrationJobProps {
  /** The environment name (SELFMX_ENV) that prefixes the container's name. */
  readonly env: string;
  readonly image: AppImage;
  /** The deployment of the release this job migrates to: the suffix of its name. */
  readonly instance: ReleaseInstance;
  readonly network: PrivateNetwork;
  /** The job's environment: DATABASE_URL and DB_POOL_* exactly as the app gets them. */
  readonly environment: AppEnvironment;
  /** What must be ready first, e.g. the healthy PostgreSQL container. */
  readonly dependsOn: ITerraformDependable[];
  /** Arguments to the image's entrypoint (node /app/selfmx.js). @default ['migrate'] */
  readonly command?: string[];
}

/**
 * The one-off migration job of a release: a container that runs `selfmx migrate` to completion
 * while Terraform waits (`attach`), shows its output in the apply (`logs`), and is not expected
 * to keep running (`must_run = false`). The docker provider does not fail on a non-zero exit
 * code, so a postcondition does: a failed migration fails the apply, and whatever depends on the
 * job (the new app container) is not created, and the previous app keeps serving. The container
 * uses the release's image id and is named after the deployment, so every release runs it again
 * (create-before-destroy, which the app imposes on it, needs a name of its own each time).
 */
export class MigrationJob extends Construct {
  readonly container: Container;

  constructor(scope: Construct, id: string, props: MigrationJobProps) {
    super(scope, id);
    const name = `${dockerResourceName(props.env, 'migrate')}-${props.instance.suffix}`;
    this.container = new Container(this, 'container', {
      name,
      image: props.image.imageId,
      command: props.command ?? ['migrate'],
      env: containerEnv(props.environment),
      networksAdvanced: [{ name: props.network.name }],
      mustRun: false,
      attach: true,
      logs: true,
      restart: 'no',
      ...READ_ONLY_ROOT_FILESYSTEM,
      labels: dockerLabels(props.env, 'migrate', props.instance.tag),
      dependsOn: props.dependsOn,
      lifecycle: {
        // A plain address: Terraform refuses the `${...}` form cdktf renders for a resource here.
        replaceTriggeredBy: [resourceAddress(props.image.image)],
        postcondition: [
          {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform expression
            condition: '${self.exit_code == 0}',
            errorMessage:
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform expression
              'The migration job failed (container ${self.name} exited non-zero): the new release was not started and the previous one keeps serving. Read its output above or with `docker logs ${self.name}`, fix the migration, and deploy again.',
          },
        ],
      },
    });
    this.container.overrideLogicalId(logicalId(id));
  }
}

function resourceAddress(resource: TerraformResource): string {
  return `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
}
