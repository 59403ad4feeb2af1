import { Aspects, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { ProductionGuardrails } from './aspects/production-guardrails.js';
import type { AwsConfig } from './config/aws-config.js';
import { APP_CONTAINER_PORT } from './constructs/app-environment.js';
import { Alarms } from './constructs/aws/alarms.js';
import { AppDeployment } from './constructs/aws/app-deployment.js';
import { Database } from './constructs/aws/database.js';
import { EncryptionKey } from './constructs/aws/encryption-key.js';
import { plainHttpOnlyWhenEphemeral } from './constructs/aws/https-requirement.js';
import { warnAboutInsecureDefaults } from './constructs/aws/insecure-defaults.js';
import { LoadBalancer } from './constructs/aws/load-balancer.js';
import { Network } from './constructs/aws/network.js';
import { SecurityGroups } from './constructs/aws/security-groups.js';
import { smtpRelayPort } from './constructs/aws/ses-relay.js';
import { addAwsOutputs } from './constructs/aws/stack-outputs.js';
import { configureAwsTerraform } from './constructs/aws/terraform-setup.js';

export interface AwsStackProps {
  /** The deployment's settings: loadAwsConfig(<the SELFMX_* variables>), as main.ts does. */
  readonly config: AwsConfig;
}

/**
 * selfmx-aws: RDS for PostgreSQL 15 (verify-full TLS, encrypted, backed up), SelfMX on ECS
 * Fargate behind an application load balancer, and a migration task that gates every release.
 * Production defaults; SELFMX_EPHEMERAL=true makes a throwaway environment that destroys cleanly.
 */
export class AwsStack extends TerraformStack {
  readonly config: AwsConfig;

  constructor(scope: Construct, id: string, props: AwsStackProps) {
    super(scope, id);
    const config = props.config;
    this.config = config;
    const prefix = `selfmx-${config.env}`;
    const protect = !config.ephemeral;
    configureAwsTerraform(this, config);

    const network = new Network(this, 'network', {
      prefix,
      region: config.region,
      existing: config.network,
      cidr: config.vpcCidr,
      natPerAz: protect,
    });
    const groups = new SecurityGroups(this, 'security-groups', {
      prefix,
      vpcId: network.vpcId,
      appPort: APP_CONTAINER_PORT,
      https: config.certificateArn !== undefined,
      smtpPort: smtpRelayPort(config.smtp),
    });
    const key = new EncryptionKey(this, 'encryption-key', {
      prefix,
      deletionWindowDays: protect ? 30 : 7,
    });
    const database = new Database(this, 'database', {
      prefix,
      ...config.db,
      subnetIds: network.privateSubnetIds,
      securityGroupIds: [groups.database.id],
      kmsKeyArn: key.arn,
      protect,
    });
    const loadBalancer = new LoadBalancer(this, 'load-balancer', {
      prefix,
      vpcId: network.vpcId,
      subnetIds: network.publicSubnetIds,
      securityGroupId: groups.loadBalancer.id,
      appPort: APP_CONTAINER_PORT,
      certificateArn: config.certificateArn,
      deletionProtection: protect,
      ...(config.certificateArn
        ? {}
        : { plainHttpPrecondition: plainHttpOnlyWhenEphemeral(this, config.ephemeral) }),
    });
    const app = new AppDeployment(this, {
      prefix,
      config,
      protect,
      network,
      groups,
      key,
      database,
      loadBalancer,
    });
    const alarms = new Alarms(this, 'alarms', {
      prefix,
      target: config.alarms,
      dbInstanceIdentifier: database.instance.identifier,
      connectionBudget: config.connectionBudget.available,
      allocatedStorageGb: config.db.allocatedStorageGb,
      loadBalancerArnSuffix: loadBalancer.lb.arnSuffix,
      targetGroupArnSuffix: loadBalancer.targetGroup.arnSuffix,
      clusterName: app.tasks.cluster.name,
      serviceName: app.service.service.name,
    });

    warnAboutInsecureDefaults(this, { ...config, protect });
    addAwsOutputs(this, { env: config.env, database, loadBalancer, app, alarms });
    if (protect) Aspects.of(this).add(new ProductionGuardrails());
  }
}
