import { readFileSync } from 'node:fs';
import { Container } from '@cdktf/provider-docker/lib/container/index.js';
import { Image } from '@cdktf/provider-docker/lib/image/index.js';
import { Password } from '@cdktf/provider-random/lib/password/index.js';
import { Construct } from 'constructs';
import { databaseUrl, POSTGRES_PORT } from '../app-environment.js';
import { PostgresDataVolume } from './postgres-data-volume.js';
import type { PrivateNetwork } from './private-network.js';
import { dockerLabels, dockerResourceName, logicalId } from './resource-name.js';

export interface PostgresContainerProps {
  /** The environment name (SELFMX_ENV) that prefixes the container's and volume's names. */
  readonly env: string;
  readonly network: PrivateNetwork;
  /** A pinned PostgreSQL 15.x image, e.g. postgres:15.20-bookworm. */
  readonly image: string;
  /** POSTGRES_USER. @default 'selfmx' */
  readonly user?: string;
  /** POSTGRES_DB. @default 'selfmx' */
  readonly database?: string;
  /** Publish 5432 on the host. @default not published (reachable on the private network only) */
  readonly publish?: {
    readonly port: number /** @default '127.0.0.1' */;
    readonly address?: string;
  };
  /** How long the apply waits for the healthcheck to pass. @default 120 */
  readonly waitTimeoutSeconds?: number;
  /**
   * SELFMX_DESTROY_DATA: `destroy` deletes the data volume.
   * @default false: the data volume outlives `destroy`
   */
  readonly destroyData?: boolean;
}

/** The seed's docker-compose healthcheck: pg_isready every 5 s, 5 s timeout, 5 retries. */
export const POSTGRES_HEALTHCHECK = { interval: '5s', timeout: '5s', retries: 5 } as const;
const DATA_DIRECTORY = '/var/lib/postgresql/data';
/** Sets the role's password from POSTGRES_PASSWORD at every start (see the script). */
export const START_POSTGRES_COMMAND = '/usr/local/bin/selfmx-start-postgres';
const START_POSTGRES_SCRIPT = readFileSync(new URL('./start-postgres.sh', import.meta.url), 'utf8');

/**
 * PostgreSQL 15 in a container: a generated password (never a literal) that the server is given
 * at every start, data in a named volume that outlives the container (and `destroy`, unless
 * destroyData), and `wait = true` on the seed's healthcheck, which gives the containers that
 * depend on it compose's `condition: service_healthy`.
 */
export class PostgresContainer extends Construct {
  readonly container: Container;
  readonly dataVolume: PostgresDataVolume;
  readonly password: Password;
  /** A token for the PostgreSQL image's id (the backup container runs the same image). */
  readonly imageId: string;
  readonly user: string;
  readonly database: string;
  /** A token for the container's name: its host name on the private network. */
  readonly host: string;
  readonly port = POSTGRES_PORT;

  constructor(scope: Construct, id: string, props: PostgresContainerProps) {
    super(scope, id);
    this.user = props.user ?? 'selfmx';
    this.database = props.database ?? 'selfmx';

    this.password = new Password(this, 'password', { length: 32, special: false });
    this.password.overrideLogicalId(logicalId(id, 'password'));

    this.dataVolume = new PostgresDataVolume(this, 'data', {
      env: props.env,
      logicalId: logicalId(id, 'data'),
      destroyWithStack: props.destroyData ?? false,
    });

    // Pulled images are shared by environments: destroying one must not remove another's image.
    const image = new Image(this, 'image', { name: props.image, keepLocally: true });
    image.overrideLogicalId(logicalId(id));
    this.imageId = image.imageId;

    this.container = new Container(this, 'container', {
      name: dockerResourceName(props.env, 'postgres'),
      image: image.imageId,
      // The image's entrypoint runs a command other than `postgres` as it is; the script ends
      // by running the entrypoint with `postgres`. As the postgres user (the image supports
      // it), so that the script can run pg_ctl; through sh, since the upload belongs to root.
      user: 'postgres',
      command: ['sh', START_POSTGRES_COMMAND],
      upload: [{ file: START_POSTGRES_COMMAND, content: START_POSTGRES_SCRIPT }],
      env: [
        `POSTGRES_USER=${this.user}`,
        `POSTGRES_DB=${this.database}`,
        `POSTGRES_PASSWORD=${this.password.result}`,
      ],
      volumes: [{ volumeName: this.dataVolume.name, containerPath: DATA_DIRECTORY }],
      networksAdvanced: [{ name: props.network.name }],
      ports: props.publish
        ? [
            {
              internal: POSTGRES_PORT,
              external: props.publish.port,
              ip: props.publish.address ?? '127.0.0.1',
            },
          ]
        : [],
      healthcheck: {
        test: ['CMD-SHELL', `pg_isready -U ${this.user}`],
        ...POSTGRES_HEALTHCHECK,
      },
      wait: true,
      waitTimeout: props.waitTimeoutSeconds ?? 120,
      restart: 'unless-stopped',
      labels: dockerLabels(props.env, 'postgres'),
      ...(this.dataVolume.volume === undefined ? {} : { dependsOn: [this.dataVolume.volume] }),
    });
    this.container.overrideLogicalId(logicalId(id));
    this.host = this.container.name;
  }

  /** The DATABASE_URL of this server on the private network (TLS off: traffic stays on the host). */
  databaseUrl(): string {
    return databaseUrl({
      user: this.user,
      password: this.password.result,
      host: this.host,
      port: this.port,
      database: this.database,
      options: { sslmode: 'disable' },
    });
  }
}
