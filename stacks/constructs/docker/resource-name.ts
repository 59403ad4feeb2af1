import type { ContainerLabels } from '@cdktf/provider-docker/lib/container/index.js';

/**
 * `<env>-selfmx-<role>`: every Docker object (container, network, volume, image) of an environment
 * carries its name, so that several environments live side by side on one Docker host.
 */
export function dockerResourceName(env: string, role: string): string {
  return `${env}-selfmx-${role}`;
}

/**
 * Labels that let `docker ps --filter label=selfmx.env=<env>` find an environment's objects;
 * the containers of a release also carry `selfmx.release=<release tag>`.
 */
export function dockerLabels(env: string, role: string, release?: string): ContainerLabels[] {
  return [
    { label: 'selfmx.env', value: env },
    { label: 'selfmx.role', value: role },
    ...(release === undefined ? [] : [{ label: 'selfmx.release', value: release }]),
  ];
}

/** A Terraform logical id from a construct id: `postgres` + `data` -> `postgres_data`. */
export function logicalId(constructId: string, suffix?: string): string {
  const base = constructId.replace(/[^A-Za-z0-9_]/g, '_');
  return suffix === undefined ? base : `${base}_${suffix}`;
}
