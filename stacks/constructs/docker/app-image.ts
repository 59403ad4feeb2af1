import { Image } from '@cdktf/provider-docker/lib/image/index.js';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { dockerResourceName, logicalId } from './resource-name.js';

export interface AppImageProps {
  /** The environment name (SELFMX_ENV) that prefixes the image's name. */
  readonly env: string;
  /** The content hash of the release inputs (see release-hash.ts). */
  readonly releaseHash: string;
  /**
   * Use the image of this release already on the Docker host (kept by an earlier deploy)
   * instead of building: `releaseHash` is then its tag. @default false
   */
  readonly prebuilt?: boolean;
  /**
   * The build context, relative to the directory Terraform runs in
   * (cdktf.out/stacks/<stack>/). Relative so that the synthesized JSON holds no path of this
   * machine. @default '../../..' (the repository root)
   */
  readonly context?: string;
  /** Relative to the context. @default 'app/Dockerfile' */
  readonly dockerfile?: string;
}

/** How many hex digits of the release hash tag the image. */
export const RELEASE_TAG_LENGTH = 12;

/**
 * The SelfMX image built from the repository, tagged with the release hash. The hash is also a
 * build trigger, so a change to the sources is a new image: a new release. Kept on the host when
 * a later release replaces it (`keep_locally`), so that SELFMX_RELEASE=<tag> can deploy it again.
 */
export class AppImage extends Construct {
  readonly image: Image;
  /** A token for the built image's id: containers using it are replaced when it changes. */
  readonly imageId: string;
  /** `<env>-selfmx-app:<release tag>` */
  readonly reference: string;
  /** The release tag: the first digits of the release hash. */
  readonly tag: string;

  constructor(scope: Construct, id: string, props: AppImageProps) {
    super(scope, id);
    const tag = props.releaseHash.slice(0, RELEASE_TAG_LENGTH);
    this.tag = tag;
    this.reference = `${dockerResourceName(props.env, 'app')}:${tag}`;
    const context = props.context ?? '../../..';
    this.image = new Image(this, 'image', {
      name: this.reference,
      keepLocally: true,
      ...(props.prebuilt
        ? {}
        : {
            buildAttribute: {
              context,
              // Made absolute by Terraform at plan time (never written into the JSON): depending
              // on the provider version and builder, a relative Dockerfile path is resolved
              // against the build context or against the working directory; an absolute one
              // means the same to both.
              dockerfile: Fn.abspath(`${context}/${props.dockerfile ?? 'app/Dockerfile'}`),
              // The engine's default builder; app/Dockerfile builds with the classic builder and
              // with BuildKit alike (test/engine proves both).
              builder: 'default',
              label: { 'selfmx.env': props.env, 'selfmx.release': tag },
            },
            triggers: { release_hash: props.releaseHash },
          }),
    });
    this.image.overrideLogicalId(logicalId(id));
    this.imageId = this.image.imageId;
  }
}
