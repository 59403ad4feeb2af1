import { Annotations, type IAspect, TerraformResource } from 'cdktf';
import type { IConstruct } from 'constructs';
import { checkContainerSecrets } from './container-secrets-guardrail.js';
import { checkDatabase } from './database-guardrail.js';
import type { GuardrailCheck } from './guardrail-violation.js';
import { checkOpenIngress } from './open-ingress-guardrail.js';

const CHECKS: GuardrailCheck[] = [checkDatabase, checkContainerSecrets, checkOpenIngress];

/**
 * Fails the synth of a production environment (an error annotation stops `cdktf synth`) when a
 * resource breaks a rule: unencrypted storage, backups under 7 days, no deletion protection or
 * final snapshot, a public database or SSL not forced, a secret in a container's plain
 * environment, a security group open to the internet other than the load balancer on 80/443.
 * Each message names the resource and the fix. Ephemeral environments do not add this aspect.
 */
export class ProductionGuardrails implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource)) return;
    for (const check of CHECKS) {
      for (const violation of check(node)) {
        Annotations.of(node).addError(
          `Production guardrail: ${node.terraformResourceType} "${node.node.path}" ${violation.problem}. Fix: ${violation.fix} (or set SELFMX_EPHEMERAL=true for a throwaway environment).`,
        );
      }
    }
  }
}
