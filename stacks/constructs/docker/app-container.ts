import { Container } from '@cdktf/provider-docker/lib/container/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { type AppEnvironment, containerEnv } from '../app-environment.js';
import type { AppImage } from './app-image.js';
import type { PrivateNetwork } from './private-network.js';
import { READ_ONLY_ROOT_FILESYSTEM } from './read-only-root.js';
import type { ReleaseInstance } from './release-instance.js';
import { dockerLabels, dockerResourceName, logicalId } from './resource-name.js';

/** The app's name on the private network; the front proxy forwards to it. */
export const APP_NETWORK_ALIAS = 'selfmx-app';

export interface AppContainerProps {
  /** The environment name (SELFMX_ENV) that prefixes the container's name. */
  readonly env: string;
  readonly image: AppImage;
  /** The deployment of the release this container runs: the suffix of its name. */
  readonly instance: ReleaseInstance;
  readonly network: PrivateNetwork;
  readonly environment: AppEnvironment;
  /** What must succeed first: the migration job. */
  readonly dependsOn: ITerraformDependable[];
  /** Arguments to the image's entrypoint (node /app/selfmx.js). @default ['serve'] */
  readonly command?: string[];
  /** @default 'unless-stopped' */
  readonly restart?: 'no' | 'on-failure' | 'always' | 'unless-stopped';
  /** How long the apply waits for the healthcheck to pass. @default 120 */
  readonly waitTimeoutSeconds?: number;
}

/**
 * GET /health on the app's own PORT. The image has node but no curl, so node does the request;
 * Docker runs healthchecks with the container's environment, hence process.env.PORT.
 */
export const APP_HEALTHCHECK_COMMAND = [
  'CMD',
  'node',
  '-e',
  "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
];
export const APP_HEALTHCHECK = {
  interval: '10s',
  timeout: '5s',
  retries: 3,
  startPeriod: '30s',
} as const;

/**
 * The long-running SelfMX container of a release (`selfmx serve`): healthchecked, restarted
 * unless stopped, reached through the front proxy by its network alias; it publishes no port.
 * Replaced create-before-destroy: the new release's container is created (after its migration
 * job succeeded) and must become healthy (`wait = true`) before the previous one is destroyed,
 * so a release that fails either step leaves the previous one serving. Terraform applies
 * create-before-destroy to everything this depends on as well; hence the per-deployment names
 * of the app and the job.
 */
export class AppContainer extends Construct {
  readonly container: Container;

  constructor(scope: Construct, id: string, props: AppContainerProps) {
    super(scope, id);
    this.container = new Container(this, 'container', {
      name: `${dockerResourceName(props.env, 'app')}-${props.instance.suffix}`,
      image: props.image.imageId,
      command: props.command ?? ['serve'],
      env: containerEnv(props.environment),
      networksAdvanced: [{ name: props.network.name, aliases: [APP_NETWORK_ALIAS] }],
      healthcheck: { test: APP_HEALTHCHECK_COMMAND, ...APP_HEALTHCHECK },
      wait: true,
      waitTimeout: props.waitTimeoutSeconds ?? 120,
      restart: props.restart ?? 'unless-stopped',
      ...READ_ONLY_ROOT_FILESYSTEM,
      // SIGTERM first: the app stops taking requests and finishes the ones in flight.
      destroyGraceSeconds: 30,
      labels: dockerLabels(props.env, 'app', props.instance.tag),
      dependsOn: props.dependsOn,
      lifecycle: { createBeforeDestroy: true },
    });
    this.container.overrideLogicalId(logicalId(id));
  }
}
