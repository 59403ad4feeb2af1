import http from 'node:http';
import https from 'node:https';
import { bareHost, type ResolvedAddress } from './endpoint-policy.js';

/** Connections kept open per endpoint address between requests. */
const IDLE_SOCKETS_PER_AGENT = 4;
/** An idle kept-alive connection is closed after this long. */
const IDLE_SOCKET_MS = 15_000;

/**
 * Keep-alive agents, one per endpoint (scheme, host, port) AND checked address: a pooled
 * connection is only ever reused for a request whose address was checked to be that same
 * address, so the endpoint policy's connect-time guarantee holds for every request. At most
 * `maxAgents` are kept (least recently used first out); an agent let go closes its idle
 * connections at once and the others once their request ends.
 */
export class PinnedAgents {
  private readonly agents = new Map<string, http.Agent>();

  constructor(private readonly maxAgents: number) {}

  agentFor(url: URL, address: ResolvedAddress): http.Agent {
    const key = `${url.protocol}//${bareHost(url)}:${url.port}@${address.address}`;
    const known = this.agents.get(key);
    if (known) {
      this.agents.delete(key);
      this.agents.set(key, known);
      return known;
    }
    const options: http.AgentOptions = {
      keepAlive: true,
      maxFreeSockets: IDLE_SOCKETS_PER_AGENT,
      timeout: IDLE_SOCKET_MS,
      scheduling: 'lifo',
    };
    const agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    this.agents.set(key, agent);
    for (const [oldKey, oldAgent] of this.agents) {
      if (this.agents.size <= this.maxAgents) break;
      this.agents.delete(oldKey);
      retire(oldAgent);
    }
    return agent;
  }
}

function retire(agent: http.Agent): void {
  // No connection goes back to its idle list: each closes when its request ends.
  agent.maxFreeSockets = 0;
  for (const sockets of Object.values(agent.freeSockets)) {
    for (const socket of sockets ?? []) socket.destroy();
  }
}
