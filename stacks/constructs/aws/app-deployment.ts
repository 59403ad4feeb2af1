import type { Construct } from 'constructs';
import type { AwsConfig } from '../../config/aws-config.js';
import { APP_CONTAINER_PORT } from '../app-environment.js';
import { AppSecrets } from './app-secrets.js';
import { AppService } from './app-service.js';
import { AppTasks } from './app-tasks.js';
import { ContainerImage } from './container-image.js';
import type { Database } from './database.js';
import type { EncryptionKey } from './encryption-key.js';
import type { LoadBalancer } from './load-balancer.js';
import { MigrationJob } from './migration-job.js';
import type { Network } from './network.js';
import type { SecurityGroups } from './security-groups.js';
import { TaskEnvironments } from './task-environments.js';

export interface AppDeploymentProps {
  /** Prefix of every name, e.g. `selfmx-prod`. */
  readonly prefix: string;
  readonly config: AwsConfig;
  /** Production protections: secrets and images survive a destroy. */
  readonly protect: boolean;
  readonly network: Network;
  readonly groups: SecurityGroups;
  readonly key: EncryptionKey;
  readonly database: Database;
  /** Its target group receives the service's tasks; the service waits for its listener. */
  readonly loadBalancer: LoadBalancer;
}

/**
 * SelfMX on ECS Fargate: its environment and secrets, the image built from this repository, the
 * serve and migrate tasks, the migration job that gates every release, and the service.
 *
 * Not a construct of its own: its parts are declared in `scope` (the stack), which keeps their
 * Terraform addresses as they have always been.
 */
export class AppDeployment {
  readonly environments: TaskEnvironments;
  readonly secrets: AppSecrets;
  readonly image: ContainerImage;
  readonly tasks: AppTasks;
  readonly migration: MigrationJob;
  readonly service: AppService;

  constructor(scope: Construct, props: AppDeploymentProps) {
    const { prefix, config, protect, network, groups, key, database } = props;
    this.environments = new TaskEnvironments(scope, {
      database,
      appDatabaseUser: config.app.databaseUser,
      trustProxy: network.cidrBlock,
      pool: config.database,
      logLevel: config.logLevel,
      apiKey: config.apiKey,
      smtp: config.smtp,
      region: config.region,
    });
    this.secrets = new AppSecrets(scope, 'secrets', {
      prefix,
      kmsKeyArn: key.arn,
      environments: this.environments,
      masterSecretArn: database.masterSecretArn,
      recoveryWindowDays: protect ? 30 : 0,
    });
    this.image = new ContainerImage(scope, 'image', {
      prefix,
      region: config.region,
      kmsKeyArn: key.arn,
      forceDelete: !protect,
    });
    this.tasks = new AppTasks(scope, {
      prefix,
      env: config.env,
      region: config.region,
      cpu: config.app.cpu,
      memory: config.app.memory,
      logRetentionDays: config.logRetentionDays,
      image: this.image,
      secrets: this.secrets,
      environments: this.environments,
      kmsKeyArn: key.arn,
    });
    this.migration = new MigrationJob(scope, 'migration', {
      clusterName: this.tasks.cluster.name,
      taskDefinition: this.tasks.migrate,
      containerName: 'migrate',
      subnetIds: network.privateSubnetIds,
      securityGroupIds: [groups.migration.id],
      logGroupName: this.tasks.logGroup.name,
      region: config.region,
      dependsOn: [
        this.image.pushed,
        database.instance,
        this.tasks.roles.executionPolicy,
        ...this.secrets.versions,
        ...network.egress,
      ],
    });
    this.service = new AppService(scope, 'app', {
      name: `${prefix}-app`,
      clusterArn: this.tasks.cluster.arn,
      taskDefinition: this.tasks.serve,
      containerName: 'serve',
      containerPort: APP_CONTAINER_PORT,
      targetGroupArn: props.loadBalancer.targetGroup.arn,
      subnetIds: network.privateSubnetIds,
      securityGroupIds: [groups.app.id],
      desiredCount: config.app.count,
      deploymentMaximumPercent: config.app.deploymentMaximumPercent,
      dependsOn: [
        this.migration.run,
        props.loadBalancer.listener,
        props.loadBalancer.publicPaths,
        this.tasks.roles.executionPolicy,
        ...network.egress,
      ],
    });
  }
}
