import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription/index.js';
import { Construct } from 'constructs';
import type { AlarmTarget } from '../../config/aws-config.js';

export interface AlarmsProps {
  readonly prefix: string;
  readonly target: AlarmTarget;
  readonly dbInstanceIdentifier: string;
  /** Connections SelfMX may use (max_connections minus reserved slots). */
  readonly connectionBudget: number;
  readonly allocatedStorageGb: number;
  readonly loadBalancerArnSuffix: string;
  readonly targetGroupArnSuffix: string;
  readonly clusterName: string;
  readonly serviceName: string;
}

const GIB = 1024 ** 3;

/**
 * CloudWatch alarms on what takes SelfMX down: database connections near the budget, database
 * CPU and free storage, target 5xx, unhealthy targets, service CPU. They notify an SNS topic:
 * one created for SELFMX_ALARM_EMAIL, or SELFMX_ALARM_TOPIC_ARN; without either they only show.
 */
export class Alarms extends Construct {
  readonly topicArn: string | undefined;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topicArn = this.notificationTopic(props);
    const actions = this.topicArn ? [this.topicArn] : [];
    const alarm = (
      name: string,
      description: string,
      metric: {
        namespace: string;
        metricName: string;
        statistic: string;
        dimensions: Record<string, string>;
      },
      comparison: 'GreaterThanThreshold' | 'LessThanThreshold',
      threshold: number,
      evaluationPeriods = 3,
    ) =>
      new CloudwatchMetricAlarm(this, name, {
        alarmName: `${props.prefix}-${name}`,
        alarmDescription: description,
        ...metric,
        period: 60,
        evaluationPeriods,
        comparisonOperator: comparison,
        threshold,
        treatMissingData: 'notBreaching',
        alarmActions: actions,
        okActions: actions,
      });

    const db = { DBInstanceIdentifier: props.dbInstanceIdentifier };
    const nearBudget = Math.floor(props.connectionBudget * 0.8);
    alarm(
      'db-connections',
      `Database connections above 80% of the ${props.connectionBudget} that max_connections leaves SelfMX: see docs/operations.md (scaling within the connection budget)`,
      {
        namespace: 'AWS/RDS',
        metricName: 'DatabaseConnections',
        statistic: 'Maximum',
        dimensions: db,
      },
      'GreaterThanThreshold',
      nearBudget,
    );
    alarm(
      'db-cpu',
      'Database CPU above 80% for 5 minutes',
      { namespace: 'AWS/RDS', metricName: 'CPUUtilization', statistic: 'Average', dimensions: db },
      'GreaterThanThreshold',
      80,
      5,
    );
    alarm(
      'db-free-storage',
      'Database free storage below 10% of the allocated storage (autoscaling may be at its maximum)',
      {
        namespace: 'AWS/RDS',
        metricName: 'FreeStorageSpace',
        statistic: 'Minimum',
        dimensions: db,
      },
      'LessThanThreshold',
      Math.round(props.allocatedStorageGb * GIB * 0.1),
    );
    const target = {
      LoadBalancer: props.loadBalancerArnSuffix,
      TargetGroup: props.targetGroupArnSuffix,
    };
    alarm(
      'target-5xx',
      'The app answered more than 10 5xx responses a minute (a 5xx is a bug or an outage)',
      {
        namespace: 'AWS/ApplicationELB',
        metricName: 'HTTPCode_Target_5XX_Count',
        statistic: 'Sum',
        dimensions: target,
      },
      'GreaterThanThreshold',
      10,
    );
    alarm(
      'unhealthy-hosts',
      'App tasks failing the /health check',
      {
        namespace: 'AWS/ApplicationELB',
        metricName: 'UnHealthyHostCount',
        statistic: 'Maximum',
        dimensions: target,
      },
      'GreaterThanThreshold',
      0,
    );
    alarm(
      'app-cpu',
      'App tasks above 80% CPU for 5 minutes: raise SELFMX_APP_COUNT within the connection budget',
      {
        namespace: 'AWS/ECS',
        metricName: 'CPUUtilization',
        statistic: 'Average',
        dimensions: { ClusterName: props.clusterName, ServiceName: props.serviceName },
      },
      'GreaterThanThreshold',
      80,
      5,
    );
  }

  private notificationTopic(props: AlarmsProps): string | undefined {
    if (props.target.kind === 'topic') return props.target.topicArn;
    if (props.target.kind === 'none') return undefined;
    // Not encrypted with alias/aws/sns: CloudWatch alarms cannot publish to a topic under that
    // key (its policy does not admit cloudwatch.amazonaws.com), and alarm texts hold no secret.
    const topic = new SnsTopic(this, 'topic', { name: `${props.prefix}-alarms` });
    new SnsTopicSubscription(this, 'email', {
      topicArn: topic.arn,
      protocol: 'email',
      endpoint: props.target.email,
    });
    return topic.arn;
  }
}
