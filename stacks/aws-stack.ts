import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster/index.js';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { RandomProvider } from '@cdktf/provider-random/lib/provider/index.js';
import { Annotations, Aspects, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { Env } from '../app/src/config/env-reader.js';
import { ProductionGuardrails } from './aspects/production-guardrails.js';
import { type AwsConfig, loadAwsConfig } from './config/aws-config.js';
import { MIN_API_KEY_LENGTH } from './config/deployment-config.js';
import {
  APP_CONTAINER_PORT,
  databaseUrl,
  migrationEnvironment,
  serviceEnvironment,
} from './constructs/app-environment.js';
import { Alarms } from './constructs/aws/alarms.js';
import { AppSecrets } from './constructs/aws/app-secrets.js';
import { AppService } from './constructs/aws/app-service.js';
import { ContainerImage } from './constructs/aws/container-image.js';
import { Database } from './constructs/aws/database.js';
import { EncryptionKey } from './constructs/aws/encryption-key.js';
import { fargateTaskDefinition } from './constructs/aws/fargate-task-definition.js';
import { LoadBalancer } from './constructs/aws/load-balancer.js';
import { MigrationJob } from './constructs/aws/migration-job.js';
import { Network } from './constructs/aws/network.js';
import { SecurityGroups } from './constructs/aws/security-groups.js';
import { configureStateBackend } from './constructs/aws/state-backend.js';
import { TaskRoles } from './constructs/aws/task-roles.js';
import { SecretInput } from './constructs/secret-input.js';

/** Where app/Dockerfile puts the Amazon RDS CA bundle (verify-full checks the server against it). */
export const RDS_CA_BUNDLE_PATH = '/app/certs/rds-global-bundle.pem';

/** Amazon SES's SMTP endpoint port (STARTTLS), used when no relay is configured. */
const SES_SMTP_PORT = 587;

export interface AwsStackProps {
  /** The SELFMX_* variables (main.ts passes process.env). */
  readonly env: Env;
}

/**
 * selfmx-aws: RDS for PostgreSQL 15 (verify-full TLS, encrypted, backed up), SelfMX on ECS
 * Fargate behind an application load balancer, and a migration task that gates every release.
 * Production defaults; SELFMX_EPHEMERAL=true makes a throwaway environment that destroys cleanly.
 */
export class AwsStack extends TerraformStack {
  readonly config: AwsConfig;

  constructor(scope: Construct, id: string, props: AwsStackProps) {
    super(scope, id);
    const config = loadAwsConfig(props.env);
    this.config = config;
    const prefix = `selfmx-${config.env}`;
    const protect = !config.ephemeral;

    configureStateBackend(this, config.env, config.stateBackend);
    // S3's native state lock file needs Terraform 1.10; the rest works from 1.5 (and OpenTofu).
    this.addOverride(
      'terraform.required_version',
      config.stateBackend && !config.stateBackend.lockTable ? '>= 1.10.0' : '>= 1.5.0',
    );
    new AwsProvider(this, 'aws', {
      region: config.region,
      defaultTags: [
        { tags: { Application: 'selfmx', Environment: config.env, ManagedBy: 'cdktf' } },
      ],
    });
    new RandomProvider(this, 'random');

    const network = new Network(this, 'network', {
      prefix,
      region: config.region,
      existing: config.network,
      cidr: config.vpcCidr,
      natPerAz: protect,
    });
    const groups = new SecurityGroups(this, 'security-groups', {
      prefix,
      vpcId: network.vpcId,
      appPort: APP_CONTAINER_PORT,
      https: config.certificateArn !== undefined,
      smtpPort: config.smtp?.port ?? SES_SMTP_PORT,
    });
    const key = new EncryptionKey(this, 'encryption-key', {
      prefix,
      deletionWindowDays: protect ? 30 : 7,
    });
    const database = new Database(this, 'database', {
      prefix,
      instanceClass: config.db.instanceClass,
      subnetIds: network.privateSubnetIds,
      securityGroupIds: [groups.database.id],
      kmsKeyArn: key.arn,
      allocatedStorageGb: config.db.allocatedStorageGb,
      maxAllocatedStorageGb: config.db.maxAllocatedStorageGb,
      backupRetentionDays: config.db.backupRetentionDays,
      protect,
    });

    // The app environment, built exactly as for the local stack; the secrets move to Secrets Manager.
    const databaseSettings = {
      url: databaseUrl({
        user: database.username,
        // No password: PGPASSWORD comes from the RDS-managed secret (see AppSecrets).
        host: database.address,
        database: database.databaseName,
        options: { sslmode: 'verify-full', sslrootcert: RDS_CA_BUNDLE_PATH },
      }),
      pool: config.database,
    };
    const log = { level: config.logLevel };
    const apiKey = new SecretInput(this, 'api-key', {
      source: config.apiKey,
      variableName: 'api_key',
      description: 'The bootstrap admin API key (API_KEY); set TF_VAR_api_key',
      minLength: MIN_API_KEY_LENGTH,
    });
    const smtpPass =
      config.smtp?.pass === 'variable'
        ? new SecretInput(this, 'smtp-pass', {
            source: 'variable',
            variableName: 'smtp_pass',
            description: 'The SMTP relay password (SMTP_PASS); set TF_VAR_smtp_pass',
          }).value
        : undefined;
    const serveEnvironment = serviceEnvironment({
      database: databaseSettings,
      log,
      apiKey: apiKey.value,
      smtp: config.smtp
        ? { ...config.smtp, pass: smtpPass }
        : // No relay configured: Amazon SES in the same region (give it SMTP credentials).
          {
            host: `email-smtp.${config.region}.amazonaws.com`,
            port: SES_SMTP_PORT,
            tls: true,
            tlsVerify: true,
          },
    });
    if (!config.smtp) {
      Annotations.of(this).addWarning(
        `SELFMX_SMTP_HOST is unset: SelfMX sends through Amazon SES (email-smtp.${config.region}.amazonaws.com:${SES_SMTP_PORT}) without credentials; set SELFMX_SMTP_HOST, SELFMX_SMTP_USER and SELFMX_SMTP_PASS.`,
      );
    }
    const secrets = new AppSecrets(this, 'secrets', {
      prefix,
      kmsKeyArn: key.arn,
      environment: serveEnvironment,
      masterSecretArn: database.masterSecretArn,
      recoveryWindowDays: protect ? 30 : 0,
    });

    const image = new ContainerImage(this, 'image', {
      prefix,
      region: config.region,
      kmsKeyArn: key.arn,
      forceDelete: !protect,
    });
    const logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/selfmx/${config.env}`,
      retentionInDays: config.logRetentionDays,
    });
    const cluster = new EcsCluster(this, 'cluster', {
      name: prefix,
      setting: [{ name: 'containerInsights', value: 'enabled' }],
    });
    const roles = new TaskRoles(this, 'task-roles', {
      prefix,
      repositoryArn: image.repository.arn,
      logGroupArn: logGroup.arn,
      secretArns: secrets.arns,
      kmsKeyArn: key.arn,
    });
    const task = (
      name: 'serve' | 'migrate',
      settings: ReturnType<AppSecrets['containerSettings']>,
    ) =>
      fargateTaskDefinition(this, `${name}-task`, {
        family: `${prefix}-${name}`,
        cpu: config.app.cpu,
        memory: config.app.memory,
        executionRoleArn: roles.execution.arn,
        taskRoleArn: roles.task.arn,
        container: {
          name,
          image: image.imageUri,
          command: [name],
          settings,
          logGroupName: logGroup.name,
          region: config.region,
          ...(name === 'serve' ? { port: APP_CONTAINER_PORT } : {}),
        },
      });
    const migrateTask = task(
      'migrate',
      secrets.containerSettings(migrationEnvironment({ database: databaseSettings, log })),
    );
    const serveTask = task('serve', secrets.containerSettings(serveEnvironment));

    const migration = new MigrationJob(this, 'migration', {
      clusterName: cluster.name,
      taskDefinition: migrateTask,
      containerName: 'migrate',
      subnetIds: network.privateSubnetIds,
      securityGroupIds: [groups.migration.id],
      logGroupName: logGroup.name,
      region: config.region,
      dependsOn: [
        image.pushed,
        database.instance,
        roles.executionPolicy,
        ...secrets.versions,
        ...network.egress,
      ],
    });
    const loadBalancer = new LoadBalancer(this, 'load-balancer', {
      prefix,
      vpcId: network.vpcId,
      subnetIds: network.publicSubnetIds,
      securityGroupId: groups.loadBalancer.id,
      appPort: APP_CONTAINER_PORT,
      certificateArn: config.certificateArn,
      deletionProtection: protect,
    });
    if (!config.certificateArn && protect) {
      Annotations.of(this).addWarning(
        'SELFMX_CERTIFICATE_ARN is unset: the API is served over plain HTTP; give an ACM certificate for HTTPS.',
      );
    }
    const service = new AppService(this, 'app', {
      name: `${prefix}-app`,
      clusterArn: cluster.arn,
      taskDefinition: serveTask,
      containerName: 'serve',
      containerPort: APP_CONTAINER_PORT,
      targetGroupArn: loadBalancer.targetGroup.arn,
      subnetIds: network.privateSubnetIds,
      securityGroupIds: [groups.app.id],
      desiredCount: config.app.count,
      deploymentMaximumPercent: config.app.deploymentMaximumPercent,
      dependsOn: [migration.run, loadBalancer.listener, roles.executionPolicy, ...network.egress],
    });
    const alarms = new Alarms(this, 'alarms', {
      prefix,
      target: config.alarms,
      dbInstanceIdentifier: database.instance.identifier,
      connectionBudget: config.connectionBudget.available,
      allocatedStorageGb: config.db.allocatedStorageGb,
      loadBalancerArnSuffix: loadBalancer.lb.arnSuffix,
      targetGroupArnSuffix: loadBalancer.targetGroup.arnSuffix,
      clusterName: cluster.name,
      serviceName: service.service.name,
    });

    const output = (name: string, value: string, description: string, sensitive = false) =>
      new TerraformOutput(this, name, { value, description, sensitive });
    output('api_url', loadBalancer.url, 'The SelfMX API');
    output('environment_name', config.env, 'SELFMX_ENV');
    output('rds_endpoint', database.instance.endpoint, 'PostgreSQL host:port (private)');
    output(
      'database_master_secret_arn',
      database.masterSecretArn,
      'RDS-managed master credentials',
    );
    for (const [name, secret] of secrets.secrets) {
      output(`${name.toLowerCase()}_secret_arn`, secret.arn, `Secrets Manager secret of ${name}`);
    }
    output(
      'migrate_command',
      migration.manualCommand,
      'Runs the migration job by hand, from the repository root',
    );
    output('image_uri', image.imageUri, 'The image this release runs');
    if (alarms.topicArn) output('alarm_topic_arn', alarms.topicArn, 'SNS topic of the alarms');
    if (apiKey.generated) {
      output(
        'api_key',
        apiKey.value,
        'The generated bootstrap API key: terraform output -raw api_key',
        true,
      );
    }

    if (protect) Aspects.of(this).add(new ProductionGuardrails());
  }
}
