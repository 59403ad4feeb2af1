import { clearEmails } from './lib/backlog.js';
import { type BenchEnvironment, startBenchEnvironment, startService } from './lib/environment.js';
import { describeMachine, writeResults } from './lib/results.js';
import { formatTable } from './lib/table.js';
import { captureBacklogTemplate } from './lib/template-email.js';
import { type BatchResult, measureBatch } from './scenarios/batch.js';
import { type DeliveryResult, measureDelivery } from './scenarios/delivery.js';
import { type IngestResult, measureIngest } from './scenarios/ingest.js';
import { type LargeMemoryResult, measureLargeEmailMemory } from './scenarios/memory-large.js';
import { measurePeer, type PeerResult } from './scenarios/peer.js';
import { measureScale, type ScaleResult } from './scenarios/scale.js';
import { measureStartup, type StartupResult } from './scenarios/startup.js';
import { measureSynth, type SynthResult } from './scenarios/synth.js';
import { measureWebhooks, type WebhookResult } from './scenarios/webhooks.js';

/**
 * `npm run bench`: builds the bundle, then measures the real `node app/dist/selfmx.js` against a
 * real PostgreSQL 15 and SMTP sink it starts itself. Every throughput is also measured for a
 * baseline in the same run, and the key figures are ratios to it, so they mean something on a
 * shared, noisy machine. BENCH_QUICK=1 shrinks every size for a smoke run (not for bench/results).
 */
const quick = process.env.BENCH_QUICK === '1';
const sizes = {
  ingest: { concurrencies: [1, 16, 64], durationMs: quick ? 1500 : 4000, warmupMs: 500, rounds: 2 },
  deliveryBacklog: quick ? 2000 : 10_000,
  deliveryWorkers: [4, 16],
  scale: {
    small: 1000,
    large: quick ? 20_000 : 100_000,
    scheduledLater: quick ? 20_000 : 100_000,
    largeMeasured: quick ? 3000 : 10_000,
    smallRuns: 4,
    workers: 4,
  },
  // SelfMX against the DIY pg-boss peer, A B A B: the ingest run's duration, a 10,000 backlog.
  peer: {
    ingest: { concurrency: 16, durationMs: quick ? 1500 : 4000, warmupMs: 500 },
    backlog: quick ? 2000 : 10_000,
    workers: 4,
    rounds: 2,
  },
  batch: {
    concurrency: 8,
    batchSize: 100,
    durationMs: quick ? 3000 : 5000,
    warmupMs: 1000,
    rounds: 2,
  },
  webhooks: {
    outboxEmails: quick ? 500 : 10_000,
    rounds: quick ? 1 : 3,
    deliveryBacklog: quick ? 2000 : 5000,
    deliveryRounds: quick ? 1 : 2,
    queueWorkers: 4,
  },
  memoryLarge: {
    concurrency: 16,
    emails: quick ? 500 : 2500,
    largeEvery: 50,
    largeBytes: 5 * 1024 * 1024,
  },
};

// The figures SelfMX is held to (docs/performance.md); a missing figure reads as not met.
const TARGETS = {
  ingest_ratio_c16: { min: 0.7 },
  delivery_ratio_w4: { min: 0.9 },
  delivery_scaling_w16_w4: { min: 1.0 },
  backlog_ratio: { min: 0.95 },
  peak_rss_mb: { max: 150 },
  batch_ratio: { min: 5 },
  webhook_ratio: { min: 0.8 },
  delivery_ratio_w4_dead_webhook: { min: 0.9 },
  peak_rss_mb_large: { max: 300 },
  synth_wall_ms: { max: 1500 },
  peer_ingest_ratio_c16: { min: 1.0 },
  peer_delivery_ratio_w4: { min: 1.0 },
} as const;

const failures: string[] = [];

async function section<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
  const began = performance.now();
  console.error(`bench: ${name}…`);
  try {
    const result = await run();
    console.error(`bench: ${name} done in ${((performance.now() - began) / 1000).toFixed(1)} s`);
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    failures.push(`${name}: ${message}`);
    console.error(`bench: ${name} FAILED: ${message}`);
    return undefined;
  }
}

async function ingestAndTemplate(env: BenchEnvironment): Promise<IngestResult> {
  // No workers: the figures are the API's, not the API's minus what delivery takes from 2 cores.
  const service = await startService(env, { QUEUE_WORKERS: '0' });
  try {
    const result = await measureIngest(env, service, sizes.ingest);
    await captureBacklogTemplate(env, service);
    return result;
  } finally {
    await service.stop();
    // Nothing ingested may be left queued: the delivery runs count every message at the sink.
    await clearEmails(env.pool);
  }
}

function scaling(numerator: number | undefined, denominator: number | undefined): number | null {
  if (numerator === undefined || denominator === undefined || denominator === 0) return null;
  return Math.round((numerator / denominator) * 1000) / 1000;
}

