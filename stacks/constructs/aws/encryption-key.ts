import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { Construct } from 'constructs';

export interface EncryptionKeyProps {
  readonly prefix: string;
  /** Days KMS waits before deleting the key after a destroy (7–30). @default 30 */
  readonly deletionWindowDays?: number;
}

/** The customer-managed KMS key for the database storage, its backups, PI and the app secrets. */
export class EncryptionKey extends Construct {
  readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    this.key = new KmsKey(this, 'key', {
      description: `${props.prefix}: RDS storage, snapshots, Performance Insights and app secrets`,
      enableKeyRotation: true,
      deletionWindowInDays: props.deletionWindowDays ?? 30,
      tags: { Name: props.prefix },
    });
    new KmsAlias(this, 'alias', { name: `alias/${props.prefix}`, targetKeyId: this.key.keyId });
  }

  get arn(): string {
    return this.key.arn;
  }
}
