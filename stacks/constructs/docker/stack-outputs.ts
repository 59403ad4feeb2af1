import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { SecretInput } from '../secret-input.js';
import type { MailCatcher } from './mail-catcher.js';
import type { PostgresContainer } from './postgres-container.js';

export interface LocalOutputsProps {
  /** SELFMX_ENV */
  readonly env: string;
  /** Where the API is published on the host. */
  readonly http: { readonly port: number; readonly bindAddress: string };
  readonly apiKey: SecretInput;
  readonly postgres: PostgresContainer;
  /** The Mailpit container, when there is no SMTP relay. */
  readonly mailCatcher: MailCatcher | undefined;
}

/**
 * The selfmx-local outputs (`terraform output`). Declared in `scope` (the stack): their names are
 * what operators and scripts read.
 */
export function addLocalOutputs(scope: Construct, props: LocalOutputsProps): void {
  const stackDirectory = `cdktf.out/stacks/${TerraformStack.of(scope).node.id}`;
  new TerraformOutput(scope, 'environment', { value: props.env });
  new TerraformOutput(scope, 'api_url', {
    value: `http://${urlHost(props.http.bindAddress)}:${props.http.port}`,
  });
  new TerraformOutput(scope, 'api_key', { value: props.apiKey.value, sensitive: true });
  new TerraformOutput(scope, 'api_key_command', {
    description: 'How to print the bootstrap admin API key',
    value: `terraform -chdir=${stackDirectory} output -raw api_key`,
  });
  new TerraformOutput(scope, 'postgres_container', { value: props.postgres.host });
  new TerraformOutput(scope, 'mailpit_url', {
    description: 'The Mailpit web UI (every message the app sends), when no SMTP relay is set',
    value: props.mailCatcher?.uiUrl ?? 'none: SELFMX_SMTP_HOST is set, mail goes to the relay',
  });
}

/** The address to browse to: a wildcard bind is reached through localhost. */
function urlHost(bindAddress: string): string {
  if (bindAddress === '0.0.0.0' || bindAddress === '::') return 'localhost';
  return bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress;
}