function keyFigures(
  ingest: IngestResult | undefined,
  delivery: DeliveryResult | undefined,
  scale: ScaleResult | undefined,
  startup: StartupResult | undefined,
  synth: SynthResult | undefined,
  peer: PeerResult | undefined,
  paths: NewPathResults,
) {
  const ingestAt = (c: number) => ingest?.rows.find((row) => row.concurrency === c);
  const deliveryAt = (w: number) => delivery?.rows.find((row) => row.workers === w);
  return {
    ingest_ratio_c16: ingestAt(16)?.ratio ?? null,
    delivery_ratio_w4: deliveryAt(4)?.ratio ?? null,
    backlog_ratio: scale?.backlog_ratio ?? null,
    peak_rss_mb: ingest?.peak_rss_mb ?? null,
    ingest_ratio_c1: ingestAt(1)?.ratio ?? null,
    ingest_ratio_c64: ingestAt(64)?.ratio ?? null,
    delivery_ratio_w16: deliveryAt(16)?.ratio ?? null,
    delivery_scaling_w16_w4: scaling(deliveryAt(16)?.per_second, deliveryAt(4)?.per_second),
    ingest_per_second_c16: ingestAt(16)?.api.perSecond ?? null,
    delivery_per_second_w4: deliveryAt(4)?.per_second ?? null,
    claim_index_driven: scale?.claim_index_driven ?? null,
    startup_ms: startup?.serve_to_healthy_ms ?? null,
    migrate_noop_ms: startup?.migrate_noop_ms ?? null,
    synth_wall_ms: synth?.wall_ms ?? null,
    synth_peak_rss_mb: synth?.peak_rss_mb ?? null,
    peer_ingest_ratio_c16: peer?.ingest.ratio ?? null,
    peer_delivery_ratio_w4: peer?.delivery.ratio ?? null,
    batch_ratio: paths.batch?.batch_ratio ?? null,
    webhook_ratio: paths.webhooks?.webhook_ratio ?? null,
    delivery_ratio_w4_dead_webhook: paths.webhooks?.delivery_ratio_w4_dead_webhook ?? null,
    peak_rss_mb_large: paths.memoryLarge?.peak_rss_mb_large ?? null,
  };
}

function targetStatus(keys: ReturnType<typeof keyFigures>) {
  return Object.fromEntries(
    Object.entries(TARGETS).map(([key, target]) => {
      const value = keys[key as keyof typeof TARGETS];
      const met =
        value === null ? false : 'min' in target ? value >= target.min : value <= target.max;
      return [
        key,
        { value, target: 'min' in target ? `>= ${target.min}` : `<= ${target.max}`, met },
      ];
    }),
  );
}

/** The figures of the batch, webhooks and large-email sections. */
interface NewPathResults {
  batch?: BatchResult;
  webhooks?: WebhookResult;
  memoryLarge?: LargeMemoryResult;
}

function newPathTables({ batch, webhooks, memoryLarge }: NewPathResults): string[] {
  const tables: string[] = [];
  if (batch) {
    tables.push(
      formatTable(
        `Batch: emails accepted/s, POST /v1/emails/batch (${batch.batch_size} a request) vs single POST /v1/emails, concurrency ${batch.concurrency}, no queue workers, best of ${batch.rounds}`,
        ['path', 'emails/s', 'p50 ms (request)', 'ratio'],
        [
          ['single', batch.single_per_second, batch.single_p50_ms, 1],
          ['batch', batch.batch_per_second, batch.batch_p50_ms, batch.batch_ratio],
        ],
      ),
    );
  }
  if (webhooks) {
    tables.push(
      formatTable(
        `Webhooks: ${webhooks.events} outbox events (${webhooks.payload_bytes}-byte payloads) drained to a local receiver vs a bare POST loop, ${webhooks.concurrency} in flight; deliveries/s per round`,
        ['side', 'per round', 'median ratio'],
        [
          ['SelfMX webhook workers', webhooks.selfmx_per_second.join(', '), webhooks.webhook_ratio],
          ['bare POST loop (keep-alive)', webhooks.baseline_per_second.join(', '), 1],
        ],
      ),
      formatTable(
        `Delivery with a dead webhook endpoint: backlog of ${webhooks.delivery_backlog}, 4 workers, delivered/s per round; ratio = median ÷ nodemailer alone`,
        ['run', 'per round', 'ratio'],
        [
          ['nodemailer alone', webhooks.nodemailer_per_second.join(', '), 1],
          [
            'SelfMX, no webhook',
            webhooks.delivered_per_second_without_webhooks.join(', '),
            webhooks.delivery_ratio_w4_no_webhook,
          ],
          [
            `SelfMX, dead endpoint subscribed (events left: ${webhooks.dead_webhook_events_waiting.join(', ')})`,
            webhooks.delivered_per_second_with_dead_webhook.join(', '),
            webhooks.delivery_ratio_w4_dead_webhook,
          ],
        ],
      ),
    );
  }
  if (memoryLarge) {
    tables.push(
      formatTable(
        `Memory with large emails: ${memoryLarge.emails} POST /v1/emails at concurrency ${memoryLarge.concurrency}, 1 in ${memoryLarge.large_every} with a ${memoryLarge.large_bytes / 1024 / 1024} MiB attachment (${memoryLarge.large_request_bytes} bytes of JSON)`,
        ['accepted', 'large', 'errors', 'emails/s', 'VmHWM MiB', 'sampled VmRSS MiB'],
        [
          [
            memoryLarge.accepted,
            memoryLarge.large_accepted,
            memoryLarge.errors,
            memoryLarge.per_second,
            memoryLarge.peak_rss_mb_large,
            memoryLarge.sampled_peak_rss_mb,
          ],
        ],
      ),
    );
  }
  return tables;
}

