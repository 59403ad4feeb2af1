import { DbInstance } from '@cdktf/provider-aws/lib/db-instance/index.js';
import { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group/index.js';
import type { TerraformResource } from 'cdktf';
import type { GuardrailViolation } from './guardrail-violation.js';

export const MIN_BACKUP_RETENTION_DAYS = 7;

/** RDS instances: encrypted, backed up, protected from deletion, private, SSL forced. */
export function checkDatabase(resource: TerraformResource): GuardrailViolation[] {
  if (resource instanceof DbParameterGroup) return checkParameterGroup(resource);
  if (!(resource instanceof DbInstance)) return [];
  const violations: GuardrailViolation[] = [];
  if (resource.storageEncryptedInput !== true) {
    violations.push({
      problem: 'has unencrypted storage',
      fix: 'set storage_encrypted = true with kms_key_id (a new instance restored from an encrypted snapshot copy for an existing one)',
    });
  }
  const retention = resource.backupRetentionPeriodInput ?? 0;
  if (retention < MIN_BACKUP_RETENTION_DAYS) {
    violations.push({
      problem: `keeps backups for ${retention} days, under ${MIN_BACKUP_RETENTION_DAYS}`,
      fix: `set backup_retention_period >= ${MIN_BACKUP_RETENTION_DAYS} (SELFMX_BACKUP_RETENTION_DAYS)`,
    });
  }
  if (resource.deletionProtectionInput !== true) {
    violations.push({
      problem: 'has no deletion protection',
      fix: 'set deletion_protection = true',
    });
  }
  if (resource.skipFinalSnapshotInput === true || !resource.finalSnapshotIdentifierInput) {
    violations.push({
      problem: 'takes no final snapshot on destroy',
      fix: 'set skip_final_snapshot = false and a final_snapshot_identifier',
    });
  }
  if (resource.publiclyAccessibleInput === true) {
    violations.push({
      problem: 'is publicly accessible',
      fix: 'set publicly_accessible = false and reach it from the VPC only',
    });
  }
  if (!resource.parameterGroupNameInput) {
    violations.push({
      problem:
        'uses the default parameter group, which does not force SSL (rds.force_ssl is 0 on postgres15)',
      fix: 'attach a parameter group with rds.force_ssl = 1',
    });
  }
  return violations;
}

function checkParameterGroup(group: DbParameterGroup): GuardrailViolation[] {
  if (!group.familyInput?.startsWith('postgres')) return [];
  const parameters = Array.isArray(group.parameterInput) ? group.parameterInput : [];
  const forced = parameters.some((p) => p.name === 'rds.force_ssl' && String(p.value) === '1');
  return forced
    ? []
    : [{ problem: 'does not force SSL', fix: 'add the parameter rds.force_ssl = 1' }];
}
