import { EcsService } from '@cdktf/provider-aws/lib/ecs-service/index.js';
import type { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';

export interface AppServiceProps {
  readonly name: string;
  readonly clusterArn: string;
  readonly taskDefinition: EcsTaskDefinition;
  readonly containerName: string;
  readonly containerPort: number;
  readonly targetGroupArn: string;
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  readonly desiredCount: number;
  /** Tasks allowed during a rollout, in % of the desired count (the connection budget uses it). */
  readonly deploymentMaximumPercent: number;
  /** The service moves to a new task definition only after these (the migration job, the listener). */
  readonly dependsOn: ITerraformDependable[];
}

/**
 * The Fargate service behind the load balancer. Rolling deploys keep every old task until a new
 * one is healthy (minimum 100 %); the circuit breaker rolls back a release whose tasks do not
 * become healthy, and `wait_for_steady_state` makes such a release fail the apply.
 */
export class AppService extends Construct {
  readonly service: EcsService;

  constructor(scope: Construct, id: string, props: AppServiceProps) {
    super(scope, id);
    this.service = new EcsService(this, 'service', {
      name: props.name,
      cluster: props.clusterArn,
      taskDefinition: props.taskDefinition.arn,
      desiredCount: props.desiredCount,
      launchType: 'FARGATE',
      platformVersion: 'LATEST',
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: props.deploymentMaximumPercent,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriodSeconds: 60,
      waitForSteadyState: true,
      propagateTags: 'SERVICE',
      enableEcsManagedTags: true,
      networkConfiguration: {
        subnets: props.subnetIds,
        securityGroups: props.securityGroupIds,
        assignPublicIp: false,
      },
      loadBalancer: [
        {
          targetGroupArn: props.targetGroupArn,
          containerName: props.containerName,
          containerPort: props.containerPort,
        },
      ],
      dependsOn: props.dependsOn,
    });
  }
}
