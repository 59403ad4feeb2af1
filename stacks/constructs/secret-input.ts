import { Password } from '@cdktf/provider-random/lib/password/index.js';
import { TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import type { SecretSource } from '../config/deployment-config.js';

export interface SecretInputProps {
  /** 'generated': a random value made by the random provider; 'variable': given at deploy. */
  readonly source: SecretSource;
  /** The Terraform variable (and TF_VAR_<name>) the operator sets when source is 'variable'. */
  readonly variableName: string;
  readonly description: string;
  /** Shortest value accepted from the variable, checked by Terraform at plan. @default 1 */
  readonly minLength?: number;
  /** Length of a generated value (letters and digits only: safe in URLs and headers). @default 48 */
  readonly generatedLength?: number;
}

/**
 * A secret that never appears in cdk.tf.json: either generated at apply time, or supplied through
 * a sensitive Terraform variable without a default. Terraform keeps it out of plan output.
 */
export class SecretInput extends Construct {
  /** A token for the secret's value. */
  readonly value: string;
  readonly variable: TerraformVariable | undefined;
  readonly generated: Password | undefined;

  constructor(scope: Construct, id: string, props: SecretInputProps) {
    super(scope, id);
    if (props.source === 'generated') {
      this.generated = new Password(this, 'generated', {
        length: props.generatedLength ?? 48,
        special: false,
      });
      this.generated.overrideLogicalId(props.variableName);
      this.value = this.generated.result;
      return;
    }
    const minLength = props.minLength ?? 1;
    this.variable = new TerraformVariable(this, 'variable', {
      type: 'string',
      sensitive: true,
      nullable: false,
      description: props.description,
      validation: [
        {
          condition: `\${length(var.${props.variableName}) >= ${minLength}}`,
          errorMessage: `${props.variableName} must be at least ${minLength} characters.`,
        },
      ],
    });
    this.variable.overrideLogicalId(props.variableName);
    this.value = this.variable.stringValue;
  }
}
