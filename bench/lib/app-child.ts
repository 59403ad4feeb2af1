import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built bundle, exactly what the container image runs. */
export const BUNDLE = fileURLToPath(new URL('../../app/dist/selfmx.js', import.meta.url));

export interface AppChild {
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last lines the process printed (stdout and stderr), for error messages. */
  output(): string;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
}

// The logs stay readable after the app exits (for error messages) and go when the bench does.
const logDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of logDirs) rmSync(dir, { recursive: true, force: true });
});

/** BENCH_PROFILE=<dir>: every app process writes a V8 CPU profile there when it exits. */
const PROFILE_FLAGS = process.env.BENCH_PROFILE
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
  : [];

/**
 * Spawns `node app/dist/selfmx.js <args>` with exactly `env` (plus PATH). Its stdout and stderr
 * go to a log file, as with Docker's json-file driver: a pipe read by this (busy) process would
 * fill up and block the app's synchronous log writes, and the bench would measure itself.
 */
export function spawnApp(args: string[], env: Record<string, string>): AppChild {
  return spawnNodeScript([BUNDLE, ...args], env);
}

// An absolute specifier: the child resolves --import from its working directory otherwise.
const TSX_LOADER = import.meta.resolve('tsx');

/** Spawns `node --import tsx <script>` (a TypeScript bench helper) the way spawnApp does. */
export function spawnTsScript(script: string, env: Record<string, string>): AppChild {
  return spawnNodeScript(['--import', TSX_LOADER, script], env);
}

/** Spawns `node <nodeArgs>` the way spawnApp does (log file, profile flags, exactly `env`). */
export function spawnNodeScript(nodeArgs: string[], env: Record<string, string>): AppChild {
  const logDir = mkdtempSync(join(tmpdir(), 'selfmx-bench-app-'));
  logDirs.add(logDir);
  const logFile = join(logDir, 'app.log');
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...PROFILE_FLAGS, ...nodeArgs], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  if (child.pid === undefined) throw new Error(`could not spawn node ${nodeArgs.join(' ')}`);

  return {
    pid: child.pid,
    child,
    exited,
    output: () => tail(logFile, 40),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/** Runs a command of the bundle to completion; rejects with its output if it fails. */
export async function runAppCommand(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ elapsedMs: number; output: string }> {
  const began = performance.now();
  const app = spawnApp(args, env);
  const timer = setTimeout(() => app.child.kill('SIGKILL'), timeoutMs);
  const code = await app.exited.finally(() => clearTimeout(timer));
  const elapsedMs = performance.now() - began;
  if (code !== 0) throw new Error(`selfmx ${args.join(' ')} exited ${code}:\n${app.output()}`);
  return { elapsedMs, output: app.output() };
}

/**
 * Polls `url` until it answers 200, the process exits, or `timeoutMs` passes. Returns the time
 * from `since` (a performance.now() value) to the first 200.
 */
export async function waitForHealthy(
  app: AppChild,
  url: string,
  since: number,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  void app.exited.then(() => {
    exited = true;
  });
  while (performance.now() < deadline && !exited) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - since;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(
    `${url} not healthy ${exited ? 'before the process exited' : `after ${timeoutMs} ms`}:\n${app.output()}`,
  );
}