function printTables(results: {
  date: Date;
  machine: ReturnType<typeof describeMachine>;
  ingest: IngestResult | undefined;
  delivery: DeliveryResult | undefined;
  scale: ScaleResult | undefined;
  startup: StartupResult | undefined;
  synth: SynthResult | undefined;
  peer: PeerResult | undefined;
  paths: NewPathResults;
  targets: ReturnType<typeof targetStatus>;
}): string {
  const { machine, ingest, delivery, scale, startup, synth, paths } = results;
  const parts = [
    `SelfMX bench, ${results.date.toISOString()}: ${machine.cpu}, ${machine.cores} cores, ` +
      `${machine.memory_gib} GiB, Node ${machine.node}, ${machine.platform}${quick ? ' (QUICK run)' : ''}`,
  ];
  if (ingest) {
    parts.push(
      formatTable(
        `Ingest: POST /v1/emails vs single-row INSERT (pg pool of 10), ${ingest.duration_ms / 1000} s per run, best of ${ingest.rounds}; CPU in ms per email`,
        [
          'concurrency',
          'API/s',
          'p50 ms',
          'p99 ms',
          'app CPU',
          'PG CPU',
          'INSERT/s',
          'p50 ms',
          'p99 ms',
          'PG CPU',
          'ratio',
        ],
        ingest.rows.map((row) => [
          row.concurrency,
          row.api.perSecond,
          row.api.p50Ms,
          row.api.p99Ms,
          row.api_cpu_ms.app ?? 0,
          row.api_cpu_ms.postgres ?? 0,
          row.baseline.perSecond,
          row.baseline.p50Ms,
          row.baseline.p99Ms,
          row.baseline_cpu_ms.postgres ?? 0,
          row.ratio,
        ]),
      ),
    );
    if (ingest.sql_path_c16) {
      parts.push(
        `Breakdown at concurrency 16: the API's SQL alone for a known key (the accept statement, ` +
          `which also authenticates and counts; in-process, no HTTP) runs ${ingest.sql_path_c16.per_second}/s, ratio ` +
          `${ingest.sql_path_c16.ratio} to the INSERT baseline.`,
      );
    }
  }
  if (delivery) {
    parts.push(
      formatTable(
        `Delivery: backlog of ${delivery.backlog} to the SMTP sink vs nodemailer alone (median ${delivery.baseline_per_second}/s of runs ${delivery.baseline_runs_per_second.join(', ')}, one before each SelfMX run; pool of 10, ${delivery.baseline_cpu_ms} ms CPU per message); CPU in ms per email`,
        [
          'workers',
          'SelfMX/s',
          'ratio',
          'app CPU',
          'PG CPU',
          'duplicates',
          'rows delivered',
          'SMTP conns',
        ],
        delivery.rows.map((row) => [
          row.workers,
          row.per_second,
          row.ratio,
          row.cpu_ms.app ?? 0,
          row.cpu_ms.postgres ?? 0,
          row.duplicates,
          row.delivered_rows,
          row.max_smtp_connections,
        ]),
      ),
    );
  }
  if (scale) {
    parts.push(
      formatTable(
        `Scale: steady delivery rate, ${scale.workers} workers; the large backlog shares the table with ${scale.scheduled_later} emails scheduled for a day later`,
        ['backlog', 'measured', 'delivered/s', 'ratio'],
        [
          [scale.small_backlog, scale.small_backlog, scale.small_per_second, 1],
          [scale.large_backlog, scale.large_measured, scale.large_per_second, scale.backlog_ratio],
        ],
      ),
      `Claim query plan with ${scale.large_backlog} queued (index-driven: ${scale.claim_index_driven}):\n${scale.claim_plan}`,
    );
  }
  if (results.peer) parts.push(peerTable(results.peer));
  parts.push(...newPathTables(paths));
  const other: (string | number)[][] = [];
  if (startup) {
    other.push(
      ['serve: spawn to /health 200 (schema migrated)', `${startup.serve_to_healthy_ms} ms`],
      ['migrate with nothing to do', `${startup.migrate_noop_ms} ms`],
      ['migrate on an empty database', `${startup.migrate_apply_ms} ms`],
    );
  }
  if (ingest) {
    other.push(
      ['app peak RSS during ingest (VmHWM)', `${ingest.peak_rss_mb} MiB`],
      ['app highest sampled VmRSS during ingest', `${ingest.sampled_peak_rss_mb} MiB`],
    );
  }
  if (synth) {
    other.push(['npm run synth wall time', `${synth.wall_ms} ms`]);
    if (synth.peak_rss_mb !== null)
      other.push(['npm run synth peak RSS', `${synth.peak_rss_mb} MiB`]);
  }
  if (other.length > 0)
    parts.push(formatTable('Start-up, memory, synth', ['what', 'value'], other));
  parts.push(
    formatTable(
      'Key figures',
      ['key', 'value', 'target', 'met'],
      Object.entries(results.targets).map(([key, status]) => [
        key,
        status.value === null ? 'n/a' : status.value,
        status.target,
        status.met ? 'yes' : 'NO',
      ]),
    ),
  );
  return parts.join('\n\n');
}

