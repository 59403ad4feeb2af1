import { Id } from '@cdktf/provider-random/lib/id/index.js';
import { Construct } from 'constructs';
import { logicalId } from './resource-name.js';

export interface ReleaseInstanceProps {
  /** The release tag (the image tag). */
  readonly tag: string;
  /**
   * Everything else that replaces the release's containers when it changes: their environment
   * (references allowed) and a fingerprint of their static settings.
   */
  readonly settings: string;
}

/**
 * One deployment of a release: `<tag>-<6 random hex digits>`, the suffix of the names of the
 * release's containers. The app container is replaced create-before-destroy, so a new container
 * must never take a name still held by the one it replaces, nor by a container a failed apply
 * left behind (Terraform keeps it as deposed until a later apply succeeds). The random part
 * changes whenever the tag or the settings do, so a rollback to an earlier tag, or a new API
 * key, gets names of its own too.
 */
export class ReleaseInstance extends Construct {
  readonly tag: string;
  /** A token: `<tag>-<hex>`. */
  readonly suffix: string;

  constructor(scope: Construct, id: string, props: ReleaseInstanceProps) {
    super(scope, id);
    const random = new Id(this, 'id', {
      byteLength: 3,
      keepers: { release: props.tag, settings: props.settings },
    });
    random.overrideLogicalId(logicalId(id));
    this.tag = props.tag;
    this.suffix = `${props.tag}-${random.hex}`;
  }
}
