import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster/index.js';
import type { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition/index.js';
import type { Construct } from 'constructs';
import { APP_CONTAINER_PORT, type AppEnvironment } from '../app-environment.js';
import type { AppSecrets } from './app-secrets.js';
import type { ContainerImage } from './container-image.js';
import { fargateTaskDefinition } from './fargate-task-definition.js';
import { TaskRoles } from './task-roles.js';

/** The app's two commands, each the one container of its task (and named after it). */
export type AppCommand = 'serve' | 'migrate';

export interface AppTasksProps {
  /** Prefix of every name, e.g. `selfmx-prod`. */
  readonly prefix: string;
  /** SELFMX_ENV: the log group is `/selfmx/<env>`. */
  readonly env: string;
  readonly region: string;
  /** Fargate task CPU units and memory (MiB), the same for both tasks. */
  readonly cpu: number;
  readonly memory: number;
  readonly logRetentionDays: number;
  readonly image: ContainerImage;
  /** Splits each environment into plain variables and Secrets Manager secrets. */
  readonly secrets: AppSecrets;
  readonly environments: Readonly<Record<AppCommand, AppEnvironment>>;
  /** The key that encrypts the secrets (the execution role decrypts them). */
  readonly kmsKeyArn: string;
}

/**
 * The ECS cluster, its log group, the task roles and the task definitions of `serve` and
 * `migrate`: one image, one environment, two commands.
 *
 * Not a construct of its own: the resources are declared in `scope` (the stack), which keeps
 * their Terraform addresses as they have always been.
 */
export class AppTasks {
  readonly logGroup: CloudwatchLogGroup;
  readonly cluster: EcsCluster;
  readonly roles: TaskRoles;
  readonly migrate: EcsTaskDefinition;
  readonly serve: EcsTaskDefinition;

  constructor(scope: Construct, props: AppTasksProps) {
    this.logGroup = new CloudwatchLogGroup(scope, 'logs', {
      name: `/selfmx/${props.env}`,
      retentionInDays: props.logRetentionDays,
    });
    this.cluster = new EcsCluster(scope, 'cluster', {
      name: props.prefix,
      setting: [{ name: 'containerInsights', value: 'enabled' }],
    });
    this.roles = new TaskRoles(scope, 'task-roles', {
      prefix: props.prefix,
      repositoryArn: props.image.repository.arn,
      logGroupArn: this.logGroup.arn,
      secretArns: props.secrets.arns,
      kmsKeyArn: props.kmsKeyArn,
    });
    this.migrate = this.taskDefinition(scope, 'migrate', props);
    this.serve = this.taskDefinition(scope, 'serve', props);
  }

  private taskDefinition(
    scope: Construct,
    command: AppCommand,
    props: AppTasksProps,
  ): EcsTaskDefinition {
    return fargateTaskDefinition(scope, `${command}-task`, {
      family: `${props.prefix}-${command}`,
      cpu: props.cpu,
      memory: props.memory,
      executionRoleArn: this.roles.execution.arn,
      taskRoleArn: this.roles.task.arn,
      container: {
        name: command,
        image: props.image.imageUri,
        command: [command],
        settings: props.secrets.containerSettings(props.environments[command]),
        logGroupName: this.logGroup.name,
        region: props.region,
        ...(command === 'serve' ? { port: APP_CONTAINER_PORT } : {}),
      },
    });
  }
}
