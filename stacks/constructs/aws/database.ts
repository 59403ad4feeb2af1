import { DbInstance } from '@cdktf/provider-aws/lib/db-instance/index.js';
import { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group/index.js';
import { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { Construct } from 'constructs';
import { POSTGRES_MINOR_VERSION } from '../../config/deployment-environment-spec.js';
import { POSTGRES_PORT } from '../app-environment.js';

export interface DatabaseProps {
  readonly prefix: string;
  readonly instanceClass: string;
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  /** Encrypts storage, snapshots, Performance Insights and the master password secret. */
  readonly kmsKeyArn: string;
  /** Database and master user name. @default selfmx */
  readonly databaseName?: string;
  /** @default 20 */
  readonly allocatedStorageGb?: number;
  /** Storage autoscaling ceiling. @default 100 */
  readonly maxAllocatedStorageGb?: number;
  /** @default 14 */
  readonly backupRetentionDays?: number;
  /** Production protections: deletion protection, final snapshot, multi-AZ. @default true */
  readonly protect?: boolean;
}

/** The CA behind the RDS server certificate; the app verifies it with the image's global bundle. */
export const RDS_CA_CERT_IDENTIFIER = 'rds-ca-rsa2048-g1';
/** Performance Insights is not offered on the smallest burstable classes. */
const NO_PERFORMANCE_INSIGHTS = /^db\.t[34]g?\.(micro|small)$/;

/**
 * RDS for PostgreSQL 15: encrypted gp3 storage with autoscaling, automated backups, SSL forced,
 * the master password generated and kept by RDS in Secrets Manager (never in Terraform state).
 */
export class Database extends Construct {
  readonly instance: DbInstance;
  readonly parameterGroup: DbParameterGroup;
  readonly databaseName: string;
  readonly username: string;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const protect = props.protect ?? true;
    this.databaseName = props.databaseName ?? 'selfmx';
    this.username = this.databaseName;

    const subnets = new DbSubnetGroup(this, 'subnets', {
      name: `${props.prefix}-db`,
      subnetIds: props.subnetIds,
      tags: { Name: `${props.prefix}-db` },
    });
    this.parameterGroup = new DbParameterGroup(this, 'parameters', {
      name: `${props.prefix}-postgres15`,
      family: 'postgres15',
      description: 'SelfMX: TLS required for every connection',
      parameter: [
        { name: 'rds.force_ssl', value: '1' },
        // Slow statements show up in the exported postgresql log.
        { name: 'log_min_duration_statement', value: '1000' },
      ],
    });
    const monitoringRole = new IamRole(this, 'monitoring-role', {
      name: `${props.prefix}-rds-monitoring`,
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'monitoring.rds.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      }),
    });
    const monitoringPolicy = new IamRolePolicyAttachment(this, 'monitoring-policy', {
      role: monitoringRole.name,
      policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole',
    });

    const performanceInsights = !NO_PERFORMANCE_INSIGHTS.test(props.instanceClass);
    this.instance = new DbInstance(this, 'instance', {
      identifier: `${props.prefix}-db`,
      engine: 'postgres',
      // The exact minor of the local stack's default image. Pinned, so automatic minor upgrades
      // are off: RDS would move past the pinned version and Terraform would then try to go back.
      engineVersion: POSTGRES_MINOR_VERSION,
      instanceClass: props.instanceClass,
      dbName: this.databaseName,
      username: this.username,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: props.kmsKeyArn,
      port: POSTGRES_PORT,
      storageType: 'gp3',
      allocatedStorage: props.allocatedStorageGb ?? 20,
      maxAllocatedStorage: props.maxAllocatedStorageGb ?? 100,
      storageEncrypted: true,
      kmsKeyId: props.kmsKeyArn,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: props.securityGroupIds,
      publiclyAccessible: false,
      parameterGroupName: this.parameterGroup.name,
      caCertIdentifier: RDS_CA_CERT_IDENTIFIER,
      backupRetentionPeriod: props.backupRetentionDays ?? 14,
      backupWindow: '03:00-03:30',
      maintenanceWindow: 'sun:04:00-sun:05:00',
      copyTagsToSnapshot: true,
      deletionProtection: protect,
      skipFinalSnapshot: !protect,
      finalSnapshotIdentifier: protect ? `${props.prefix}-db-final` : undefined,
      deleteAutomatedBackups: !protect,
      multiAz: protect,
      performanceInsightsEnabled: performanceInsights,
      performanceInsightsKmsKeyId: performanceInsights ? props.kmsKeyArn : undefined,
      performanceInsightsRetentionPeriod: performanceInsights ? 7 : undefined,
      monitoringInterval: 60,
      monitoringRoleArn: monitoringRole.arn,
      enabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
      autoMinorVersionUpgrade: false,
      allowMajorVersionUpgrade: false,
      tags: { Name: `${props.prefix}-db` },
      dependsOn: [monitoringPolicy],
    });
  }

  get address(): string {
    return this.instance.address;
  }

  /** The RDS-managed secret ({"username", "password"}) holding the master credentials. */
  get masterSecretArn(): string {
    return this.instance.masterUserSecret.get(0).secretArn;
  }
}
