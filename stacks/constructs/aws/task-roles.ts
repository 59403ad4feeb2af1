import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { Construct } from 'constructs';

export interface TaskRolesProps {
  readonly prefix: string;
  readonly repositoryArn: string;
  readonly logGroupArn: string;
  /** The only secrets the containers receive. */
  readonly secretArns: string[];
  /** The key that encrypts those secrets. */
  readonly kmsKeyArn: string;
}

const ECS_TASKS_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Action: 'sts:AssumeRole',
    },
  ],
});

/**
 * The execution role (what ECS does to start a task: pull this repository's image, write to this
 * log group, read these secrets) and the task role (what the app itself may call: nothing).
 */
export class TaskRoles extends Construct {
  readonly execution: IamRole;
  readonly task: IamRole;
  /** The execution role's permissions: a task cannot start before they exist. */
  readonly executionPolicy: IamRolePolicy;

  constructor(scope: Construct, id: string, props: TaskRolesProps) {
    super(scope, id);
    this.execution = new IamRole(this, 'execution', {
      name: `${props.prefix}-task-execution`,
      assumeRolePolicy: ECS_TASKS_TRUST,
    });
    this.executionPolicy = new IamRolePolicy(this, 'execution-policy', {
      role: this.execution.id,
      name: 'start-selfmx-tasks',
      policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          // GetAuthorizationToken has no resource-level permissions.
          { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
          {
            Effect: 'Allow',
            Action: [
              'ecr:BatchCheckLayerAvailability',
              'ecr:BatchGetImage',
              'ecr:GetDownloadUrlForLayer',
            ],
            Resource: props.repositoryArn,
          },
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: `${props.logGroupArn}:*`,
          },
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: props.secretArns },
          { Effect: 'Allow', Action: 'kms:Decrypt', Resource: props.kmsKeyArn },
        ],
      }),
    });
    // SelfMX calls no AWS API: the task role exists so that nothing falls back to broader ones.
    this.task = new IamRole(this, 'task', {
      name: `${props.prefix}-task`,
      assumeRolePolicy: ECS_TASKS_TRUST,
    });
  }
}
