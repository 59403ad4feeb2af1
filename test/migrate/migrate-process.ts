import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface MigrateResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for assertions that do not care which stream. */
  output: string;
}

export interface RunningMigrate {
  /** Resolves when the output so far matches, or rejects after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<MigrateResult>;
}

/**
 * `node <bundleDir>/selfmx.js migrate ...args` with an environment holding only what is given
 * (plus PATH): the job must need nothing else. Killed if it runs longer than a minute.
 */
export function startMigrate(
  bundleDir: string,
  args: string[],
  env: Record<string, string>,
): RunningMigrate {
  const child = spawn(process.execPath, [join(bundleDir, 'selfmx.js'), 'migrate', ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const onData = () => {
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    onData();
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    onData();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<MigrateResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` });
    });
  });
  const waitForOutput = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(`${stdout}\n${stderr}`)) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${stdout}\n${stderr}`),
        );
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return { waitForOutput, done };
}

export function runMigrate(
  bundleDir: string,
  args: string[],
  env: Record<string, string>,
): Promise<MigrateResult> {
  return startMigrate(bundleDir, args, env).done;
}
