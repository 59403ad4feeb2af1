import { readFileSync } from 'node:fs';
import { Container } from '@cdktf/provider-docker/lib/container/index.js';
import { Image } from '@cdktf/provider-docker/lib/image/index.js';
import { Construct } from 'constructs';
import { APP_CONTAINER_PORT } from '../app-environment.js';
import { APP_NETWORK_ALIAS } from './app-container.js';
import type { PrivateNetwork } from './private-network.js';
import { READ_ONLY_ROOT_FILESYSTEM } from './read-only-root.js';
import { dockerLabels, dockerResourceName, logicalId } from './resource-name.js';

export interface FrontProxyProps {
  /** The environment name (SELFMX_ENV) that prefixes the container's name. */
  readonly env: string;
  readonly network: PrivateNetwork;
  /** A Node image (app/Dockerfile's base image): the proxy is a Node script. */
  readonly nodeImage: string;
  /** The API's port on the host. */
  readonly publish: {
    readonly port: number /** @default '127.0.0.1' */;
    readonly address?: string;
  };
}

const PROXY_SCRIPT = readFileSync(new URL('./front-proxy.mjs', import.meta.url), 'utf8');
if (/[$%]\{/.test(PROXY_SCRIPT)) {
  throw new Error('front-proxy.mjs: a dollar or percent brace is Terraform template syntax');
}

/** Healthy while the proxy accepts connections on its port. */
export const FRONT_HEALTHCHECK_COMMAND = [
  'CMD',
  'node',
  '-e',
  `require('node:net').connect(${APP_CONTAINER_PORT}, '127.0.0.1').once('connect', () => process.exit(0)).once('error', () => process.exit(1))`,
];

/**
 * The stable front of an environment: the only container that publishes the API's host port,
 * never replaced by a release. It forwards each connection to a healthy container behind the
 * `selfmx-app` alias, so the app can be replaced create-before-destroy (its containers publish
 * nothing, and two can run at once) while the port keeps answering.
 */
export class FrontProxy extends Construct {
  readonly container: Container;

  constructor(scope: Construct, id: string, props: FrontProxyProps) {
    super(scope, id);
    // Pulled images are shared by environments: destroying one must not remove another's image.
    const image = new Image(this, 'image', { name: props.nodeImage, keepLocally: true });
    image.overrideLogicalId(logicalId(id));
    this.container = new Container(this, 'container', {
      name: dockerResourceName(props.env, 'front'),
      image: image.imageId,
      command: ['node', '--input-type=module', '-e', PROXY_SCRIPT],
      env: [
        `UPSTREAM_HOST=${APP_NETWORK_ALIAS}`,
        `UPSTREAM_PORT=${APP_CONTAINER_PORT}`,
        `LISTEN_PORT=${APP_CONTAINER_PORT}`,
      ],
      user: 'node',
      networksAdvanced: [{ name: props.network.name }],
      ports: [
        {
          internal: APP_CONTAINER_PORT,
          external: props.publish.port,
          ip: props.publish.address ?? '127.0.0.1',
        },
      ],
      healthcheck: { test: FRONT_HEALTHCHECK_COMMAND, interval: '10s', timeout: '5s', retries: 3 },
      wait: true,
      waitTimeout: 60,
      restart: 'unless-stopped',
      ...READ_ONLY_ROOT_FILESYSTEM,
      labels: dockerLabels(props.env, 'front'),
    });
    this.container.overrideLogicalId(logicalId(id));
  }
}
