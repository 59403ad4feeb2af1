import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import type { Alarms } from './alarms.js';
import type { AppDeployment } from './app-deployment.js';
import type { Database } from './database.js';
import type { LoadBalancer } from './load-balancer.js';

export interface AwsOutputsProps {
  /** SELFMX_ENV */
  readonly env: string;
  readonly database: Database;
  readonly loadBalancer: LoadBalancer;
  readonly app: AppDeployment;
  readonly alarms: Alarms;
}

/**
 * The selfmx-aws outputs (`terraform output`). Declared in `scope` (the stack): their names are
 * what operators and scripts read.
 */
export function addAwsOutputs(scope: Construct, props: AwsOutputsProps): void {
  const { database, app } = props;
  const output = (name: string, value: string, description: string, sensitive = false) =>
    new TerraformOutput(scope, name, { value, description, sensitive });
  output('api_url', props.loadBalancer.url, 'The SelfMX API');
  output('environment_name', props.env, 'SELFMX_ENV');
  output('rds_endpoint', database.instance.endpoint, 'PostgreSQL host:port (private)');
  output('database_master_secret_arn', database.masterSecretArn, 'RDS-managed master credentials');
  for (const [slug, { holds, secret }] of app.secrets.secrets) {
    output(
      `${slug.replaceAll('-', '_')}_secret_arn`,
      secret.arn,
      `Secrets Manager secret of ${holds}`,
    );
  }
  output(
    'migrate_command',
    app.migration.manualCommand,
    'Runs the migration job by hand, from the repository root',
  );
  output('image_uri', app.image.imageUri, 'The image this release runs');
  if (props.alarms.topicArn) {
    output('alarm_topic_arn', props.alarms.topicArn, 'SNS topic of the alarms');
  }
  const apiKey = app.environments.apiKey;
  if (apiKey.generated) {
    output(
      'api_key',
      apiKey.value,
      'The generated bootstrap API key: terraform output -raw api_key',
      true,
    );
  }
}
