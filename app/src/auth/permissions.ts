/** What an API key may do. `*` is everything (the bootstrap admin key has it). */
export const PERMISSIONS = [
  'send',
  'templates:read',
  'templates:write',
  'api-keys:read',
  'api-keys:write',
  'logs:read',
  'metrics:read',
  'webhooks:read',
  'webhooks:write',
  'suppressions:read',
  'suppressions:write',
  'tenants:read',
  'tenants:write',
  '*',
] as const;

/**
 * Permissions over every tenant: only keys of the operator's tenant (the one API_KEY belongs
 * to) may hold them or use them, even through `*`.
 */
export const OPERATOR_PERMISSIONS: readonly Permission[] = ['tenants:read', 'tenants:write'];

export type Permission = (typeof PERMISSIONS)[number];

export function hasPermission(granted: readonly string[], needed: Permission): boolean {
  return granted.includes('*') || granted.includes(needed);
}

/** A key can only hand out permissions it holds itself (no privilege escalation). */
export function canGrant(granted: readonly string[], requested: readonly Permission[]): boolean {
  return (
    granted.includes('*') ||
    requested.every((permission) => permission !== '*' && granted.includes(permission))
  );
}
