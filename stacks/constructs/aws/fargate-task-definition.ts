import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition/index.js';
import type { Construct } from 'constructs';
import { type ContainerDefinitionProps, containerDefinition } from './container-definition.js';

export interface FargateTaskDefinitionProps {
  readonly family: string;
  readonly cpu: number;
  readonly memory: number;
  readonly executionRoleArn: string;
  readonly taskRoleArn: string;
  readonly container: ContainerDefinitionProps;
}

/** A single-container Fargate task definition (x86_64, awsvpc networking). */
export function fargateTaskDefinition(
  scope: Construct,
  id: string,
  props: FargateTaskDefinitionProps,
): EcsTaskDefinition {
  return new EcsTaskDefinition(scope, id, {
    family: props.family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: String(props.cpu),
    memory: String(props.memory),
    runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
    executionRoleArn: props.executionRoleArn,
    taskRoleArn: props.taskRoleArn,
    containerDefinitions: JSON.stringify([containerDefinition(props.container)]),
  });
}
