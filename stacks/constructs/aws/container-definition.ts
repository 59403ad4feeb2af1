import type { ContainerSettings } from './app-secrets.js';

export interface ContainerDefinitionProps {
  readonly name: string;
  readonly image: string;
  /** Arguments to the image's ENTRYPOINT (`node /app/selfmx.js`), e.g. `['serve']`. */
  readonly command: string[];
  /** Plain `environment` and Secrets Manager `secrets`. */
  readonly settings: ContainerSettings;
  readonly logGroupName: string;
  readonly region: string;
  /** The port the container listens on, if any. */
  readonly port?: number;
}

/** One ECS container definition (the JSON shape of `container_definitions`). */
export function containerDefinition(props: ContainerDefinitionProps): Record<string, unknown> {
  return {
    name: props.name,
    image: props.image,
    essential: true,
    command: props.command,
    environment: Object.entries(props.settings.environment)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value })),
    secrets: props.settings.secrets.map(({ name, valueFrom }) => ({ name, valueFrom })),
    portMappings: props.port === undefined ? [] : [{ containerPort: props.port, protocol: 'tcp' }],
    readonlyRootFilesystem: true,
    logConfiguration: {
      logDriver: 'awslogs',
      options: {
        'awslogs-group': props.logGroupName,
        'awslogs-region': props.region,
        'awslogs-stream-prefix': props.name,
      },
    },
  };
}
