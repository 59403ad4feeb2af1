import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret/index.js';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version/index.js';
import { Construct } from 'constructs';
import { type AppEnvironment, SECRET_VARIABLES } from '../app-environment.js';

export interface AppSecretsProps {
  readonly prefix: string;
  readonly kmsKeyArn: string;
  /** The app's full environment; its secret variables (DATABASE_URL, API_KEY, SMTP_PASS) are stored. */
  readonly environment: AppEnvironment;
  /** The RDS-managed master secret ({"username","password"}); read by ECS, never copied. */
  readonly masterSecretArn: string;
  /** Days Secrets Manager keeps a deleted secret (0 deletes at once). @default 30 */
  readonly recoveryWindowDays?: number;
}

/** One container secret: the variable name and the Secrets Manager reference ECS resolves. */
export interface ContainerSecret {
  readonly name: string;
  readonly valueFrom: string;
}

/** A container's settings split the ECS way: plain `environment` and `secrets`. */
export interface ContainerSettings {
  readonly environment: AppEnvironment;
  readonly secrets: ContainerSecret[];
}

/** The variable ECS fills from the RDS-managed secret; node-postgres and libpq read it. */
export const DATABASE_PASSWORD_VARIABLE = 'PGPASSWORD';

/**
 * The app's secrets in Secrets Manager, one secret per secret variable. ECS injects them into
 * the containers at start (task definition `secrets`), never through the plain environment.
 *
 * The database password is the one RDS manages: PGPASSWORD comes straight from the RDS secret
 * (`<arn>:password::`) and DATABASE_URL carries no password. SelfMX hands node-postgres a URL
 * without a password, and node-postgres (like libpq, like psql) then uses PGPASSWORD. So the
 * password is never in Terraform state, and RDS may rotate it.
 */
export class AppSecrets extends Construct {
  /** Secret variable name → its Secrets Manager secret. */
  readonly secrets: ReadonlyMap<string, SecretsmanagerSecret>;
  /** The secret values: a task may start only after these exist. */
  readonly versions: SecretsmanagerSecretVersion[] = [];
  private readonly masterSecretArn: string;

  constructor(scope: Construct, id: string, props: AppSecretsProps) {
    super(scope, id);
    this.masterSecretArn = props.masterSecretArn;
    const secrets = new Map<string, SecretsmanagerSecret>();
    for (const name of SECRET_VARIABLES) {
      const value = props.environment[name];
      if (value === undefined) continue;
      const slug = name.toLowerCase().replaceAll('_', '-');
      const secret = new SecretsmanagerSecret(this, slug, {
        name: `${props.prefix}/${slug}`,
        description: `SelfMX ${name}`,
        kmsKeyId: props.kmsKeyArn,
        recoveryWindowInDays: props.recoveryWindowDays ?? 30,
      });
      this.versions.push(
        new SecretsmanagerSecretVersion(this, `${slug}-value`, {
          secretId: secret.id,
          secretString: value,
        }),
      );
      secrets.set(name, secret);
    }
    this.secrets = secrets;
  }

  /** Every secret ARN a task may read (for the execution role). */
  get arns(): string[] {
    return [...[...this.secrets.values()].map((secret) => secret.arn), this.masterSecretArn];
  }

  /** Moves the secret variables of `environment` to `secrets`, and adds PGPASSWORD with DATABASE_URL. */
  containerSettings(environment: AppEnvironment): ContainerSettings {
    const plain: Record<string, string> = {};
    const secrets: ContainerSecret[] = [];
    for (const [name, value] of Object.entries(environment)) {
      const secret = this.secrets.get(name);
      if (secret) secrets.push({ name, valueFrom: secret.arn });
      else if ((SECRET_VARIABLES as readonly string[]).includes(name)) {
        throw new Error(
          `${name} has no Secrets Manager secret: it must not reach a container's plain environment`,
        );
      } else plain[name] = value;
    }
    if (this.secrets.has('DATABASE_URL') && 'DATABASE_URL' in environment) {
      secrets.push({
        name: DATABASE_PASSWORD_VARIABLE,
        valueFrom: `${this.masterSecretArn}:password::`,
      });
    }
    return { environment: plain, secrets: secrets.sort((a, b) => a.name.localeCompare(b.name)) };
  }
}