function peerTable(peer: PeerResult): string {
  const row = (what: string, round: number, pair: PeerResult['ingest']['rounds'][number]) => [
    what,
    round,
    pair.selfmx.per_second,
    pair.peer.per_second,
    pair.ratio,
    pair.selfmx.cpu_ms.app ?? 0,
    pair.peer.cpu_ms.app ?? 0,
    pair.selfmx.cpu_ms.postgres ?? 0,
    pair.peer.cpu_ms.postgres ?? 0,
  ];
  return formatTable(
    `Against a DIY pg-boss server (Fastify + pg-boss ${peer.pg_boss_version} + nodemailer), rounds A B A B; ` +
      `ratio of the best rounds: ingest ${peer.ingest.ratio}, delivery ${peer.delivery.ratio}; CPU in ms per email`,
    ['run', 'round', 'SelfMX/s', 'peer/s', 'ratio', 'app CPU', 'peer CPU', 'PG CPU', 'peer PG CPU'],
    [
      ...peer.ingest.rounds.map((pair, i) =>
        row(`ingest c=${peer.ingest.concurrency}, no workers`, i + 1, pair),
      ),
      ...peer.delivery.rounds.map((pair, i) =>
        row(`delivery of ${peer.delivery.backlog}, ${peer.delivery.workers} workers`, i + 1, pair),
      ),
    ],
  );
}

async function main(): Promise<number> {
  const date = new Date();
  const machine = describeMachine();
  const env = await startBenchEnvironment();
  let startup: StartupResult | undefined;
  let ingest: IngestResult | undefined;
  let delivery: DeliveryResult | undefined;
  let scale: ScaleResult | undefined;
  let peer: PeerResult | undefined;
  const paths: NewPathResults = {};
  try {
    startup = await section('start-up and migrate', () => measureStartup(env));
    ingest = await section('ingest', () => ingestAndTemplate(env));
    if (ingest) {
      delivery = await section('delivery', () =>
        measureDelivery(env, sizes.deliveryBacklog, sizes.deliveryWorkers),
      );
      peer = await section('peer', () => measurePeer(env, sizes.peer));
      scale = await section('scale', () => measureScale(env, sizes.scale));
    }
    paths.batch = await section('batch', () => measureBatch(env, sizes.batch));
    if (ingest) {
      paths.webhooks = await section('webhooks', () => measureWebhooks(env, sizes.webhooks));
    }
    paths.memoryLarge = await section('memory with large emails', () =>
      measureLargeEmailMemory(env, sizes.memoryLarge),
    );
  } finally {
    await env.close();
  }
  const synth = await section('synth', () => measureSynth());

  const keys = keyFigures(ingest, delivery, scale, startup, synth, peer, paths);
  const targets = targetStatus(keys);
  const printed = printTables({
    date,
    machine,
    ingest,
    delivery,
    scale,
    startup,
    synth,
    peer,
    paths,
    targets,
  });
  console.log(printed);
  const files = await writeResults(
    date,
    {
      ...keys,
      date: date.toISOString(),
      quick,
      machine,
      targets,
      sizes,
      startup,
      ingest,
      delivery,
      scale,
      synth,
      peer,
      ...paths,
      failures,
    },
    printed,
    quick,
  );
  console.error(`bench: wrote ${files.latest} and ${files.dated}`);
  for (const failure of failures) console.error(`bench: FAILED ${failure}`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
