import { Container } from '@cdktf/provider-docker/lib/container/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { APP_CONTAINER_PORT, type AppEnvironment, containerEnv } from '../app-environment.js';
import type { AppImage } from './app-image.js';
import type { PrivateNetwork } from './private-network.js';
import { READ_ONLY_ROOT_FILESYSTEM } from './read-only-root.js';
import { dockerLabels, dockerResourceName, logicalId } from './resource-name.js';

export interface AppContainerProps {
  /** The environment name (SELFMX_ENV) that prefixes the container's name. */
  readonly env: string;
  readonly image: AppImage;
  readonly network: PrivateNetwork;
  readonly environment: AppEnvironment;
  /** The API's port on the host. */
  readonly publish: {
    readonly port: number /** @default '127.0.0.1' */;
    readonly address?: string;
  };
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
 * The long-running SelfMX container (`selfmx serve`): healthchecked, restarted unless stopped,
 * the API published on the host. `wait = true` makes the apply fail when the new release never
 * becomes healthy.
 */
export class AppContainer extends Construct {
  readonly container: Container;

  constructor(scope: Construct, id: string, props: AppContainerProps) {
    super(scope, id);
    this.container = new Container(this, 'container', {
      name: dockerResourceName(props.env, 'app'),
      image: props.image.imageId,
      command: props.command ?? ['serve'],
      env: containerEnv(props.environment),
      networksAdvanced: [{ name: props.network.name }],
      ports: [
        {
          internal: APP_CONTAINER_PORT,
          external: props.publish.port,
          ip: props.publish.address ?? '127.0.0.1',
        },
      ],
      healthcheck: { test: APP_HEALTHCHECK_COMMAND, ...APP_HEALTHCHECK },
      wait: true,
      waitTimeout: props.waitTimeoutSeconds ?? 120,
      restart: props.restart ?? 'unless-stopped',
      ...READ_ONLY_ROOT_FILESYSTEM,
      labels: dockerLabels(props.env, 'app'),
      dependsOn: props.dependsOn,
    });
    this.container.overrideLogicalId(logicalId(id));
  }
}
