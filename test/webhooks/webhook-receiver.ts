import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Resend } from 'resend';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  readonly id: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The payload as both verifiers returned it (they must agree). */
  readonly payload: { type: string; created_at: string; data: Record<string, unknown> };
  /** What the receiver answered. */
  readonly status: number;
}

/** Answers a request: a status code, or `hang` (no answer until the receiver stops). */
export type ReceiverBehaviour = (request: { id: string; count: number }) => number | 'hang';

export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** Requests that are waiting for an answer (`hang`). */
  readonly hanging: number;
  /** The signing secret deliveries are verified with (set once the webhook exists). */
  secret: string;
  behaviour: ReceiverBehaviour;
  /** Resolves once `predicate` holds for the received list; rejects after `timeoutMs`. */
  waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real HTTP endpoint on 127.0.0.1 that verifies every delivery with Resend's SDK
 * (`resend.webhooks.verify`) and with the `standardwebhooks` package; a delivery that fails
 * either verification is answered 400 and recorded as a test failure.
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const resend = new Resend('re_unused');
  const hanging = new Set<ServerResponse>();
  const counts = new Map<string, number>();
  const verificationErrors: string[] = [];
  const receiver = {
    url: '',
    received: [] as ReceivedWebhook[],
    secret: '',
    behaviour: (() => 200) as ReceiverBehaviour,
    get hanging() {
      return hanging.size;
    },
  };
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      const id = String(request.headers['webhook-id'] ?? '');
      let payload: ReceivedWebhook['payload'];
      try {
        const headers = {
          id,
          timestamp: String(request.headers['webhook-timestamp']),
          signature: String(request.headers['webhook-signature']),
        };
        payload = resend.webhooks.verify({
          payload: body,
          headers,
          webhookSecret: receiver.secret,
        }) as unknown as ReceivedWebhook['payload'];
        const again = new Webhook(receiver.secret).verify(body, {
          'webhook-id': headers.id,
          'webhook-timestamp': headers.timestamp,
          'webhook-signature': headers.signature,
        });
        if (JSON.stringify(again) !== JSON.stringify(payload)) throw new Error('verifiers differ');
      } catch (error) {
        verificationErrors.push(String(error));
        response.writeHead(400).end('bad signature');
        return;
      }
      const count = (counts.get(id) ?? 0) + 1;
      counts.set(id, count);
      const answer = receiver.behaviour({ id, count });
      if (answer === 'hang') {
        hanging.add(response);
        return;
      }
      receiver.received.push({ id, headers: request.headers, body, payload, status: answer });
      response.writeHead(answer, { 'content-type': 'text/plain' }).end(`answered ${answer}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return Object.assign(receiver, {
    async waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(receiver.received)) {
        if (verificationErrors.length > 0) {
          throw new Error(`a delivery failed verification: ${verificationErrors.join('; ')}`);
        }
        if (Date.now() > deadline) {
          throw new Error(
            `webhooks not received in time: ${JSON.stringify(receiver.received.map((r) => [r.payload.type, r.status]))}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      if (verificationErrors.length > 0) {
        throw new Error(`a delivery failed verification: ${verificationErrors.join('; ')}`);
      }
    },
    async stop() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}
