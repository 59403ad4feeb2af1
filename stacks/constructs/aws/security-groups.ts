import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';
import { Construct } from 'constructs';
import { APP_CONTAINER_PORT, POSTGRES_PORT } from '../app-environment.js';

export interface SecurityGroupsProps {
  readonly prefix: string;
  readonly vpcId: string;
  /** The port the app listens on. @default APP_CONTAINER_PORT (8080) */
  readonly appPort?: number;
  /** Open 443 on the load balancer (only with a certificate). */
  readonly https: boolean;
  /** The SMTP relay's port: the only other way out of the app tasks. */
  readonly smtpPort: number;
}

/**
 * Who may talk to whom: the internet reaches only the load balancer (80, and 443 with TLS);
 * the load balancer reaches the app port; PostgreSQL accepts only the app and migration tasks.
 * Outbound, tasks reach PostgreSQL, HTTPS (the AWS APIs) and, for the app, the SMTP port.
 */
export class SecurityGroups extends Construct {
  readonly loadBalancer: SecurityGroup;
  readonly app: SecurityGroup;
  readonly migration: SecurityGroup;
  readonly database: SecurityGroup;

  constructor(scope: Construct, id: string, props: SecurityGroupsProps) {
    super(scope, id);
    const appPort = props.appPort ?? APP_CONTAINER_PORT;
    const group = (name: string, description: string) =>
      new SecurityGroup(this, name, {
        name: `${props.prefix}-${name}`,
        description,
        vpcId: props.vpcId,
        revokeRulesOnDelete: true,
        tags: { Name: `${props.prefix}-${name}` },
      });
    this.loadBalancer = group('lb', 'SelfMX load balancer: HTTP(S) from the internet');
    this.app = group('app', 'SelfMX app tasks: the app port from the load balancer');
    this.migration = group('migration', 'SelfMX migration task: no inbound traffic');
    this.database = group('db', 'SelfMX PostgreSQL: 5432 from the app and migration tasks');

    const publicPorts = props.https ? [80, 443] : [80];
    for (const port of publicPorts) {
      for (const [family, cidr] of [
        ['ipv4', '0.0.0.0/0'],
        ['ipv6', '::/0'],
      ] as const) {
        new VpcSecurityGroupIngressRule(this, `lb-${port}-${family}`, {
          securityGroupId: this.loadBalancer.id,
          description: `HTTP${port === 443 ? 'S' : ''} from the internet`,
          ipProtocol: 'tcp',
          fromPort: port,
          toPort: port,
          ...(family === 'ipv4' ? { cidrIpv4: cidr } : { cidrIpv6: cidr }),
        });
      }
    }
    new VpcSecurityGroupEgressRule(this, 'lb-to-app', {
      securityGroupId: this.loadBalancer.id,
      description: 'To the app tasks',
      ipProtocol: 'tcp',
      fromPort: appPort,
      toPort: appPort,
      referencedSecurityGroupId: this.app.id,
    });
    new VpcSecurityGroupIngressRule(this, 'app-from-lb', {
      securityGroupId: this.app.id,
      description: 'From the load balancer',
      ipProtocol: 'tcp',
      fromPort: appPort,
      toPort: appPort,
      referencedSecurityGroupId: this.loadBalancer.id,
    });
    const tasks = [
      ['app', this.app],
      ['migration', this.migration],
    ] as const;
    for (const [name, source] of tasks) {
      new VpcSecurityGroupIngressRule(this, `db-from-${name}`, {
        securityGroupId: this.database.id,
        description: `PostgreSQL from the ${name} tasks`,
        ipProtocol: 'tcp',
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        referencedSecurityGroupId: source.id,
      });
      new VpcSecurityGroupEgressRule(this, `${name}-to-db`, {
        securityGroupId: source.id,
        description: 'To PostgreSQL',
        ipProtocol: 'tcp',
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        referencedSecurityGroupId: this.database.id,
      });
      // ECR, Secrets Manager and CloudWatch Logs are HTTPS APIs, reached through NAT (S3 through
      // its gateway endpoint). DNS to the VPC resolver is not subject to security groups.
      new VpcSecurityGroupEgressRule(this, `${name}-to-aws-apis`, {
        securityGroupId: source.id,
        description: 'HTTPS to the AWS APIs (ECR, Secrets Manager, CloudWatch Logs)',
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        cidrIpv4: '0.0.0.0/0',
      });
    }
    new VpcSecurityGroupEgressRule(this, 'app-to-smtp', {
      securityGroupId: this.app.id,
      description: 'To the SMTP relay',
      ipProtocol: 'tcp',
      fromPort: props.smtpPort,
      toPort: props.smtpPort,
      cidrIpv4: '0.0.0.0/0',
    });
  }
}
