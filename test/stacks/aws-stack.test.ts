import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AnnotationMetadataEntryType, Testing } from 'cdktf';
import type { Env } from '../../app/src/config/env-reader.js';
import { isSecretVariable } from '../../stacks/aspects/container-secrets-guardrail.js';
import { AwsStack } from '../../stacks/aws-stack.js';
import { loadAwsConfig } from '../../stacks/config/aws-config.js';
import { maxConnections } from '../../stacks/config/connection-budget.js';
import { RDS_CA_BUNDLE_PATH } from '../../stacks/constructs/aws/task-environments.js';
import { REPOSITORY_ROOT, releaseHash } from '../../stacks/constructs/release-hash.js';
import {
  resourcesOfType,
  synthesizeToDirectory,
  synthStack,
  type TerraformJson,
} from '../support/synth.js';

function synthAws(env: Env = {}): TerraformJson {
  return synthStack((app) => new AwsStack(app, 'selfmx-aws', { config: loadAwsConfig(env) }));
}

/** The one resource of a type whose logical id starts with `prefix` (ids end in a hash). */
function find(json: TerraformJson, type: string, prefix: string): TerraformJson {
  const matches = Object.entries(resourcesOfType(json, type)).filter(([name]) =>
    name.startsWith(prefix),
  );
  const names = Object.keys(resourcesOfType(json, type)).join(', ');
  assert.equal(matches.length, 1, `one ${type} named ${prefix}* (have: ${names})`);
  return (matches[0] as [string, TerraformJson])[1];
}

function all(json: TerraformJson, type: string): TerraformJson[] {
  return Object.values(resourcesOfType(json, type));
}

interface ContainerDefinition {
  name: string;
  image: string;
  command: string[];
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  portMappings: { containerPort: number }[];
  logConfiguration: { logDriver: string; options: Record<string, string> };
}

function container(json: TerraformJson, name: 'serve' | 'migrate'): ContainerDefinition {
  const task = find(json, 'aws_ecs_task_definition', `${name}-task`);
  const [definition] = JSON.parse(task.container_definitions) as ContainerDefinition[];
  assert.ok(definition);
  return definition;
}

const environmentOf = (definition: ContainerDefinition) =>
  Object.fromEntries(definition.environment.map(({ name, value }) => [name, value]));
const secretsOf = (definition: ContainerDefinition) =>
  Object.fromEntries(definition.secrets.map(({ name, valueFrom }) => [name, valueFrom]));

/**
 * A precondition as `terraform plan` evaluates it, for the only form the stacks use: one
 * reference to a local value. Anything else fails, so the test cannot pass on a condition it
 * does not understand.
 */
function planCondition(json: TerraformJson, condition: string): unknown {
  const reference = /^\$\{local\.([a-z_]+)\}$/.exec(condition);
  assert.ok(reference?.[1], `cannot evaluate ${condition}`);
  assert.ok(reference[1] in (json.locals ?? {}), `local.${reference[1]} is not declared`);
  return json.locals[reference[1]];
}

const production = synthAws();

/** The DATABASE_URL each task's secret holds (serve's names the app role, migrate's the master). */
const databaseUrls = (json: TerraformJson): Record<'serve' | 'migrate', string> =>
  Object.fromEntries(
    all(json, 'aws_secretsmanager_secret_version')
      .filter((v) => v.secret_id.includes('database-url'))
      .map((v) => [v.secret_id.includes('serve-') ? 'serve' : 'migrate', v.secret_string]),
  ) as Record<'serve' | 'migrate', string>;
const ephemeral = synthAws({ SELFMX_ENV: 'pr-42', SELFMX_EPHEMERAL: 'true' });

