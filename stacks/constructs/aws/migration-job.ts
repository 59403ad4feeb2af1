import type { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition/index.js';
import { DataResource, Fn, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { REPOSITORY_ROOT_FROM_STACK } from './container-image.js';

export interface MigrationJobProps {
  readonly clusterName: string;
  readonly taskDefinition: EcsTaskDefinition;
  readonly containerName: string;
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  readonly logGroupName: string;
  readonly region: string;
  /** What must exist before the job runs: the pushed image, the database, the secrets. */
  readonly dependsOn: ITerraformDependable[];
  /** How long the runner waits for the task to stop. @default 1800 */
  readonly timeoutSeconds?: number;
}

/** The runner's settings, as environment variables of stacks/scripts/run-migration.sh. */
function runnerEnvironment(
  props: MigrationJobProps,
  taskDefinition: string,
): Record<string, string> {
  return {
    AWS_REGION: props.region,
    CLUSTER: props.clusterName,
    TASK_DEFINITION: taskDefinition,
    CONTAINER_NAME: props.containerName,
    SUBNETS: Fn.join(',', props.subnetIds),
    SECURITY_GROUPS: Fn.join(',', props.securityGroupIds),
    LOG_GROUP: props.logGroupName,
    TIMEOUT_SECONDS: String(props.timeoutSeconds ?? 1800),
  };
}

/**
 * Runs the migrate task once per release, before the service moves to it. A terraform_data is
 * replaced whenever the migrate task definition changes (a new image is a new revision), and its
 * local-exec runs stacks/scripts/run-migration.sh: run-task, poll describe-tasks (not the CLI
 * waiter: it gives up after 10 minutes and calls a failed container a success), stream the
 * logs, and exit non-zero on a non-zero exit code or a task stopped for any other reason. A
 * failure fails the apply, so the service, which depends on this, keeps the old version.
 */
export class MigrationJob extends Construct {
  readonly run: DataResource;
  /** One line that runs the job by hand from the repository root (latest revision). */
  readonly manualCommand: string;

  constructor(scope: Construct, id: string, props: MigrationJobProps) {
    super(scope, id);
    this.run = new DataResource(this, 'run', {
      triggersReplace: { taskDefinition: props.taskDefinition.arn },
      dependsOn: props.dependsOn,
      provisioners: [
        {
          type: 'local-exec',
          command: `${REPOSITORY_ROOT_FROM_STACK}/stacks/scripts/run-migration.sh`,
          environment: runnerEnvironment(props, props.taskDefinition.arn),
        },
      ],
    });
    const environment = runnerEnvironment(props, props.taskDefinition.family);
    this.manualCommand = `${Object.entries(environment)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ')} stacks/scripts/run-migration.sh`;
  }
}
