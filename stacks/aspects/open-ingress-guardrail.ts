import { Lb } from '@cdktf/provider-aws/lib/lb/index.js';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
import { SecurityGroupRule } from '@cdktf/provider-aws/lib/security-group-rule/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';
import {
  DefaultTokenResolver,
  StringConcat,
  type TerraformResource,
  TerraformStack,
  Tokenization,
} from 'cdktf';
import type { GuardrailViolation } from './guardrail-violation.js';

const ANYWHERE = new Set(['0.0.0.0/0', '::/0']);
const LOAD_BALANCER_PORTS = new Set([80, 443]);

interface OpenRule {
  securityGroupId: string;
  protocol: string | undefined;
  fromPort: number | undefined;
  toPort: number | undefined;
  cidrs: string[];
}

/**
 * Security groups: nothing open to 0.0.0.0/0 or ::/0, except TCP 80 and 443 on a security group
 * that a load balancer uses.
 */
export function checkOpenIngress(resource: TerraformResource): GuardrailViolation[] {
  return openRules(resource)
    .filter((rule) => rule.cidrs.some((cidr) => ANYWHERE.has(cidr)))
    .filter((rule) => !isLoadBalancerWebRule(resource, rule))
    .map((rule) => ({
      problem: `lets ${rule.cidrs.filter((cidr) => ANYWHERE.has(cidr)).join(' and ')} in on ${describePorts(rule)}`,
      fix: "allow only the load balancer on 80/443 from the internet; reference a security group (e.g. the load balancer's) for everything else",
    }));
}

function openRules(resource: TerraformResource): OpenRule[] {
  if (resource instanceof VpcSecurityGroupIngressRule) {
    return [
      {
        securityGroupId: resource.securityGroupIdInput ?? '',
        protocol: resource.ipProtocolInput,
        fromPort: resource.fromPortInput,
        toPort: resource.toPortInput,
        cidrs: [resource.cidrIpv4Input, resource.cidrIpv6Input].filter((c): c is string => !!c),
      },
    ];
  }
  if (resource instanceof SecurityGroupRule && resource.typeInput === 'ingress') {
    return [
      {
        securityGroupId: resource.securityGroupIdInput ?? '',
        protocol: resource.protocolInput,
        fromPort: resource.fromPortInput,
        toPort: resource.toPortInput,
        cidrs: [...(resource.cidrBlocksInput ?? []), ...(resource.ipv6CidrBlocksInput ?? [])],
      },
    ];
  }
  if (resource instanceof SecurityGroup && Array.isArray(resource.ingressInput)) {
    return resource.ingressInput.map((rule) => ({
      securityGroupId: resource.id,
      protocol: rule.protocol,
      fromPort: rule.fromPort,
      toPort: rule.toPort,
      cidrs: [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])],
    }));
  }
  return [];
}

function isLoadBalancerWebRule(resource: TerraformResource, rule: OpenRule): boolean {
  const singleWebPort =
    rule.fromPort !== undefined &&
    rule.fromPort === rule.toPort &&
    LOAD_BALANCER_PORTS.has(rule.fromPort) &&
    (rule.protocol === 'tcp' || rule.protocol === '6');
  if (!singleWebPort) return false;
  const stack = TerraformStack.of(resource);
  const resolve = (value: unknown) =>
    Tokenization.resolve(value, {
      scope: stack,
      resolver: new DefaultTokenResolver(new StringConcat()),
    }) as unknown;
  const group = JSON.stringify(resolve(rule.securityGroupId));
  return stack.node
    .findAll()
    .filter((node): node is Lb => node instanceof Lb)
    .some((lb) => {
      const groups = resolve(lb.securityGroupsInput ?? []);
      return Array.isArray(groups) && groups.some((g) => JSON.stringify(g) === group);
    });
}

function describePorts(rule: OpenRule): string {
  if (rule.protocol === '-1' || rule.protocol === 'all') return 'every port';
  if (rule.fromPort === rule.toPort) return `${rule.protocol ?? 'tcp'} port ${rule.fromPort}`;
  return `${rule.protocol ?? 'tcp'} ports ${rule.fromPort}-${rule.toPort}`;
}
