import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret/index.js';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version/index.js';
import { Construct } from 'constructs';
import { type AppEnvironment, SECRET_VARIABLES } from '../app-environment.js';

export interface AppSecretsProps {
  readonly prefix: string;
  readonly kmsKeyArn: string;
  /**
   * The environments of the migrate and serve tasks; each distinct value of a secret variable
   * (DATABASE_URL, API_KEY, SMTP_PASS, the app role's password) is stored once.
   */
  readonly environments: { readonly migrate: AppEnvironment; readonly serve: AppEnvironment };
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
 * The app's secrets in Secrets Manager, one secret per distinct secret value. ECS injects them
 * into the containers at start (task definition `secrets`), never through the plain environment.
 * A secret is named after its variable (`<prefix>/database-url`); a value that only `serve` has
 * under a name `migrate` also uses is `<prefix>/serve-<name>` (serve's DATABASE_URL names the app
 * role, migrate's the master user). One value under two names is one secret: the app role's
 * password is `migrate`'s APP_DB_PASSWORD and `serve`'s PGPASSWORD.
 *
 * The master password is the one RDS manages: the migrate task's PGPASSWORD comes straight from
 * the RDS secret (`<arn>:password::`) and DATABASE_URL carries no password. SelfMX hands
 * node-postgres a URL without a password, and node-postgres (like libpq, like psql) then uses
 * PGPASSWORD. So the master password is never in Terraform state, and RDS may rotate it: that
 * reference follows the secret's current version, which only `migrate` reads, at task start.
 */
export class AppSecrets extends Construct {
  /** Secret name (`database-url`) → what it holds (`DATABASE_URL`) and the secret. */
  readonly secrets = new Map<
    string,
    { readonly holds: string; readonly secret: SecretsmanagerSecret }
  >();
  /** Secret value → its Secrets Manager secret and the version that holds the value. */
  private readonly byValue = new Map<
    string,
    { readonly secret: SecretsmanagerSecret; readonly version: SecretsmanagerSecretVersion }
  >();
  /** The secret values: a task may start only after these exist. */
  readonly versions: SecretsmanagerSecretVersion[] = [];
  private readonly masterSecretArn: string;

  constructor(scope: Construct, id: string, props: AppSecretsProps) {
    super(scope, id);
    this.masterSecretArn = props.masterSecretArn;
    for (const [command, environment] of [
      ['migrate', props.environments.migrate],
      ['serve', props.environments.serve],
    ] as const) {
      for (const name of SECRET_VARIABLES) {
        const value = environment[name];
        if (value === undefined || this.byValue.has(value)) continue;
        const variableSlug = name.toLowerCase().replaceAll('_', '-');
        const shared = !this.secrets.has(variableSlug);
        const slug = shared ? variableSlug : `${command}-${variableSlug}`;
        const holds = shared ? name : `${name} of ${command}`;
        const secret = new SecretsmanagerSecret(this, slug, {
          name: `${props.prefix}/${slug}`,
          description: `SelfMX ${holds}`,
          kmsKeyId: props.kmsKeyArn,
          recoveryWindowInDays: props.recoveryWindowDays ?? 30,
        });
        const version = new SecretsmanagerSecretVersion(this, `${slug}-value`, {
          secretId: secret.id,
          secretString: value,
        });
        this.versions.push(version);
        this.byValue.set(value, { secret, version });
        this.secrets.set(slug, { holds, secret });
      }
    }
  }

  /** Every secret ARN a task may read (for the execution role). */
  get arns(): string[] {
    return [...[...this.byValue.values()].map(({ secret }) => secret.arn), this.masterSecretArn];
  }

  /**
   * Moves the secret variables of `environment` to `secrets`, each pinned to the version holding
   * its value; with DATABASE_URL and no PGPASSWORD
   * of its own, the container gets PGPASSWORD from the RDS master secret.
   */
  containerSettings(environment: AppEnvironment): ContainerSettings {
    const plain: Record<string, string> = {};
    const secrets: ContainerSecret[] = [];
    for (const [name, value] of Object.entries(environment)) {
      const stored = this.byValue.get(value);
      if ((SECRET_VARIABLES as readonly string[]).includes(name)) {
        if (!stored) {
          throw new Error(
            `${name} has no Secrets Manager secret: it must not reach a container's plain environment`,
          );
        }
        secrets.push({ name, valueFrom: versionReference(stored.secret, stored.version) });
      } else plain[name] = value;
    }
    if ('DATABASE_URL' in environment && !(DATABASE_PASSWORD_VARIABLE in environment)) {
      secrets.push({
        name: DATABASE_PASSWORD_VARIABLE,
        valueFrom: `${this.masterSecretArn}:password::`,
      });
    }
    return { environment: plain, secrets: secrets.sort((a, b) => a.name.localeCompare(b.name)) };
  }
}

/**
 * ECS's `<arn>:<json-key>:<version-stage>:<version-id>`, with only the version id. A new value is
 * a new version, so the task definitions change with it: the release reruns the migration job
 * and rolls the service. Tasks of the previous revision, running or started during the release,
 * keep resolving the previous value, never a value the database has not been given yet.
 */
function versionReference(
  secret: SecretsmanagerSecret,
  version: SecretsmanagerSecretVersion,
): string {
  return `${secret.arn}:::${version.versionId}`;
}
