import { Counter, Gauge, Histogram, register } from 'prom-client';

/** Prometheus metrics of SMTP delivery (default registry, served by GET /metrics). */

const openConnectionSources = new Set<() => number>();

export const smtpConnections = new Gauge({
  name: 'selfmx_smtp_connections',
  help: 'Open connections to the SMTP relay (pooled transports of this process)',
  registers: [register],
  collect() {
    let open = 0;
    for (const source of openConnectionSources) open += source();
    this.set(open);
  },
});

export const smtpSendDuration = new Histogram({
  name: 'selfmx_smtp_send_duration_seconds',
  help: 'Seconds to hand one message to the SMTP relay, by outcome',
  labelNames: ['outcome'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [register],
});

export const smtpErrors = new Counter({
  name: 'selfmx_smtp_errors_total',
  help: 'Failed SMTP sends, by kind (transient, permanent, invalid)',
  labelNames: ['kind'] as const,
  registers: [register],
});

/** Counts a transport's open connections in selfmx_smtp_connections until the returned fn is called. */
export function trackOpenConnections(source: () => number): () => void {
  openConnectionSources.add(source);
  return () => openConnectionSources.delete(source);
}
