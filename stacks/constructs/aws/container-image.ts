import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy/index.js';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository/index.js';
import { DataResource } from 'cdktf';
import { Construct } from 'constructs';
import { ensureReleaseArtifacts } from '../release-artifacts.js';

/** From the stack's working directory (cdktf.out/stacks/<stack>) back to the repository root. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform expression, not a JS template
export const REPOSITORY_ROOT_FROM_STACK = '${path.module}/../../..';

export interface ContainerImageProps {
  readonly prefix: string;
  readonly region: string;
  readonly kmsKeyArn: string;
  /** Let `destroy` delete a repository that still holds images. @default false */
  readonly forceDelete?: boolean;
  /** Images kept in the repository (older ones expire). @default 50 */
  readonly keepImages?: number;
}

/**
 * The ECR repository (immutable tags, scan on push) and the image build: a terraform_data whose
 * trigger is the hash of the image sources, so a code change builds and pushes `sha-<hash>`,
 * and an unchanged tree is not rebuilt. Synth makes app/dist current first (the artifacts
 * app/Dockerfile copies), and the script refuses to build from artifacts of other sources. Paths
 * are relative, so the JSON works from any checkout.
 */
export class ContainerImage extends Construct {
  readonly repository: EcrRepository;
  readonly tag: string;
  /** Completes when the image is in ECR: depend on it before anything runs the image. */
  readonly pushed: DataResource;

  constructor(scope: Construct, id: string, props: ContainerImageProps) {
    super(scope, id);
    // The same artifacts the local stack builds its image from (app/dist, made current here).
    const releaseHash = ensureReleaseArtifacts();
    this.tag = `sha-${releaseHash.slice(0, 16)}`;
    this.repository = new EcrRepository(this, 'repository', {
      name: props.prefix,
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: 'KMS', kmsKey: props.kmsKeyArn }],
      forceDelete: props.forceDelete ?? false,
    });
    new EcrLifecyclePolicy(this, 'lifecycle', {
      repository: this.repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: `keep the last ${props.keepImages ?? 50} images`,
            selection: {
              tagStatus: 'any',
              countType: 'imageCountMoreThan',
              countNumber: props.keepImages ?? 50,
            },
            action: { type: 'expire' },
          },
        ],
      }),
    });
    this.pushed = new DataResource(this, 'build-and-push', {
      triggersReplace: { tag: this.tag, repository: this.repository.repositoryUrl },
      provisioners: [
        {
          type: 'local-exec',
          command: `${REPOSITORY_ROOT_FROM_STACK}/stacks/scripts/build-and-push-image.sh`,
          environment: {
            REPOSITORY_URL: this.repository.repositoryUrl,
            IMAGE_TAG: this.tag,
            RELEASE_HASH: releaseHash,
            AWS_REGION: props.region,
            BUILD_CONTEXT: REPOSITORY_ROOT_FROM_STACK,
          },
        },
      ],
    });
  }

  /** The image reference the task definitions run. */
  get imageUri(): string {
    return `${this.repository.repositoryUrl}:${this.tag}`;
  }
}
