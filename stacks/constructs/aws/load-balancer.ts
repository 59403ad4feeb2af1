import { Lb } from '@cdktf/provider-aws/lib/lb/index.js';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener/index.js';
import { LbListenerRule } from '@cdktf/provider-aws/lib/lb-listener-rule/index.js';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group/index.js';
import type { Precondition } from 'cdktf';
import { Construct } from 'constructs';

export interface LoadBalancerProps {
  readonly prefix: string;
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  readonly appPort: number;
  /** An ACM certificate: HTTPS on 443, and HTTP redirects to it. Without: HTTP on 80 only. */
  readonly certificateArn?: string;
  /** @default true */
  readonly deletionProtection?: boolean;
  /**
   * Without a certificate: what must hold for Terraform to plan the plain HTTP listener (a
   * lifecycle precondition, checked before anything is created). @default none
   */
  readonly plainHttpPrecondition?: Precondition;
}

/** TLS 1.2 and 1.3 only. */
export const TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

/**
 * The only paths the load balancer forwards to the app; anything else (/metrics, /openapi.json,
 * scanners' guesses) gets a 404 from the load balancer itself.
 */
export const PUBLIC_PATHS = ['/v1/*', '/health'] as const;

/** The load balancer's answer for any other path, in the API's error shape. */
const NOT_FORWARDED = {
  type: 'fixed-response',
  fixedResponse: {
    statusCode: '404',
    contentType: 'application/json',
    messageBody: JSON.stringify({
      statusCode: 404,
      name: 'not_found',
      message: `no such endpoint: the API serves ${PUBLIC_PATHS.join(' and ')}`,
    }),
  },
};

/** The public application load balancer in front of the app tasks. */
export class LoadBalancer extends Construct {
  readonly lb: Lb;
  readonly targetGroup: LbTargetGroup;
  readonly url: string;
  /** The listener that forwards to the app (the service must wait for it). */
  readonly listener: LbListener;
  /** The rule that forwards PUBLIC_PATHS to the app (the service must wait for it too). */
  readonly publicPaths: LbListenerRule;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    this.lb = new Lb(this, 'lb', {
      name: props.prefix,
      loadBalancerType: 'application',
      internal: false,
      securityGroups: [props.securityGroupId],
      subnets: props.subnetIds,
      dropInvalidHeaderFields: true,
      enableDeletionProtection: props.deletionProtection ?? true,
      idleTimeout: 60,
    });
    this.targetGroup = new LbTargetGroup(this, 'app', {
      name: `${props.prefix}-app`,
      vpcId: props.vpcId,
      targetType: 'ip',
      protocol: 'HTTP',
      port: props.appPort,
      deregistrationDelay: '30',
      healthCheck: {
        path: '/health',
        matcher: '200',
        interval: 15,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      },
    });
    if (props.certificateArn) {
      this.listener = new LbListener(this, 'https', {
        loadBalancerArn: this.lb.arn,
        port: 443,
        protocol: 'HTTPS',
        sslPolicy: TLS_POLICY,
        certificateArn: props.certificateArn,
        defaultAction: [NOT_FORWARDED],
      });
      new LbListener(this, 'http-redirect', {
        loadBalancerArn: this.lb.arn,
        port: 80,
        protocol: 'HTTP',
        defaultAction: [
          {
            type: 'redirect',
            redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' },
          },
        ],
      });
      this.url = `https://${this.lb.dnsName}`;
    } else {
      this.listener = new LbListener(this, 'http', {
        loadBalancerArn: this.lb.arn,
        port: 80,
        protocol: 'HTTP',
        defaultAction: [NOT_FORWARDED],
        ...(props.plainHttpPrecondition
          ? { lifecycle: { precondition: [props.plainHttpPrecondition] } }
          : {}),
      });
      this.url = `http://${this.lb.dnsName}`;
    }
    this.publicPaths = new LbListenerRule(this, 'public-paths', {
      listenerArn: this.listener.arn,
      priority: 100,
      condition: [{ pathPattern: { values: [...PUBLIC_PATHS] } }],
      action: [{ type: 'forward', targetGroupArn: this.targetGroup.arn }],
    });
  }
}