describe('selfmx-aws with no SELFMX_* set: production defaults', () => {
  const db = find(production, 'aws_db_instance', 'database_instance');

  test('RDS for PostgreSQL 15, encrypted gp3 storage with autoscaling, KMS', () => {
    assert.equal(db.engine, 'postgres');
    assert.equal(db.engine_version, '15.20', "the local default image's minor");
    assert.equal(db.instance_class, 'db.t4g.medium');
    assert.equal(db.storage_type, 'gp3');
    assert.equal(db.allocated_storage, 20);
    assert.equal(db.max_allocated_storage, 100);
    assert.equal(db.storage_encrypted, true);
    assert.match(db.kms_key_id, /^\$\{aws_kms_key\.encryption-key_\w+\.arn\}$/);
    assert.equal(find(production, 'aws_kms_key', 'encryption-key').enable_key_rotation, true);
  });

  test('backups: 14 days, windows, tags copied, final snapshot, deletion protection', () => {
    assert.equal(db.backup_retention_period, 14);
    assert.match(db.backup_window, /^\d\d:\d\d-\d\d:\d\d$/);
    assert.match(db.maintenance_window, /^[a-z]{3}:\d\d:\d\d-[a-z]{3}:\d\d:\d\d$/);
    assert.equal(db.copy_tags_to_snapshot, true);
    assert.equal(db.skip_final_snapshot, false);
    assert.equal(db.final_snapshot_identifier, 'selfmx-dev-db-final');
    assert.equal(db.deletion_protection, true);
    assert.equal(db.delete_automated_backups, false);
  });

  test('multi-AZ, Performance Insights, enhanced monitoring, log export, minor upgrades', () => {
    assert.equal(db.multi_az, true);
    assert.equal(db.performance_insights_enabled, true);
    assert.equal(db.monitoring_interval, 60);
    assert.match(db.monitoring_role_arn, /aws_iam_role\.database_monitoring-role/);
    const role = find(production, 'aws_iam_role', 'database_monitoring-role');
    assert.match(role.assume_role_policy, /monitoring\.rds\.amazonaws\.com/);
    assert.match(
      find(production, 'aws_iam_role_policy_attachment', 'database_monitoring-policy').policy_arn,
      /AmazonRDSEnhancedMonitoringRole$/,
    );
    assert.deepEqual(db.enabled_cloudwatch_logs_exports, ['postgresql', 'upgrade']);
    assert.equal(db.auto_minor_version_upgrade, false, 'pinned: upgrades are deployed');
  });

  test('SSL forced by a postgres15 parameter group, CA pinned, not public', () => {
    const group = find(production, 'aws_db_parameter_group', 'database_parameters');
    assert.equal(group.family, 'postgres15');
    assert.ok(
      group.parameter.some(
        (p: { name: string; value: string }) => p.name === 'rds.force_ssl' && p.value === '1',
      ),
    );
    assert.match(db.parameter_group_name, /aws_db_parameter_group\.database_parameters/);
    assert.equal(db.ca_cert_identifier, 'rds-ca-rsa2048-g1');
    assert.equal(db.publicly_accessible, false);
  });

  test('the master password is managed by RDS: no password anywhere in the stack', () => {
    assert.equal(db.manage_master_user_password, true);
    assert.equal(db.password, undefined);
    assert.equal(db.username, 'selfmx');
    // The random passwords are the API key's and the app role's; none is the master's.
    assert.deepEqual(Object.keys(resourcesOfType(production, 'random_password')).sort(), [
      'api_key',
      'app_db_password',
    ]);
  });

  test('a VPC across 2 AZs: public subnets for the load balancer, private for RDS and tasks', () => {
    assert.equal(all(production, 'aws_vpc').length, 1);
    const subnets = Object.entries(resourcesOfType(production, 'aws_subnet'));
    const publicIds = subnets.filter(([, s]) => s.tags.Tier === 'public').map(([n]) => n);
    const privateIds = subnets.filter(([, s]) => s.tags.Tier === 'private').map(([n]) => n);
    assert.equal(publicIds.length, 2);
    assert.equal(privateIds.length, 2);
    for (const [, subnet] of subnets) {
      assert.match(subnet.availability_zone, /element\(data\.aws_availability_zones/);
      assert.equal(subnet.map_public_ip_on_launch ?? false, false);
    }
    assert.equal(all(production, 'aws_nat_gateway').length, 2, 'one NAT gateway per AZ');
    assert.equal(all(production, 'aws_internet_gateway').length, 1);
    const refs = (ids: string[]) => ids.map((name) => `\${aws_subnet.${name}.id}`).sort();
    assert.deepEqual(
      [...find(production, 'aws_db_subnet_group', 'database_subnets').subnet_ids].sort(),
      refs(privateIds),
    );
    const service = find(production, 'aws_ecs_service', 'app_service');
    assert.deepEqual([...service.network_configuration.subnets].sort(), refs(privateIds));
    assert.equal(service.network_configuration.assign_public_ip, false);
    assert.deepEqual(
      [...find(production, 'aws_lb', 'load-balancer_lb').subnets].sort(),
      refs(publicIds),
    );
  });

  test('PostgreSQL accepts 5432 only from the app and migration security groups', () => {
    const ingress = all(production, 'aws_vpc_security_group_ingress_rule');
    const toDb = ingress.filter((rule) => rule.security_group_id.includes('security-groups_db_'));
    assert.equal(toDb.length, 2);
    for (const rule of toDb) {
      assert.equal(rule.from_port, 5432);
      assert.equal(rule.to_port, 5432);
      assert.equal(rule.cidr_ipv4, undefined);
      assert.equal(rule.cidr_ipv6, undefined);
    }
    assert.deepEqual(
      toDb
        .map((rule) => rule.referenced_security_group_id.replace(/_[0-9A-F]{8}\.id\}$/, ''))
        .sort(),
      [
        '${aws_security_group.security-groups_app',
        '${aws_security_group.security-groups_migration',
      ],
    );
    assert.deepEqual(
      find(production, 'aws_db_instance', 'database_instance').vpc_security_group_ids,
      [expect(ingress, 'security-groups_db_')],
    );
  });

  test('tasks may only reach PostgreSQL, HTTPS (AWS APIs) and, for the app, the SMTP port', () => {
    const egress = all(production, 'aws_vpc_security_group_egress_rule');
    const of = (group: string) =>
      egress
        .filter((rule) => rule.security_group_id.includes(`security-groups_${group}_`))
        .map((rule) => `${rule.ip_protocol}/${rule.from_port}/${rule.cidr_ipv4 ?? 'sg'}`)
        .sort();
    assert.deepEqual(of('app'), ['tcp/443/0.0.0.0/0', 'tcp/5432/sg', 'tcp/587/0.0.0.0/0']);
    assert.deepEqual(of('migration'), ['tcp/443/0.0.0.0/0', 'tcp/5432/sg']);
    assert.deepEqual(of('lb'), ['tcp/8080/sg']);
    assert.deepEqual(of('db'), []);
    const relay = synthAws({ SELFMX_SMTP_HOST: 'smtp.example.com', SELFMX_SMTP_PORT: '465' });
    assert.ok(
      all(relay, 'aws_vpc_security_group_egress_rule').some(
        (rule) => rule.security_group_id.includes('security-groups_app_') && rule.from_port === 465,
      ),
    );
  });

  test('nothing is open to the internet but the load balancer on 80 (443 with a certificate)', () => {
    const open = all(production, 'aws_vpc_security_group_ingress_rule').filter(
      (rule) => rule.cidr_ipv4 !== undefined || rule.cidr_ipv6 !== undefined,
    );
    assert.deepEqual(
      open.map((rule) => [rule.from_port, rule.to_port, rule.cidr_ipv4 ?? rule.cidr_ipv6]).sort(),
      [
        [80, 80, '0.0.0.0/0'],
        [80, 80, '::/0'],
      ],
    );
    for (const rule of open) assert.match(rule.security_group_id, /security-groups_lb_/);
    const withTls = synthAws({ SELFMX_CERTIFICATE_ARN: CERTIFICATE });
    const ports = all(withTls, 'aws_vpc_security_group_ingress_rule')
      .filter((rule) => rule.cidr_ipv4 === '0.0.0.0/0')
      .map((rule) => rule.from_port)
      .sort();
    assert.deepEqual(ports, [443, 80]);
  });

  test('ECR: immutable tags, scan on push, image tagged with the hash of the sources', () => {
    const repository = find(production, 'aws_ecr_repository', 'image_repository');
    assert.equal(repository.image_tag_mutability, 'IMMUTABLE');
    assert.equal(repository.image_scanning_configuration.scan_on_push, true);
    assert.equal(repository.force_delete, false);
    const build = find(production, 'terraform_data', 'image_build-and-push');
    const tag = `sha-${releaseHash().slice(0, 16)}`;
    assert.equal(build.triggers_replace.tag, tag);
    const exec = build.provisioner[0]['local-exec'];
    assert.equal(exec.command, `${FROM_STACK}/stacks/scripts/build-and-push-image.sh`);
    assert.equal(exec.environment.BUILD_CONTEXT, FROM_STACK);
    assert.equal(exec.environment.IMAGE_TAG, tag);
    assert.ok(container(production, 'serve').image.endsWith(`:${tag}`));
    assert.ok(container(production, 'migrate').image.endsWith(`:${tag}`));
  });

  test('ECS cluster with Container Insights; serve and migrate task definitions', () => {
    assert.deepEqual(find(production, 'aws_ecs_cluster', 'cluster').setting, [
      { name: 'containerInsights', value: 'enabled' },
    ]);
    const serve = container(production, 'serve');
    const migrate = container(production, 'migrate');
    assert.deepEqual(serve.command, ['serve']);
    assert.deepEqual(migrate.command, ['migrate']);
    assert.deepEqual(
      serve.portMappings.map((p) => p.containerPort),
      [8080],
    );
    for (const task of ['serve-task', 'migrate-task']) {
      const definition = find(production, 'aws_ecs_task_definition', task);
      assert.deepEqual(definition.requires_compatibilities, ['FARGATE']);
      assert.equal(definition.network_mode, 'awsvpc');
    }
    assert.equal(environmentOf(serve).DB_AUTO_MIGRATE, 'false');
    for (const name of ['DB_POOL_SIZE', 'DB_POOL_TIMEOUT', 'DB_IDLE_TIMEOUT']) {
      assert.equal(environmentOf(serve)[name], environmentOf(migrate)[name], name);
    }
    // serve connects as the app role, migrate as the master user: two URLs.
    assert.match(secretsOf(serve).DATABASE_URL ?? '', /secrets_serve-database-url_/);
    assert.match(secretsOf(migrate).DATABASE_URL ?? '', /secrets_database-url_/);
  });

  test('serve connects as a login member of selfmx_app; migrate keeps the master user', () => {
    const serve = secretsOf(container(production, 'serve'));
    const migrate = secretsOf(container(production, 'migrate'));
    const appPassword = find(production, 'aws_secretsmanager_secret', 'secrets_app-db-password');
    assert.equal(appPassword.name, 'selfmx-dev/app-db-password');
    const appPasswordRef = serve.PGPASSWORD;
    assert.match(
      appPasswordRef ?? '',
      /^\$\{aws_secretsmanager_secret\.secrets_app-db-password_\w+\.arn\}:::\$\{aws_secretsmanager_secret_version\.secrets_app-db-password-value_\w+\.version_id\}$/,
      'pinned to the version that holds the password',
    );
    assert.equal(migrate.APP_DB_PASSWORD, appPasswordRef, 'migrate sets the password serve uses');
    assert.equal(environmentOf(container(production, 'migrate')).APP_DB_USER, 'selfmx_app_a');
    assert.equal(environmentOf(container(production, 'serve')).APP_DB_USER, undefined);
    assert.match(migrate.PGPASSWORD ?? '', /master_user_secret\[0\]\.secret_arn\}:password::$/);
    const version = find(
      production,
      'aws_secretsmanager_secret_version',
      'secrets_app-db-password-value',
    );
    assert.equal(version.secret_string, `\${random_password.app_db_password.result}`);
    assert.equal(resourcesOfType(production, 'random_password').app_db_password?.special, false);
    assert.match(databaseUrls(production).serve, /^postgres:\/\/selfmx_app_a@/);
    assert.match(databaseUrls(production).migrate, /^postgres:\/\/selfmx@/);
    assert.ok(production.output.app_db_password_secret_arn);
  });

  test('SELFMX_APP_DB_USER=b moves serve and the migration job to selfmx_app_b, same addresses', () => {
    const flipped = synthAws({ SELFMX_APP_DB_USER: 'b' });
    assert.match(databaseUrls(flipped).serve, /^postgres:\/\/selfmx_app_b@/);
    assert.equal(environmentOf(container(flipped, 'migrate')).APP_DB_USER, 'selfmx_app_b');
    assert.deepEqual(databaseUrls(flipped).migrate, databaseUrls(production).migrate);
    for (const type of ['aws_secretsmanager_secret', 'aws_secretsmanager_secret_version']) {
      assert.deepEqual(
        Object.keys(resourcesOfType(flipped, type)).sort(),
        Object.keys(resourcesOfType(production, type)).sort(),
        type,
      );
    }
    assert.throws(
      () => loadAwsConfig({ SELFMX_APP_DB_USER: 'selfmx_app_b' }),
      /SELFMX_APP_DB_USER/,
    );
  });

  test('every app secret is pinned to its version: a new value is a new task definition', () => {
    const versions = Object.keys(resourcesOfType(production, 'aws_secretsmanager_secret_version'));
    for (const name of ['serve', 'migrate'] as const) {
      for (const { name: variable, valueFrom } of container(production, name).secrets) {
        if (valueFrom.includes('master_user_secret')) continue;
        const pinned =
          /^\$\{aws_secretsmanager_secret\.([\w-]+)_\w+\.arn\}:::\$\{aws_secretsmanager_secret_version\.([\w-]+)\.version_id\}$/.exec(
            valueFrom,
          );
        assert.ok(pinned, `${name} ${variable}: ${valueFrom}`);
        assert.ok(pinned[2]?.startsWith(`${pinned[1]}-value_`), `${variable}: its own version`);
        assert.ok(versions.includes(pinned[2] ?? ''), `${variable}: a declared version`);
      }
    }
  });

  test("serve's TRUST_PROXY is the VPC's CIDR: X-Forwarded-For is trusted only from the load balancer", () => {
    assert.equal(environmentOf(container(production, 'serve')).TRUST_PROXY, '10.40.0.0/16');
    assert.equal(environmentOf(container(production, 'migrate')).TRUST_PROXY, undefined);
    const custom = synthAws({ SELFMX_VPC_CIDR: '10.99.0.0/16' });
    assert.equal(environmentOf(container(custom, 'serve')).TRUST_PROXY, '10.99.0.0/16');
    const existing = synthAws(EXISTING_VPC);
    assert.match(
      environmentOf(container(existing, 'serve')).TRUST_PROXY ?? '',
      /^\$\{data\.aws_vpc\.network_existing-vpc_\w+\.cidr_block\}$/,
    );
    const [vpc] = Object.values(existing.data.aws_vpc) as TerraformJson[];
    assert.equal(vpc?.id, EXISTING_VPC.SELFMX_VPC_ID);
  });

  test('DATABASE_URL, API_KEY and the passwords reach containers only through secrets', () => {
    for (const name of ['serve', 'migrate'] as const) {
      const definition = container(production, name);
      const plain = definition.environment.map((variable) => variable.name);
      assert.deepEqual(plain.filter(isSecretVariable), [], `${name} environment`);
      for (const secret of definition.secrets) {
        assert.match(secret.valueFrom, /^\$\{(aws_secretsmanager_secret|aws_db_instance)\./);
      }
    }
    const serve = secretsOf(container(production, 'serve'));
    assert.deepEqual(Object.keys(serve).sort(), ['API_KEY', 'DATABASE_URL', 'PGPASSWORD']);
    assert.deepEqual(Object.keys(secretsOf(container(production, 'migrate'))).sort(), [
      'APP_DB_PASSWORD',
      'DATABASE_URL',
      'PGPASSWORD',
    ]);
    // With an SMTP password it goes the same way.
    const smtp = synthAws({
      SELFMX_SMTP_HOST: 'smtp.example.com',
      SELFMX_SMTP_USER: 'selfmx',
      SELFMX_SMTP_PASS: 'relay-password-not-in-json',
    });
    const smtpServe = container(smtp, 'serve');
    assert.match(
      secretsOf(smtpServe).SMTP_PASS ?? '',
      /aws_secretsmanager_secret\.secrets_smtp-pass/,
    );
    assert.equal(environmentOf(smtpServe).SMTP_PASS, undefined);
    assert.equal(environmentOf(smtpServe).SMTP_USER, 'selfmx');
    assert.ok(!JSON.stringify(smtp).includes('relay-password-not-in-json'));
    assert.equal(smtp.variable.smtp_pass.sensitive, true);
  });

  test("the app's DATABASE_URL says sslmode=verify-full with the image's RDS CA bundle, no password", () => {
    const versions = all(production, 'aws_secretsmanager_secret_version');
    const value = versions.find((v) => v.secret_id.includes('_database-url'))?.secret_string;
    assert.ok(value);
    const url = new URL(value.replace(/\$\{[^}]+\}/, 'rds.example.internal'));
    assert.equal(url.protocol, 'postgres:');
    assert.equal(url.username, 'selfmx');
    assert.equal(url.password, '');
    assert.equal(url.port, '5432');
    assert.equal(url.pathname, '/selfmx');
    assert.equal(url.searchParams.get('sslmode'), 'verify-full');
    assert.equal(url.searchParams.get('sslrootcert'), RDS_CA_BUNDLE_PATH);
    assert.equal(RDS_CA_BUNDLE_PATH, '/app/certs/rds-global-bundle.pem');
    assert.match(
      value,
      /^postgres:\/\/selfmx@\$\{aws_db_instance\.database_instance_\w+\.address\}:5432/,
    );
  });

  test('the API key is generated, or taken from TF_VAR_api_key: never written into the JSON', () => {
    assert.equal(production.output.api_key.sensitive, true);
    const key = 'k'.repeat(40);
    const given = synthAws({ SELFMX_API_KEY: key });
    assert.ok(!JSON.stringify(given).includes(key));
    assert.equal(given.variable.api_key.sensitive, true);
    assert.deepEqual(Object.keys(resourcesOfType(given, 'random_password')), ['app_db_password']);
  });

  test('application load balancer: /health check, invalid headers dropped, HTTP without a certificate', () => {
    const lb = find(production, 'aws_lb', 'load-balancer_lb');
    assert.equal(lb.load_balancer_type, 'application');
    assert.equal(lb.drop_invalid_header_fields, true);
    assert.equal(lb.enable_deletion_protection, true);
    const target = find(production, 'aws_lb_target_group', 'load-balancer_app');
    assert.equal(target.health_check.path, '/health');
    assert.equal(target.target_type, 'ip');
    assert.equal(target.port, 8080);
    const listeners = all(production, 'aws_lb_listener');
    assert.deepEqual(
      listeners.map((l) => [l.port, l.protocol, l.default_action[0].type]),
      [[80, 'HTTP', 'fixed-response']],
    );
    assert.match(production.output.api_url.value, /^http:\/\/\$\{aws_lb\./);
  });

  test('without a certificate, a production stack is refused at plan, naming SELFMX_CERTIFICATE_ARN', () => {
    const [listener] = all(production, 'aws_lb_listener');
    const [precondition, ...others] = listener?.lifecycle?.precondition ?? [];
    assert.deepEqual(others, []);
    assert.match(precondition?.condition, /^\$\{local\.selfmx_ephemeral\}$/);
    assert.match(precondition?.error_message, /^SELFMX_CERTIFICATE_ARN is unset: .*HTTPS only/);
    assert.match(precondition?.error_message, /SELFMX_EPHEMERAL=true/);
    // Terraform is not installed here: evaluate the one-reference condition as plan would.
    assert.equal(planCondition(production, precondition.condition), false, 'production: refused');
    assert.equal(planCondition(ephemeral, precondition.condition), true, 'ephemeral: allowed');
    const withTls = synthAws({ SELFMX_CERTIFICATE_ARN: CERTIFICATE });
    assert.equal(withTls.locals, undefined);
    for (const l of all(withTls, 'aws_lb_listener')) assert.equal(l.lifecycle, undefined);
  });

  test('the load balancer forwards only /v1/* and /health; anything else is its own 404', () => {
    for (const json of [production, synthAws({ SELFMX_CERTIFICATE_ARN: CERTIFICATE })]) {
      const forwarding = all(json, 'aws_lb_listener').filter(
        (l) => l.protocol !== 'HTTP' || !l.default_action[0].redirect,
      );
      assert.equal(forwarding.length, 1);
      const [listener] = forwarding;
      const notFound = listener?.default_action[0];
      assert.equal(notFound.type, 'fixed-response');
      assert.equal(notFound.fixed_response.status_code, '404');
      assert.equal(JSON.parse(notFound.fixed_response.message_body).name, 'not_found');
      const rules = all(json, 'aws_lb_listener_rule');
      assert.equal(rules.length, 1);
      const [rule] = rules;
      const protocol = listener?.port === 443 ? 'https' : 'http';
      assert.match(rule?.listener_arn, new RegExp(`aws_lb_listener\\.load-balancer_${protocol}_`));
      assert.deepEqual(rule?.condition, [{ path_pattern: { values: ['/v1/*', '/health'] } }]);
      assert.deepEqual(rule?.action, [
        {
          type: 'forward',
          target_group_arn: `\${aws_lb_target_group.load-balancer_app_9BAB60E1.arn}`,
        },
      ]);
      const service = find(json, 'aws_ecs_service', 'app_service');
      assert.ok(service.depends_on.some((d: string) => d.startsWith('aws_lb_listener_rule.')));
    }
  });

  test('with SELFMX_CERTIFICATE_ARN: HTTPS on 443 and HTTP redirects to it', () => {
    const json = synthAws({ SELFMX_CERTIFICATE_ARN: CERTIFICATE });
    const listeners = Object.fromEntries(all(json, 'aws_lb_listener').map((l) => [l.port, l]));
    assert.equal(listeners[443]?.protocol, 'HTTPS');
    assert.equal(listeners[443]?.certificate_arn, CERTIFICATE);
    assert.match(listeners[443]?.ssl_policy, /TLS13/);
    assert.equal(listeners[443]?.default_action[0].type, 'fixed-response');
    // Port 80 only redirects: one action, no rule on it, nothing forwarded in plain HTTP.
    assert.deepEqual(listeners[80]?.default_action, [
      { type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', status_code: 'HTTP_301' } },
    ]);
    assert.equal(listeners[80]?.protocol, 'HTTP');
    for (const rule of all(json, 'aws_lb_listener_rule')) {
      assert.match(rule.listener_arn, /load-balancer_https_/);
    }
    assert.match(json.output.api_url.value, /^https:\/\//);
  });

  test('the service: SELFMX_APP_COUNT tasks, rolling at 200 %, behind the migration job', () => {
    const service = find(production, 'aws_ecs_service', 'app_service');
    assert.equal(service.desired_count, 2);
    assert.equal(service.deployment_maximum_percent, 200);
    assert.equal(service.deployment_minimum_healthy_percent, 100);
    assert.deepEqual(service.deployment_circuit_breaker, { enable: true, rollback: true });
    assert.equal(service.wait_for_steady_state, true);
    assert.ok(service.depends_on.some((d: string) => d.startsWith('terraform_data.migration_run')));
    assert.equal(service.load_balancer[0].container_name, 'serve');
    assert.equal(
      find(synthAws({ SELFMX_APP_COUNT: '4' }), 'aws_ecs_service', 'app_service').desired_count,
      4,
    );
  });

  test('the migration job runs on every new migrate task definition, before the service', () => {
    const job = find(production, 'terraform_data', 'migration_run');
    assert.match(
      job.triggers_replace.taskDefinition,
      /^\$\{aws_ecs_task_definition\.migrate-task\.arn\}$/,
    );
    for (const dependency of [
      'terraform_data.image_build-and-push',
      'aws_db_instance.database_instance',
      'aws_iam_role_policy.task-roles_execution-policy',
      'aws_secretsmanager_secret_version.secrets_database-url-value',
      'aws_route.network_private-0-default',
      'aws_route.network_private-1-default',
    ]) {
      assert.ok(
        job.depends_on.some((d: string) => d.startsWith(dependency)),
        `depends on ${dependency}`,
      );
    }
    const exec = job.provisioner[0]['local-exec'];
    assert.equal(exec.command, `${FROM_STACK}/stacks/scripts/run-migration.sh`);
    assert.match(
      exec.environment.TASK_DEFINITION,
      /^\$\{aws_ecs_task_definition\.migrate-task\.arn\}$/,
    );
    assert.equal(exec.environment.CONTAINER_NAME, 'migrate');
    assert.match(exec.environment.SECURITY_GROUPS, /security-groups_migration/);
    assert.match(production.output.migrate_command.value, /stacks\/scripts\/run-migration\.sh$/);
    assert.match(
      production.output.migrate_command.value,
      /TASK_DEFINITION=\$\{aws_ecs_task_definition\.migrate-task\.family\}/,
    );
  });

  test('CloudWatch logs with a retention; scoped IAM roles', () => {
    assert.equal(find(production, 'aws_cloudwatch_log_group', 'logs').retention_in_days, 90);
    const policy = JSON.parse(
      find(production, 'aws_iam_role_policy', 'task-roles_execution-policy').policy,
    );
    const statements = policy.Statement as {
      Action: string | string[];
      Resource: string | string[];
    }[];
    const wildcard = statements.filter((s) => s.Resource === '*');
    assert.deepEqual(
      wildcard.map((s) => s.Action),
      ['ecr:GetAuthorizationToken'],
    );
    const secrets = statements.find((s) => s.Action === 'secretsmanager:GetSecretValue');
    assert.ok(secrets);
    assert.equal(
      (secrets.Resource as string[]).length,
      5,
      'two DATABASE_URLs, APP_DB_PASSWORD, API_KEY, RDS master',
    );
    for (const arn of secrets.Resource as string[])
      assert.match(arn, /^\$\{aws_(secretsmanager_secret|db_instance)\./);
    assert.equal(all(production, 'aws_iam_role_policy').length, 1, 'the task role has no policy');
    assert.equal(
      all(production, 'aws_iam_role_policy_attachment').length,
      1,
      'only RDS monitoring',
    );
  });

  test('alarms on connections near the budget, CPU, free storage, 5xx, unhealthy hosts', () => {
    const alarms = Object.fromEntries(
      all(production, 'aws_cloudwatch_metric_alarm').map((a) => [a.metric_name, a]),
    );
    const available = maxConnections('db.t4g.medium') - 5;
    assert.equal(alarms.DatabaseConnections?.threshold, Math.floor(available * 0.8));
    for (const metric of [
      'CPUUtilization',
      'FreeStorageSpace',
      'HTTPCode_Target_5XX_Count',
      'UnHealthyHostCount',
    ]) {
      assert.ok(alarms[metric], metric);
    }
    assert.deepEqual(alarms.DatabaseConnections?.alarm_actions, []);
    const emailed = synthAws({ SELFMX_ALARM_EMAIL: 'ops@example.com' });
    assert.equal(
      find(emailed, 'aws_sns_topic_subscription', 'alarms_email').endpoint,
      'ops@example.com',
    );
    for (const alarm of all(emailed, 'aws_cloudwatch_metric_alarm')) {
      assert.match(alarm.alarm_actions[0], /aws_sns_topic\.alarms_topic/);
    }
    const topic = 'arn:aws:sns:us-east-1:123456789012:ops-pager';
    const existing = synthAws({ SELFMX_ALARM_TOPIC_ARN: topic });
    assert.equal(all(existing, 'aws_sns_topic').length, 0);
    for (const alarm of all(existing, 'aws_cloudwatch_metric_alarm'))
      assert.deepEqual(alarm.alarm_actions, [topic]);
  });

  test('state: local by a relative path per environment; outputs', () => {
    assert.deepEqual(production.terraform.backend, {
      local: { path: '../../../terraform.selfmx-aws.dev.tfstate' },
    });
    assert.equal(production.terraform.required_version, '>= 1.5.0');
    for (const name of [
      'api_url',
      'rds_endpoint',
      'database_url_secret_arn',
      'api_key_secret_arn',
      'database_master_secret_arn',
      'migrate_command',
    ]) {
      assert.ok(production.output[name], name);
    }
  });

  test('synth warns, on the stack, about SES without credentials and plain HTTP in production', () => {
    const warnings = (env: Env) => {
      const app = Testing.app();
      try {
        const stack = new AwsStack(app, 'selfmx-aws', { config: loadAwsConfig(env) });
        return stack.node.metadata
          .filter((entry) => entry.type === AnnotationMetadataEntryType.WARN)
          .map((entry) => String(entry.data));
      } finally {
        rmSync(app.outdir, { recursive: true, force: true });
      }
    };
    const [ses, http, ...others] = warnings({ SELFMX_AWS_REGION: 'eu-west-1' });
    assert.match(
      ses ?? '',
      /^SELFMX_SMTP_HOST is unset: .*email-smtp\.eu-west-1\.amazonaws\.com:587/,
    );
    assert.match(http ?? '', /^SELFMX_CERTIFICATE_ARN is unset: .*plain HTTP.*terraform plan/);
    assert.deepEqual(others, []);
    const [ephemeralHttp, ...none] = warnings({
      SELFMX_EPHEMERAL: 'true',
      SELFMX_SMTP_HOST: 'smtp.example.com',
    });
    assert.match(ephemeralHttp ?? '', /^SELFMX_CERTIFICATE_ARN is unset: .*ephemeral.*plain HTTP/);
    assert.deepEqual(none, []);
    assert.deepEqual(
      warnings({ SELFMX_SMTP_HOST: 'smtp.example.com', SELFMX_CERTIFICATE_ARN: CERTIFICATE }),
      [],
    );
  });

  test('state in S3 with SELFMX_STATE_BUCKET: encrypted, locked, one key per environment', () => {
    const native = synthAws({ SELFMX_ENV: 'prod', SELFMX_STATE_BUCKET: 'acme-terraform-state' });
    assert.deepEqual(native.terraform.backend.s3, {
      bucket: 'acme-terraform-state',
      key: 'selfmx/prod/selfmx-aws.tfstate',
      region: 'us-east-1',
      encrypt: true,
      use_lockfile: true,
    });
    assert.equal(native.terraform.required_version, '>= 1.10.0');
    const table = synthAws({
      SELFMX_ENV: 'staging',
      SELFMX_STATE_BUCKET: 'acme-terraform-state',
      SELFMX_STATE_LOCK_TABLE: 'terraform-locks',
      SELFMX_STATE_REGION: 'eu-west-1',
    });
    assert.equal(table.terraform.backend.s3.dynamodb_table, 'terraform-locks');
    assert.equal(table.terraform.backend.s3.key, 'selfmx/staging/selfmx-aws.tfstate');
    assert.equal(table.terraform.backend.s3.region, 'eu-west-1');
    assert.equal(table.terraform.backend.s3.use_lockfile, undefined);
  });

  test("switching SELFMX_ENV drops the other environment's cached S3 backend, not its own", () => {
    const cached = (key: string) =>
      JSON.stringify({ backend: { type: 's3', config: { bucket: 'acme-terraform-state', key } } });
    for (const [cachedKey, kept] of [
      ['selfmx/staging/selfmx-aws.tfstate', false],
      ['selfmx/prod/selfmx-aws.tfstate', true],
    ] as const) {
      let cache = '';
      const { outdir } = synthesizeToDirectory('selfmx-aws', (app) => {
        const dir = join(app.outdir, 'stacks', 'selfmx-aws', '.terraform');
        mkdirSync(dir, { recursive: true });
        cache = join(dir, 'terraform.tfstate');
        writeFileSync(cache, cached(cachedKey));
        new AwsStack(app, 'selfmx-aws', {
          config: loadAwsConfig({
            SELFMX_ENV: 'prod',
            SELFMX_STATE_BUCKET: 'acme-terraform-state',
          }),
        });
      });
      try {
        assert.equal(existsSync(cache), kept, cachedKey);
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    }
  });

  test('npm run synth output holds no absolute path of this machine', () => {
    const { outdir, text } = synthesizeToDirectory('selfmx-aws', (app) => {
      new AwsStack(app, 'selfmx-aws', { config: loadAwsConfig({}) });
    });
    try {
      for (const path of [
        REPOSITORY_ROOT,
        REPOSITORY_ROOT.replace(/\/$/, ''),
        tmpdir(),
        homedir(),
        outdir,
      ]) {
        assert.ok(!text.includes(path), `cdk.tf.json contains ${path}`);
      }
      assert.ok(!/"\/(work|home|root|tmp|Users)\//.test(text));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('selfmx-aws with SELFMX_EPHEMERAL=true', () => {
  const db = find(ephemeral, 'aws_db_instance', 'database_instance');

  test('no deletion protection, no final snapshot, single AZ, short retention', () => {
    assert.equal(db.deletion_protection, false);
    assert.equal(db.skip_final_snapshot, true);
    assert.equal(db.final_snapshot_identifier, undefined);
    assert.equal(db.delete_automated_backups, true);
    assert.equal(db.multi_az, false);
    assert.equal(db.backup_retention_period, 1);
    assert.equal(find(ephemeral, 'aws_cloudwatch_log_group', 'logs').retention_in_days, 7);
    assert.equal(find(ephemeral, 'aws_lb', 'load-balancer_lb').enable_deletion_protection, false);
    assert.equal(find(ephemeral, 'aws_ecr_repository', 'image_repository').force_delete, true);
    for (const secret of all(ephemeral, 'aws_secretsmanager_secret')) {
      assert.equal(secret.recovery_window_in_days, 0);
    }
    assert.equal(all(ephemeral, 'aws_nat_gateway').length, 1);
  });

  test('still encrypted, private and SSL-forced', () => {
    assert.equal(db.storage_encrypted, true);
    assert.equal(db.publicly_accessible, false);
    assert.match(db.parameter_group_name, /database_parameters/);
  });

  test('SELFMX_ENV prefixes every name, so environments live side by side', () => {
    assert.equal(db.identifier, 'selfmx-pr-42-db');
    assert.equal(find(ephemeral, 'aws_ecs_cluster', 'cluster').name, 'selfmx-pr-42');
    assert.equal(find(ephemeral, 'aws_ecr_repository', 'image_repository').name, 'selfmx-pr-42');
    assert.equal(find(ephemeral, 'aws_lb', 'load-balancer_lb').name, 'selfmx-pr-42');
    assert.deepEqual(ephemeral.terraform.backend, {
      local: { path: '../../../terraform.selfmx-aws.pr-42.tfstate' },
    });
    // Account-wide names (an inline role policy's name is scoped to its role).
    const names = (json: TerraformJson) =>
      Object.entries(json.resource as Record<string, Record<string, TerraformJson>>)
        .filter(([type]) => type !== 'aws_iam_role_policy')
        .flatMap(([type, byName]) =>
          Object.values(byName).map((r) =>
            type === 'aws_ecs_task_definition'
              ? r.family
              : (r.identifier ?? r.name ?? r.alarm_name),
          ),
        )
        .filter((name): name is string => typeof name === 'string');
    assert.ok(names(production).length > 20);
    const shared = names(production).filter((name) => names(ephemeral).includes(name));
    assert.deepEqual(shared, []);
  });
});

describe('selfmx-aws deployment config', () => {
  const refuses = (env: Env, field: string, message: RegExp) =>
    assert.throws(
      () => synthAws(env),
      (error: Error) => {
        assert.ok(error.message.startsWith(`${field}: `), error.message);
        assert.match(error.message, message);
        return true;
      },
    );

  test('the connection budget refuses db.t4g.micro with pool 50 and 3 tasks, naming max_connections', () => {
    refuses(
      {
        SELFMX_DB_INSTANCE_CLASS: 'db.t4g.micro',
        SELFMX_DB_POOL_SIZE: '50',
        SELFMX_APP_COUNT: '3',
      },
      'SELFMX_DB_POOL_SIZE',
      /50 connections per process × 7 processes .* = 350 exceeds max_connections of db\.t4g\.micro \(87, 82 after 5 reserved slots\)/,
    );
    // The same pool fits a larger class, and a smaller pool fits the micro.
    assert.doesNotThrow(() =>
      synthAws({
        SELFMX_DB_INSTANCE_CLASS: 'db.r6g.large',
        SELFMX_DB_POOL_SIZE: '50',
        SELFMX_APP_COUNT: '3',
      }),
    );
    assert.doesNotThrow(() =>
      synthAws({
        SELFMX_DB_INSTANCE_CLASS: 'db.t4g.micro',
        SELFMX_DB_POOL_SIZE: '11',
        SELFMX_APP_COUNT: '3',
      }),
    );
    refuses(
      {
        SELFMX_DB_INSTANCE_CLASS: 'db.t4g.micro',
        SELFMX_DB_POOL_SIZE: '12',
        SELFMX_APP_COUNT: '3',
      },
      'SELFMX_DB_POOL_SIZE',
      /max_connections/,
    );
  });

  test('max_connections follows LEAST(DBInstanceClassMemory/9531392, 5000)', () => {
    assert.equal(maxConnections('db.t4g.micro'), 87);
    assert.equal(maxConnections('db.t3.micro'), 87);
    assert.ok(maxConnections('db.t4g.medium') > 350 && maxConnections('db.t4g.medium') < 450);
    assert.equal(maxConnections('db.r7g.4xlarge'), 5000);
  });

  test('refuses bad values, naming the variable', () => {
    refuses(
      { SELFMX_DB_INSTANCE_CLASS: 'db.x9.huge' },
      'SELFMX_DB_INSTANCE_CLASS',
      /unknown instance class/,
    );
    refuses(
      { SELFMX_BACKUP_RETENTION_DAYS: '0' },
      'SELFMX_BACKUP_RETENTION_DAYS',
      /between 1 and 35/,
    );
    refuses(
      { SELFMX_BACKUP_RETENTION_DAYS: '36' },
      'SELFMX_BACKUP_RETENTION_DAYS',
      /between 1 and 35/,
    );
    refuses({ SELFMX_EPHEMERAL: 'maybe' }, 'SELFMX_EPHEMERAL', /true or false/);
    refuses({ SELFMX_APP_COUNT: '0' }, 'SELFMX_APP_COUNT', /between 1 and 100/);
    refuses({ SELFMX_CERTIFICATE_ARN: 'my-cert' }, 'SELFMX_CERTIFICATE_ARN', /ACM certificate ARN/);
    refuses({ SELFMX_AWS_REGION: 'Frankfurt' }, 'SELFMX_AWS_REGION', /AWS region/);
    refuses(
      { SELFMX_LOG_RETENTION_DAYS: '10' },
      'SELFMX_LOG_RETENTION_DAYS',
      /CloudWatch Logs accepts/,
    );
    refuses(
      {
        SELFMX_ALARM_EMAIL: 'ops@example.com',
        SELFMX_ALARM_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:x',
      },
      'SELFMX_ALARM_EMAIL',
      /not both/,
    );
    refuses(
      { SELFMX_STATE_LOCK_TABLE: 'locks' },
      'SELFMX_STATE_LOCK_TABLE',
      /needs SELFMX_STATE_BUCKET/,
    );
    refuses({ SELFMX_APP_CPU: '300' }, 'SELFMX_APP_CPU', /Fargate CPU size/);
    refuses(
      { SELFMX_APP_CPU: '1024', SELFMX_APP_MEMORY: '1024' },
      'SELFMX_APP_MEMORY',
      /2048–8192/,
    );
    refuses(
      { SELFMX_DB_STORAGE_GB: '100', SELFMX_DB_MAX_STORAGE_GB: '50' },
      'SELFMX_DB_MAX_STORAGE_GB',
      /greater than/,
    );
    refuses({ SELFMX_ENV: 'Prod_1' }, 'SELFMX_ENV', /DNS-safe/);
  });

  test('an existing VPC: all three variables or none', () => {
    refuses(
      { SELFMX_VPC_ID: 'vpc-0123456789abcdef0' },
      'SELFMX_PRIVATE_SUBNET_IDS',
      /is required when SELFMX_VPC_ID is set/,
    );
    refuses(
      { ...EXISTING_VPC, SELFMX_PUBLIC_SUBNET_IDS: 'subnet-0123456789abcdef0' },
      'SELFMX_PUBLIC_SUBNET_IDS',
      /at least 2/,
    );
    refuses(
      { ...EXISTING_VPC, SELFMX_PRIVATE_SUBNET_IDS: 'subnet-1,subnet-2' },
      'SELFMX_PRIVATE_SUBNET_IDS',
      /not a subnet id/,
    );
    const json = synthAws(EXISTING_VPC);
    assert.equal(all(json, 'aws_vpc').length, 0);
    assert.equal(all(json, 'aws_subnet').length, 0);
    assert.equal(all(json, 'aws_nat_gateway').length, 0);
    assert.deepEqual(find(json, 'aws_db_subnet_group', 'database_subnets').subnet_ids, [
      'subnet-0aaaaaaaaaaaaaaa1',
      'subnet-0aaaaaaaaaaaaaaa2',
    ]);
    assert.deepEqual(find(json, 'aws_lb', 'load-balancer_lb').subnets, [
      'subnet-0bbbbbbbbbbbbbbb1',
      'subnet-0bbbbbbbbbbbbbbb2',
    ]);
    assert.equal(
      find(json, 'aws_security_group', 'security-groups_db').vpc_id,
      'vpc-0123456789abcdef0',
    );
  });
});

/** The stack's working directory (cdktf.out/stacks/selfmx-aws) back to the repository root. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform expression
const FROM_STACK = '${path.module}/../../..';
const CERTIFICATE =
  'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const EXISTING_VPC = {
  SELFMX_VPC_ID: 'vpc-0123456789abcdef0',
  SELFMX_PRIVATE_SUBNET_IDS: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa2',
  SELFMX_PUBLIC_SUBNET_IDS: 'subnet-0bbbbbbbbbbbbbbb1,subnet-0bbbbbbbbbbbbbbb2',
};

/** The `${aws_security_group.<name>.id}` reference of the security group whose id starts with `prefix`. */
function expect(rules: TerraformJson[], prefix: string): string {
  const rule = rules.find((r) => r.security_group_id.includes(prefix));
  assert.ok(rule, `a rule on ${prefix}`);
  return rule.security_group_id;
}
