import { Volume } from '@cdktf/provider-docker/lib/volume/index.js';
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { dockerLabels, dockerResourceName } from './resource-name.js';

export interface PostgresDataVolumeProps {
  /** The environment name (SELFMX_ENV) that prefixes the volume's name. */
  readonly env: string;
  /** The Terraform logical id of the volume when it is in the state. */
  readonly logicalId: string;
  /**
   * SELFMX_DESTROY_DATA: the volume is a resource in the state, so `destroy` deletes it.
   * @default false: Docker creates the volume when the container first mounts it, and
   * `destroy` leaves it
   */
  readonly destroyWithStack?: boolean;
}

/**
 * The PostgreSQL data volume `<env>-selfmx-postgres-data`, in the Terraform state or out of it.
 * The container mounts it by its name either way, so switching does not change the container.
 */
export class PostgresDataVolume extends Construct {
  readonly name: string;
  /** The resource the container must depend on, when the volume is in the state. */
  readonly volume: Volume | undefined;

  constructor(scope: Construct, id: string, props: PostgresDataVolumeProps) {
    super(scope, id);
    this.name = dockerResourceName(props.env, 'postgres-data');
    if (props.destroyWithStack === true) {
      this.volume = new Volume(this, 'volume', {
        name: this.name,
        labels: dockerLabels(props.env, 'postgres-data'),
        // A volume Docker created on first mount has no labels, and the provider replaces a
        // volume whose labels differ: adopting it must never delete it.
        lifecycle: { ignoreChanges: ['labels'] },
      });
      this.volume.overrideLogicalId(props.logicalId);
    } else {
      // An environment deployed with the volume in its state (earlier releases, or
      // SELFMX_DESTROY_DATA=true) forgets it instead of deleting it.
      TerraformStack.of(this).addOverride('removed', [
        { from: `docker_volume.${props.logicalId}`, lifecycle: { destroy: false } },
      ]);
    }
  }
}
