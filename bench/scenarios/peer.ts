import { clearEmails } from '../lib/backlog.js';
import { type ClosedLoopResult, runClosedLoop } from '../lib/closed-loop.js';
import { startCpuMeter } from '../lib/cpu-meter.js';
import {
  clearPeerJobs,
  enqueuePeerBacklog,
  PG_BOSS_VERSION,
  startPeer,
  waitForCompletedPeerJobs,
} from '../lib/diy-peer.js';
import { emailPoster } from '../lib/email-poster.js';
import { type BenchEnvironment, startService } from '../lib/environment.js';
import { readProcessCpuMs } from '../lib/proc-cpu.js';
import { ratio, round } from '../lib/stats.js';
import { timeBacklogDelivery } from '../lib/timed-delivery.js';

export interface PeerOptions {
  readonly ingest: { concurrency: number; durationMs: number; warmupMs: number };
  readonly backlog: number;
  readonly workers: number;
  /** Rounds of A (SelfMX) then B (the peer), for ingest and for delivery. */
  readonly rounds: number;
}

/** One side's run: its rate, and CPU ms per email of its process and of PostgreSQL. */
export interface PeerRun {
  readonly per_second: number;
  readonly cpu_ms: Record<string, number>;
  readonly p50_ms?: number;
  readonly p99_ms?: number;
  readonly errors?: number;
  /** Delivery only: messages at the sink minus distinct recipients. */
  readonly duplicates?: number;
}

export interface PeerRound {
  readonly selfmx: PeerRun;
  readonly peer: PeerRun;
  /** SelfMX ÷ peer in this round. */
  readonly ratio: number;
}

export interface PeerComparison {
  readonly rounds: PeerRound[];
  /** Best round of each side. */
  readonly selfmx_per_second: number;
  readonly peer_per_second: number;
  /** SelfMX ÷ peer, best round against best round. */
  readonly ratio: number;
}

export interface PeerResult {
  readonly pg_boss_version: string;
  readonly ingest: PeerComparison & { concurrency: number; duration_ms: number };
  readonly delivery: PeerComparison & { backlog: number; workers: number };
}

function pair(selfmx: PeerRun, peer: PeerRun): PeerRound {
  return { selfmx, peer, ratio: ratio(selfmx.per_second, peer.per_second) };
}

function compare(rounds: PeerRound[]): PeerComparison {
  const best = (side: 'selfmx' | 'peer') => Math.max(...rounds.map((r) => r[side].per_second));
  const selfmx = best('selfmx');
  const peer = best('peer');
  return { rounds, selfmx_per_second: selfmx, peer_per_second: peer, ratio: ratio(selfmx, peer) };
}

function ingestRun(result: ClosedLoopResult, cpu: Record<string, number>): PeerRun {
  if (result.completed === 0) {
    throw new Error(`no email accepted: ${result.errorSamples.join('; ') || 'no answer'}`);
  }
  return {
    per_second: result.perSecond,
    cpu_ms: cpu,
    p50_ms: result.p50Ms,
    p99_ms: result.p99Ms,
    errors: result.errors,
  };
}

/**
 * SelfMX (A) against the DIY pg-boss peer (B), alternating A B A B so that the machine's noise
 * hits both: POST /v1/emails at one concurrency with no workers on either side, then the same
 * backlog delivered by the same number of workers to the same SMTP sink.
 */
export async function measurePeer(
  env: BenchEnvironment,
  options: PeerOptions,
): Promise<PeerResult> {
  const ingest = await compareIngest(env, options);
  const deliveryRounds: PeerRound[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const selfmx = await selfmxDelivery(env, options);
    deliveryRounds.push(pair(selfmx, await peerDelivery(env, options)));
  }
  return {
    pg_boss_version: PG_BOSS_VERSION,
    ingest: {
      ...ingest,
      concurrency: options.ingest.concurrency,
      duration_ms: options.ingest.durationMs,
    },
    delivery: { ...compare(deliveryRounds), backlog: options.backlog, workers: options.workers },
  };
}

async function compareIngest(env: BenchEnvironment, options: PeerOptions): Promise<PeerComparison> {
  const selfmx = await startService(env, { QUEUE_WORKERS: '0' });
  const peer = await startPeer(env, 0).catch(async (error: unknown) => {
    await selfmx.stop();
    throw error;
  });
  const selfmxPoster = emailPoster(selfmx.baseUrl, env.apiKey);
  const peerPoster = emailPoster(peer.baseUrl, env.apiKey);
  const measure = async (pid: number, post: () => Promise<void>) => {
    const meter = startCpuMeter({ app: () => readProcessCpuMs(pid), postgres: env.postgresCpuMs });
    const result = await runClosedLoop(post, options.ingest);
    return ingestRun(result, meter(result.total));
  };
  try {
    const rounds: PeerRound[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const a = await measure(selfmx.app.pid, () => selfmxPoster.post());
      rounds.push(pair(a, await measure(peer.app.pid, () => peerPoster.post())));
    }
    return compare(rounds);
  } finally {
    selfmxPoster.close();
    peerPoster.close();
    await Promise.all([selfmx.stop(), peer.stop()]);
    // The delivery runs count every message at the sink: nothing ingested may stay queued.
    await clearEmails(env.pool);
    await clearPeerJobs(env.pool);
  }
}

function duplicates(env: BenchEnvironment): number {
  const recipients = new Set(env.sink.messages.map((message) => message.envelope.to.join(',')));
  return env.sink.messages.length - recipients.size;
}

async function selfmxDelivery(env: BenchEnvironment, options: PeerOptions): Promise<PeerRun> {
  const service = await startService(env, { QUEUE_WORKERS: String(options.workers) });
  try {
    let meter: ((items: number) => Record<string, number>) | undefined;
    const timed = await timeBacklogDelivery(
      env.pool,
      env.sink,
      options.backlog,
      options.backlog,
      async () => {
        meter = startCpuMeter({
          app: () => readProcessCpuMs(service.app.pid),
          postgres: env.postgresCpuMs,
        });
      },
    );
    // timeBacklogDelivery has waited for the outcomes to be recorded: they count too.
    const cpu = meter?.(options.backlog) ?? {};
    return { per_second: round(timed.perSecond, 1), cpu_ms: cpu, duplicates: duplicates(env) };
  } finally {
    await service.stop();
    await clearEmails(env.pool);
  }
}

/** The peer's backlog is enqueued before its workers start; the clock starts with them. */
async function peerDelivery(env: BenchEnvironment, options: PeerOptions): Promise<PeerRun> {
  await clearPeerJobs(env.pool);
  const peer = await startPeer(env, options.workers);
  try {
    await enqueuePeerBacklog(env.pool, options.backlog);
    env.sink.reset();
    const all = env.sink.waitForMessages(options.backlog, 60_000 + options.backlog * 20);
    all.catch(() => undefined);
    const meter = startCpuMeter({
      app: () => readProcessCpuMs(peer.app.pid),
      postgres: env.postgresCpuMs,
    });
    const began = performance.now();
    peer.startWorkers();
    await all;
    const elapsedMs = performance.now() - began;
    // As on SelfMX's side, the completions recorded after the last send count too.
    await waitForCompletedPeerJobs(env.pool, options.backlog);
    const cpu = meter(options.backlog);
    return {
      per_second: round(options.backlog / (elapsedMs / 1000), 1),
      cpu_ms: cpu,
      duplicates: duplicates(env),
    };
  } finally {
    await peer.stop();
    await clearPeerJobs(env.pool);
  }
}
