import { Network } from '@cdktf/provider-docker/lib/network/index.js';
import { Construct } from 'constructs';
import { dockerLabels, dockerResourceName, logicalId } from './resource-name.js';

export interface PrivateNetworkProps {
  /** The environment name (SELFMX_ENV) that prefixes the network's name. */
  readonly env: string;
}

/**
 * A user-defined bridge network of one environment: its containers reach each other by container
 * name, and nothing outside the environment shares it. Only explicitly published ports reach the
 * host.
 */
export class PrivateNetwork extends Construct {
  readonly network: Network;
  /** A token for the network's name (use it to attach containers). */
  readonly name: string;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    this.network = new Network(this, 'network', {
      name: dockerResourceName(props.env, 'network'),
      driver: 'bridge',
      labels: dockerLabels(props.env, 'network'),
    });
    this.network.overrideLogicalId(logicalId(id));
    this.name = this.network.name;
  }
}
