import { Worker } from 'node:worker_threads';
import { TEMPLATE_RENDER_LIMITS } from './render-limits.js';
import type { RenderReply, RenderRequest } from './render-protocol.js';

type Job = Omit<RenderRequest, 'id'>;
type Reply = RenderReply extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
/** A worker's answer, or `timeout` when the deadline passed first (the worker is then ended). */
export type RenderOutcome = Reply | { ok: false; reason: 'timeout'; message: string };

/** One template-render worker thread: one job at a time, ended when a job overruns. */
export class RenderWorker {
  private readonly worker = spawnRenderWorker();
  private nextId = 1;
  private pending: { id: number; settle(outcome: RenderOutcome): void } | undefined;
  /** Set once the worker is ended or has failed: it takes no further jobs. */
  dead = false;
  readonly ready: Promise<void>;

  constructor() {
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (reply: RenderReply | 'ready') => {
        if (reply === 'ready') resolve();
        else if (reply.id === this.pending?.id) this.finish(reply);
      });
      this.worker.on('error', (error: Error & { code?: string }) => {
        this.dead = true;
        reject(error);
        const outOfMemory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
        this.finish(
          outOfMemory
            ? {
                ok: false,
                reason: 'too_large',
                message: `needs more than ${TEMPLATE_RENDER_LIMITS.workerHeapMb} MB of memory to render`,
              }
            : { ok: false, reason: 'failed', message: error.message },
        );
      });
      this.worker.on('exit', () => {
        this.dead = true;
        reject(new Error('the template-render worker stopped before it was ready'));
        this.finish({ ok: false, reason: 'failed', message: 'the render worker stopped' });
      });
    });
    // An idle worker must not keep the process alive (unref after the listeners: they take a
    // ref); one that is starting or rendering must.
    void this.ready.then(
      () => this.worker.unref(),
      () => undefined,
    );
  }

  /** Renders one part; past `timeoutMs` the worker is terminated and the outcome is `timeout`. */
  render(job: Job, timeoutMs: number): Promise<RenderOutcome> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      const timer = setTimeout(
        () => {
          this.dead = true;
          void this.worker.terminate();
          this.finish({
            ok: false,
            reason: 'timeout',
            message: `took longer than ${timeoutMs} ms`,
          });
        },
        Math.max(0, timeoutMs),
      );
      this.worker.ref();
      this.pending = {
        id,
        settle: (outcome) => {
          clearTimeout(timer);
          this.worker.unref();
          resolve(outcome);
        },
      };
      this.worker.postMessage({ id, ...job } satisfies RenderRequest);
    });
  }

  private finish(outcome: RenderOutcome): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.settle(outcome);
  }
}

/**
 * A small, bounded pool of template-render workers. A worker that overran its deadline is
 * terminated and replaced, so a template bomb costs one worker for one deadline and never
 * blocks the event loop or another request's render.
 */
export class RenderWorkerPool {
  private readonly idle: RenderWorker[] = [];
  private readonly waiting: ((worker: Promise<RenderWorker>) => void)[] = [];
  private started = 0;

  constructor(private readonly size: number) {}

  /** Runs `use` with a worker of its own (waiting for one if all are busy). */
  async withWorker<T>(use: (worker: RenderWorker) => Promise<T>): Promise<T> {
    const worker = await this.acquire();
    try {
      return await use(worker);
    } finally {
      this.release(worker);
    }
  }

  private acquire(): Promise<RenderWorker> {
    for (let worker = this.idle.pop(); worker; worker = this.idle.pop()) {
      if (!worker.dead) return Promise.resolve(worker);
      this.started -= 1;
    }
    if (this.started < this.size) return this.start();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(worker: RenderWorker): void {
    if (worker.dead) {
      this.started -= 1;
      const next = this.waiting.shift();
      if (next) next(this.start());
      return;
    }
    const next = this.waiting.shift();
    if (next) next(Promise.resolve(worker));
    else this.idle.push(worker);
  }

  private async start(): Promise<RenderWorker> {
    this.started += 1;
    const worker = new RenderWorker();
    try {
      await worker.ready;
      return worker;
    } catch (error) {
      this.started -= 1;
      this.waiting.shift()?.(this.start());
      throw error;
    }
  }
}

/**
 * Bundled, this module is part of app/dist/selfmx.js and the worker is the bundle beside it
 * (app/build.ts); from the sources (npm run dev, tests) it is the .ts module, loaded through
 * tsx as its parent is (Node 20 does not pass tsx's loader on to worker threads).
 */
function spawnRenderWorker(): Worker {
  const options = {
    resourceLimits: { maxOldGenerationSizeMb: TEMPLATE_RENDER_LIMITS.workerHeapMb },
  };
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./template-render-worker.js', import.meta.url), options);
  }
  const entry = new URL('./template-render-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const load = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(load, { ...options, eval: true });
}
