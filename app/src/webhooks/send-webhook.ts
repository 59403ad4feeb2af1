import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import {
  bareHost,
  checkEndpointUrl,
  type EndpointPolicy,
  EndpointRefusedError,
  type ResolvedAddress,
  resolveAllowedAddress,
} from './endpoint-policy.js';
import { PinnedAgents } from './pinned-agents.js';
import type { AttemptResult } from './webhook-outbox.js';

/** Each attempt gets this long for the whole exchange. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** The start of an answer kept with the attempt. */
const KEPT_RESPONSE_CHARACTERS = 1000;
/** Endpoint addresses whose connections are kept open; a busy process talks to few at once. */
const KEPT_ENDPOINTS = 64;
const agents = new PinnedAgents(KEPT_ENDPOINTS);

export interface WebhookRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * One POST. The endpoint is checked again (form and resolved address, since DNS may have
 * changed since it was saved) and the connection goes to exactly the address checked. Redirects
 * are not followed; a 2xx is success. Connections are kept open per endpoint and checked address
 * (PinnedAgents), so a reused one always goes to an address checked for this request. Never throws: a refusal or an error is a failed attempt.
 */
export async function sendWebhook(
  request: WebhookRequest,
  policy: EndpointPolicy,
): Promise<AttemptResult & { refused: boolean }> {
  let url: URL;
  let address: ResolvedAddress;
  try {
    url = checkEndpointUrl(request.url, policy);
    address = await resolveAllowedAddress(bareHost(url), policy);
  } catch (error) {
    if (!(error instanceof EndpointRefusedError)) throw error;
    return {
      ok: false,
      httpStatus: undefined,
      response: `refused: ${error.message}`,
      refused: true,
    };
  }
  return { ...(await post(url, address, request)), refused: false };
}

function post(url: URL, address: ResolvedAddress, request: WebhookRequest): Promise<AttemptResult> {
  const pinned: LookupFunction = (_host, options, callback) => {
    if (options.all) callback(null, [address]);
    else callback(null, address.address, address.family);
  };
  const client = url.protocol === 'https:' ? https : http;
  const agent = agents.agentFor(url, address);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const outgoing = client.request(
      url,
      {
        method: 'POST',
        lookup: pinned,
        agent,
        headers: {
          ...request.headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(request.body)),
          'user-agent': 'SelfMX-Webhooks/1.0',
        },
      },
      (answer) => {
        const status = answer.statusCode ?? 0;
        let text = '';
        answer.setEncoding('utf8');
        answer.on('data', (chunk: string) => {
          if (text.length < KEPT_RESPONSE_CHARACTERS) text += chunk;
        });
        const done = () =>
          finish({
            ok: status >= 200 && status < 300,
            httpStatus: status >= 100 && status <= 599 ? status : undefined,
            response: text.slice(0, KEPT_RESPONSE_CHARACTERS),
          });
        answer.on('end', done);
        answer.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      outgoing.destroy(new Error(`no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`));
    }, WEBHOOK_TIMEOUT_MS);
    outgoing.on('error', (error) =>
      finish({ ok: false, httpStatus: undefined, response: `error: ${error.message}` }),
    );
    outgoing.end(request.body);
  });
}
