import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The docker CLI the engine tests drive. Debian's docker.io client (/usr/bin/docker) matches
 * Debian's engine and builds with BuildKit by itself (DOCKER_BUILDKIT=1); a newer client on PATH
 * would need the buildx plugin for that, which Debian bookworm does not package.
 */
export const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `docker <args>` to completion; never throws on a non-zero exit code. */
export function docker(
  args: string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER, args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    // A command that exits before reading its input closes the pipe (EPIPE, most often when there
    // is no input to read); its exit code and output are the result, so that error is not one.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** `docker <args>`, failing with its output when it exits non-zero; returns trimmed stdout. */
export async function dockerOk(
  args: string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const result = await docker(args, options);
  if (result.code !== 0) {
    throw new Error(
      `docker ${args.join(' ')} exited ${result.code}:\n${result.stdout}${result.stderr}`,
    );
  }
  return result.stdout.trim();
}

/** `docker inspect` of one object as JSON, or undefined when it does not exist. */
// biome-ignore lint/suspicious/noExplicitAny: docker inspect output is untyped; tests assert it.
export async function inspect(kind: string, name: string): Promise<any | undefined> {
  const result = await docker([kind, 'inspect', name]);
  if (result.code !== 0) return undefined;
  return JSON.parse(result.stdout)[0];
}
