import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What the end-to-end tests need to run a synthesized container's command as a local process. */

const DOCKERFILE = fileURLToPath(new URL('../../app/Dockerfile', import.meta.url));

export interface Exit {
  code: number;
  output: string;
}

/** Runs a process to completion with exactly `env` (plus PATH), collecting its output. */
export function runToExit(
  argv: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const [file = '', ...args] = argv;
    const child = spawn(file, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

/**
 * The image's ENTRYPOINT, mapped from the image's /app to `bundle` (the selfmx.js that build.ts
 * writes, which the Dockerfile copies to /app).
 */
export function imageEntrypoint(bundle: string): string[] {
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(DOCKERFILE, 'utf8'));
  assert.ok(line?.[1], 'app/Dockerfile has an exec-form ENTRYPOINT');
  const argv: string[] = JSON.parse(line[1]);
  assert.deepEqual(argv, ['node', '/app/selfmx.js'], 'the image runs the bundle with node');
  return [process.execPath, bundle];
}
