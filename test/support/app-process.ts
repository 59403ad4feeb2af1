import { type ChildProcess, spawn } from 'node:child_process';
import { sharedBundleCopy } from './bundle.js';
import { freePort } from './postgres.js';

export interface AppProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything written so far on stdout and stderr. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number) once the process has ended. */
  readonly exited: Promise<number>;
  /** Sends `signal` (default SIGTERM) and waits for the exit code; SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number>;
  /** Waits for the exit code without sending anything; SIGKILL after `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<number>;
}

export interface StartAppOptions {
  /** The exact environment of the process (nothing is inherited but PATH). PORT is chosen. */
  env: Record<string, string>;
  /** @default 'serve' */
  command?: string[];
  /** The selfmx.js to run. @default this process's sharedBundleCopy() (built if stale) */
  bundle?: string;
  /** Wait for GET /health to answer 200. @default true */
  waitForHealth?: boolean;
  /** @default 30000 */
  startTimeoutMs?: number;
}

/**
 * Spawns the BUILT bundle, `node selfmx.js serve` (a private copy of app/dist, rebuilt first when
 * older than the sources), as a real process on a free port with an explicit environment, waits
 * until /health answers 200 and keeps its logs.
 */
export async function startApp(options: StartAppOptions): Promise<AppProcess> {
  const bundle = options.bundle ?? (await sharedBundleCopy()).bundle;
  const port = Number(options.env.PORT ?? (await freePort()));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOST: '127.0.0.1',
    ...options.env,
    PORT: String(port),
  };
  const child = spawn(process.execPath, [bundle, ...(options.command ?? ['serve'])], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
  });
  const url = `http://127.0.0.1:${port}`;
  const app: AppProcess = {
    url,
    port,
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return app.waitForExit(timeoutMs);
    },
    async waitForExit(timeoutMs = 15_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  if (options.waitForHealth ?? true) {
    try {
      await waitForHealth(url, exited, options.startTimeoutMs ?? 30_000);
    } catch (error) {
      await app.stop('SIGKILL');
      throw new Error(`${(error as Error).message}\nstdout:\n${out}\nstderr:\n${err}`);
    }
  }
  return app;
}

async function waitForHealth(
  url: string,
  exited: Promise<number>,
  timeoutMs: number,
): Promise<void> {
  let exitCode: number | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(`selfmx exited with code ${exitCode} before /health was ok`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`selfmx did not answer /health with 200 within ${timeoutMs} ms`);
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : signal === 'SIGINT' ? 2 : 0;
}
