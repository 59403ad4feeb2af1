import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition/index.js';
import type { TerraformResource } from 'cdktf';
import type { GuardrailViolation } from './guardrail-violation.js';

/** Variable names that hold secrets: they belong in `secrets` (Secrets Manager), never `environment`. */
export function isSecretVariable(name: string): boolean {
  const upper = name.toUpperCase();
  return (
    upper === 'DATABASE_URL' ||
    upper === 'API_KEY' ||
    upper.includes('PASSWORD') ||
    upper.endsWith('PASS') ||
    upper.includes('SECRET')
  );
}

interface ContainerDefinition {
  name?: string;
  environment?: { name: string; value?: string }[];
}

/** ECS task definitions: no secret-looking variable in a container's plain environment. */
export function checkContainerSecrets(resource: TerraformResource): GuardrailViolation[] {
  if (!(resource instanceof EcsTaskDefinition)) return [];
  const json = resource.containerDefinitionsInput;
  if (json === undefined) return [];
  let containers: ContainerDefinition[];
  try {
    containers = JSON.parse(json) as ContainerDefinition[];
  } catch {
    return [
      {
        problem: 'has container definitions the guardrail cannot read (not literal JSON)',
        fix: 'build container_definitions with JSON.stringify so that they can be checked',
      },
    ];
  }
  return containers.flatMap((container) =>
    (container.environment ?? [])
      .filter((variable) => isSecretVariable(variable.name))
      .map((variable) => ({
        problem: `puts ${variable.name} in the plain environment of container "${container.name ?? '?'}"`,
        fix: `move ${variable.name} to the container's secrets (valueFrom a Secrets Manager ARN)`,
      })),
  );
}
