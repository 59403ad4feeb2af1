import { isIP } from 'node:net';
import { ConfigError } from './config-error.js';

/**
 * Which proxies' `X-Forwarded-For` the server believes: none, the addresses or networks listed,
 * or a number of hops in front of the server. Fastify's `trustProxy` takes each form as is.
 */
export type TrustedProxies = false | number | readonly string[];

const HOP_COUNT = /^\d{1,3}$/;

/** Parses TRUST_PROXY: unset → none; `2` → two hops; `10.0.0.0/16, 127.0.0.1` → those. */
export function parseTrustedProxies(value: string | undefined): TrustedProxies {
  if (value === undefined) return false;
  if (HOP_COUNT.test(value)) {
    const hops = Number(value);
    return hops === 0 ? false : hops;
  }
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    if (!isAddressOrNetwork(entry)) {
      throw new ConfigError(
        'TRUST_PROXY',
        `"${entry}" is neither an IP address nor a CIDR network: give comma-separated addresses or networks (e.g. 10.0.0.0/16,127.0.0.1), or a hop count (e.g. 1)`,
      );
    }
  }
  return entries.length === 0 ? false : Object.freeze(entries);
}

function isAddressOrNetwork(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined || address.includes('%')) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (version === 4 ? 32 : 128);
}
