import { readFileSync } from 'node:fs';
import { Container } from '@cdktf/provider-docker/lib/container/index.js';
import { Construct } from 'constructs';
import type { PostgresContainer } from './postgres-container.js';
import type { PrivateNetwork } from './private-network.js';
import { dockerLabels, dockerResourceName, logicalId } from './resource-name.js';

export interface PostgresBackupProps {
  /** The environment name (SELFMX_ENV) that prefixes the container's and volume's names. */
  readonly env: string;
  readonly network: PrivateNetwork;
  /** The server to back up; its image (same pg_dump major version) runs the backups. */
  readonly postgres: PostgresContainer;
  /** Seconds between two backups (SELFMX_BACKUP_SCHEDULE). */
  readonly intervalSeconds: number;
  /** How many backups are kept (SELFMX_BACKUP_KEEP). */
  readonly keep: number;
  /** A host directory (SELFMX_BACKUP_DIR); undefined: the `<env>-selfmx-backups` volume. */
  readonly hostDirectory: string | undefined;
}

/** Where the backups are inside the backup container. */
export const BACKUP_DIRECTORY = '/backups';
/** `docker exec <env>-selfmx-backup run-backup` takes one backup now. */
export const RUN_BACKUP_COMMAND = 'run-backup';
const RUN_BACKUP_SCRIPT = readFileSync(new URL('./run-backup.sh', import.meta.url), 'utf8');

/**
 * Scheduled `pg_dump -Fc` backups: a container of the PostgreSQL image on the private network
 * that takes a backup when it starts and then every interval, keeping the newest few. A failed
 * backup leaves a marker that makes the container unhealthy (`docker ps` shows it). The backup
 * volume is not a Terraform resource: Docker creates it on first use and `destroy` never
 * deletes backups.
 */
export class PostgresBackup extends Construct {
  readonly container: Container;
  /** The `<env>-selfmx-backups` volume, when no host directory is set. */
  readonly volumeName: string | undefined;

  constructor(scope: Construct, id: string, props: PostgresBackupProps) {
    super(scope, id);
    const postgres = props.postgres;
    this.volumeName =
      props.hostDirectory === undefined ? dockerResourceName(props.env, 'backups') : undefined;
    this.container = new Container(this, 'container', {
      name: dockerResourceName(props.env, 'backup'),
      image: postgres.imageId,
      // The official image's entrypoint runs any command other than `postgres` as it is.
      command: [
        'sh',
        '-c',
        `while :; do ${RUN_BACKUP_COMMAND}; sleep "$BACKUP_INTERVAL_SECONDS"; done`,
      ],
      env: [
        `PGHOST=${postgres.host}`,
        `PGPORT=${postgres.port}`,
        `PGUSER=${postgres.user}`,
        `PGDATABASE=${postgres.database}`,
        `PGPASSWORD=${postgres.password.result}`,
        `BACKUP_DIR=${BACKUP_DIRECTORY}`,
        `BACKUP_KEEP=${props.keep}`,
        `BACKUP_INTERVAL_SECONDS=${props.intervalSeconds}`,
      ],
      upload: [
        {
          file: `/usr/local/bin/${RUN_BACKUP_COMMAND}`,
          content: RUN_BACKUP_SCRIPT,
          executable: true,
        },
      ],
      volumes: [
        props.hostDirectory === undefined
          ? { volumeName: this.volumeName, containerPath: BACKUP_DIRECTORY }
          : { hostPath: props.hostDirectory, containerPath: BACKUP_DIRECTORY },
      ],
      networksAdvanced: [{ name: props.network.name }],
      healthcheck: {
        test: ['CMD-SHELL', `test ! -e ${BACKUP_DIRECTORY}/LAST_BACKUP_FAILED`],
        interval: '30s',
        timeout: '5s',
        retries: 1,
      },
      restart: 'unless-stopped',
      labels: dockerLabels(props.env, 'backup'),
      dependsOn: [postgres.container],
    });
    this.container.overrideLogicalId(logicalId(id));
  }
}
