import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DbInstance, type DbInstanceConfig } from '@cdktf/provider-aws/lib/db-instance/index.js';
import { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group/index.js';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition/index.js';
import { Lb } from '@cdktf/provider-aws/lib/lb/index.js';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
import { SecurityGroupRule } from '@cdktf/provider-aws/lib/security-group-rule/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';
import { Aspects, TerraformStack, Testing } from 'cdktf';
import { ProductionGuardrails } from '../../stacks/aspects/production-guardrails.js';
import { AwsStack } from '../../stacks/aws-stack.js';
import { loadAwsConfig } from '../../stacks/config/aws-config.js';

/**
 * Builds a stack with deliberately bad resources, applies the guardrails and runs a full
 * synth: the error annotations must stop it. Returns the synth error's message.
 */
function synthWithGuardrails(build: (stack: TerraformStack) => void): string {
  const app = Testing.app();
  try {
    const stack = new TerraformStack(app, 'guarded');
    new AwsProvider(stack, 'aws', { region: 'us-east-1' });
    build(stack);
    Aspects.of(stack).add(new ProductionGuardrails());
    try {
      app.synth();
    } catch (error) {
      return (error as Error).message;
    }
    return '';
  } finally {
    rmSync(app.outdir, { recursive: true, force: true });
  }
}

/** A database that passes every guardrail; each test breaks one thing. */
function goodDatabase(stack: TerraformStack, overrides: Partial<DbInstanceConfig> = {}): void {
  const parameters = new DbParameterGroup(stack, 'parameters', {
    family: 'postgres15',
    parameter: [{ name: 'rds.force_ssl', value: '1' }],
  });
  new DbInstance(stack, 'db', {
    instanceClass: 'db.t4g.medium',
    engine: 'postgres',
    storageEncrypted: true,
    backupRetentionPeriod: 14,
    deletionProtection: true,
    skipFinalSnapshot: false,
    finalSnapshotIdentifier: 'db-final',
    publiclyAccessible: false,
    parameterGroupName: parameters.name,
    ...overrides,
  });
}

function containerDefinitions(environment: Record<string, string>): string {
  return JSON.stringify([
    {
      name: 'serve',
      image: 'selfmx:1',
      environment: Object.entries(environment).map(([name, value]) => ({ name, value })),
      secrets: [{ name: 'API_KEY', valueFrom: 'arn:aws:secretsmanager:us-east-1:1:secret:k' }],
    },
  ]);
}

function fires(message: string, resource: string, problem: RegExp, fix: RegExp): void {
  assert.match(message, /Production guardrail:/, `the guardrail did not fire:\n${message}`);
  assert.ok(message.includes(resource), `names ${resource}:\n${message}`);
  assert.match(message, problem);
  assert.match(message, fix);
}

describe('production guardrails (cdktf Aspect)', () => {
  test('a good database passes', () => {
    assert.equal(
      synthWithGuardrails((stack) => goodDatabase(stack)),
      '',
    );
  });

  test('storage not encrypted', () => {
    const message = synthWithGuardrails((stack) =>
      goodDatabase(stack, { storageEncrypted: false }),
    );
    fires(message, 'guarded/db', /has unencrypted storage/, /Fix: set storage_encrypted = true/);
  });

  test('backups under 7 days', () => {
    const message = synthWithGuardrails((stack) =>
      goodDatabase(stack, { backupRetentionPeriod: 3 }),
    );
    fires(
      message,
      'guarded/db',
      /keeps backups for 3 days, under 7/,
      /backup_retention_period >= 7/,
    );
  });

  test('no deletion protection', () => {
    const message = synthWithGuardrails((stack) =>
      goodDatabase(stack, { deletionProtection: false }),
    );
    fires(message, 'guarded/db', /has no deletion protection/, /set deletion_protection = true/);
  });

  test('no final snapshot', () => {
    const skipped = synthWithGuardrails((stack) =>
      goodDatabase(stack, { skipFinalSnapshot: true }),
    );
    fires(skipped, 'guarded/db', /takes no final snapshot/, /skip_final_snapshot = false/);
    const unnamed = synthWithGuardrails((stack) =>
      goodDatabase(stack, { finalSnapshotIdentifier: undefined }),
    );
    fires(unnamed, 'guarded/db', /takes no final snapshot/, /final_snapshot_identifier/);
  });

  test('a publicly accessible database', () => {
    const message = synthWithGuardrails((stack) =>
      goodDatabase(stack, { publiclyAccessible: true }),
    );
    fires(message, 'guarded/db', /is publicly accessible/, /publicly_accessible = false/);
  });

  test('SSL not forced: the default parameter group, or one without rds.force_ssl=1', () => {
    const defaults = synthWithGuardrails((stack) =>
      goodDatabase(stack, { parameterGroupName: undefined }),
    );
    fires(
      defaults,
      'guarded/db',
      /default parameter group, which does not force SSL/,
      /rds\.force_ssl = 1/,
    );
    const lax = synthWithGuardrails((stack) => {
      goodDatabase(stack);
      new DbParameterGroup(stack, 'lax', {
        family: 'postgres15',
        parameter: [{ name: 'rds.force_ssl', value: '0' }],
      });
    });
    fires(lax, 'guarded/lax', /does not force SSL/, /add the parameter rds\.force_ssl = 1/);
  });

  test('a secret in a container definition plain environment', () => {
    for (const name of [
      'DATABASE_URL',
      'API_KEY',
      'SMTP_PASS',
      'PGPASSWORD',
      'STRIPE_SECRET_KEY',
    ]) {
      const message = synthWithGuardrails((stack) => {
        new EcsTaskDefinition(stack, 'task', {
          family: 'selfmx',
          containerDefinitions: containerDefinitions({ LOG_LEVEL: 'info', [name]: 'leaked' }),
        });
      });
      fires(
        message,
        'guarded/task',
        new RegExp(`puts ${name} in the plain environment of container "serve"`),
        new RegExp(`move ${name} to the container's secrets`),
      );
      assert.ok(!message.includes('LOG_LEVEL'));
    }
    const clean = synthWithGuardrails((stack) => {
      new EcsTaskDefinition(stack, 'task', {
        family: 'selfmx',
        containerDefinitions: containerDefinitions({ LOG_LEVEL: 'info', DB_POOL_SIZE: '10' }),
      });
    });
    assert.equal(clean, '');
  });

  test('a security group open to 0.0.0.0/0 or ::/0, except the load balancer on 80/443', () => {
    const lbOnWeb = synthWithGuardrails((stack) => {
      const lb = new SecurityGroup(stack, 'lb-sg', { name: 'lb' });
      new Lb(stack, 'lb', { securityGroups: [lb.id], subnets: ['subnet-1', 'subnet-2'] });
      for (const port of [80, 443]) {
        new VpcSecurityGroupIngressRule(stack, `web-${port}`, {
          securityGroupId: lb.id,
          ipProtocol: 'tcp',
          fromPort: port,
          toPort: port,
          cidrIpv4: '0.0.0.0/0',
        });
      }
    });
    assert.equal(lbOnWeb, '');

    const sshOnLb = synthWithGuardrails((stack) => {
      const lb = new SecurityGroup(stack, 'lb-sg', { name: 'lb' });
      new Lb(stack, 'lb', { securityGroups: [lb.id], subnets: ['subnet-1', 'subnet-2'] });
      new VpcSecurityGroupIngressRule(stack, 'ssh', {
        securityGroupId: lb.id,
        ipProtocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        cidrIpv4: '0.0.0.0/0',
      });
    });
    fires(
      sshOnLb,
      'guarded/ssh',
      /lets 0\.0\.0\.0\/0 in on tcp port 22/,
      /allow only the load balancer on 80\/443/,
    );

    const webOnApp = synthWithGuardrails((stack) => {
      const app = new SecurityGroup(stack, 'app-sg', { name: 'app' });
      new VpcSecurityGroupIngressRule(stack, 'app-443', {
        securityGroupId: app.id,
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        cidrIpv6: '::/0',
      });
    });
    fires(webOnApp, 'guarded/app-443', /lets ::\/0 in on tcp port 443/, /load balancer/);

    const legacyRule = synthWithGuardrails((stack) => {
      const db = new SecurityGroup(stack, 'db-sg', { name: 'db' });
      new SecurityGroupRule(stack, 'postgres', {
        type: 'ingress',
        securityGroupId: db.id,
        protocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        cidrBlocks: ['0.0.0.0/0'],
      });
    });
    fires(legacyRule, 'guarded/postgres', /tcp port 5432/, /load balancer/);

    const inline = synthWithGuardrails((stack) => {
      new SecurityGroup(stack, 'wide-open', {
        name: 'wide-open',
        ingress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] }],
      });
    });
    fires(inline, 'guarded/wide-open', /in on every port/, /load balancer/);
  });

  test('the production stack itself: SELFMX_BACKUP_RETENTION_DAYS=3 fails its synth', () => {
    const app = Testing.app();
    try {
      new AwsStack(app, 'selfmx-aws', {
        config: loadAwsConfig({ SELFMX_BACKUP_RETENTION_DAYS: '3' }),
      });
      assert.throws(
        () => app.synth(),
        /aws_db_instance "selfmx-aws\/database\/instance" keeps backups for 3 days, under 7\. Fix: .*SELFMX_BACKUP_RETENTION_DAYS.*SELFMX_EPHEMERAL=true/,
      );
    } finally {
      rmSync(app.outdir, { recursive: true, force: true });
    }
  });

  test('an ephemeral environment is not guarded: 1-day backups synthesize', () => {
    const app = Testing.app();
    try {
      new AwsStack(app, 'selfmx-aws', { config: loadAwsConfig({ SELFMX_EPHEMERAL: 'true' }) });
      assert.doesNotThrow(() => app.synth());
    } finally {
      rmSync(app.outdir, { recursive: true, force: true });
    }
  });

  test('the production stack passes its own guardrails', () => {
    const app = Testing.app();
    try {
      new AwsStack(app, 'selfmx-aws', {
        config: loadAwsConfig({
          SELFMX_CERTIFICATE_ARN: 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123',
        }),
      });
      assert.doesNotThrow(() => app.synth());
    } finally {
      rmSync(app.outdir, { recursive: true, force: true });
    }
  });
});
