import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Where webhooks may go (WEBHOOK_ALLOW_PRIVATE, WEBHOOK_ALLOW_HTTP_HOSTS). */
export interface EndpointPolicy {
  readonly allowPrivate: boolean;
  /** Lower-case host names that may be called over plain http. */
  readonly allowHttpHosts: readonly string[];
}

/** An endpoint SelfMX will not call; the message says why and what to change. */
export class EndpointRefusedError extends Error {
  override readonly name = 'EndpointRefusedError';
}

const MAX_URL_LENGTH = 2048;

/**
 * Loopback, private, link-local (the cloud metadata address 169.254.169.254 among them),
 * carrier-grade NAT, multicast and reserved ranges: nothing a tenant may make SelfMX call.
 */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');
}

const MAPPED_IPV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

export function isForbiddenAddress(address: string): boolean {
  const mapped = MAPPED_IPV4.exec(address)?.[1];
  if (mapped) return FORBIDDEN.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return FORBIDDEN.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Checks an endpoint's form: https, or http to an allowed host; no credentials in it. */
export function checkEndpointUrl(raw: string, policy: EndpointPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EndpointRefusedError('must be an absolute URL, e.g. https://example.com/webhooks');
  }
  if (raw.length > MAX_URL_LENGTH) {
    throw new EndpointRefusedError(`must be at most ${MAX_URL_LENGTH} characters`);
  }
  if (url.username || url.password) {
    throw new EndpointRefusedError('must not carry a user name or password');
  }
  const host = bareHost(url);
  if (url.protocol === 'http:') {
    if (!policy.allowHttpHosts.includes(host)) {
      throw new EndpointRefusedError(
        `must use https; plain http is only for hosts in WEBHOOK_ALLOW_HTTP_HOSTS (${host} is not)`,
      );
    }
  } else if (url.protocol !== 'https:') {
    throw new EndpointRefusedError('must be an https:// URL');
  }
  return url;
}

/** The host of a URL without IPv6 brackets, lower-case. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * Resolves a host and refuses it when any of its addresses is forbidden (unless
 * WEBHOOK_ALLOW_PRIVATE): checked when an endpoint is saved and again before every request,
 * whose connection then goes to exactly the address checked here (DNS may change in between).
 */
export async function resolveAllowedAddress(
  host: string,
  policy: EndpointPolicy,
): Promise<ResolvedAddress> {
  let addresses: { address: string; family: number }[];
  try {
    addresses = await lookup(host, { all: true, verbatim: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new EndpointRefusedError(`host ${host} does not resolve (${code})`);
  }
  const first = addresses[0];
  if (!first) throw new EndpointRefusedError(`host ${host} has no address`);
  if (!policy.allowPrivate) {
    const forbidden = addresses.find(({ address }) => isForbiddenAddress(address));
    if (forbidden) {
      throw new EndpointRefusedError(
        `host ${host} resolves to ${forbidden.address}, a loopback, private, link-local or ` +
          'metadata address; set WEBHOOK_ALLOW_PRIVATE=true only where such endpoints are meant',
      );
    }
  }
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
