import type pg from 'pg';
import client from 'prom-client';

/** The pools to report (normally one per process; tests may run several servers). */
const pools = new Set<pg.Pool>();

const sum = (read: (pool: pg.Pool) => number) =>
  [...pools].reduce((total, pool) => total + read(pool), 0);

new client.Gauge({
  name: 'selfmx_db_pool_connections_total',
  help: 'Connections held by the PostgreSQL pool (idle and in use)',
  collect() {
    this.set(sum((pool) => pool.totalCount));
  },
});
new client.Gauge({
  name: 'selfmx_db_pool_connections_idle',
  help: 'Idle connections in the PostgreSQL pool',
  collect() {
    this.set(sum((pool) => pool.idleCount));
  },
});
new client.Gauge({
  name: 'selfmx_db_pool_connections_waiting',
  help: 'Requests waiting for a connection from the PostgreSQL pool',
  collect() {
    this.set(sum((pool) => pool.waitingCount));
  },
});

/** Reports a pool in the gauges until `forget` is called (when the pool is closed). */
export function observePool(pool: pg.Pool): { forget(): void } {
  pools.add(pool);
  return { forget: () => pools.delete(pool) };
}
