import { docker } from './docker-cli.js';

/**
 * Whether a Docker engine answers. `.ci/run` installs and starts one; without one the engine
 * tests fail in CI (CI=true) and are reported as not run elsewhere, with the reason: they never
 * pass silently.
 */
export async function engineUnavailableReason(): Promise<string | undefined> {
  try {
    const info = await docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 30_000 });
    if (info.code === 0 && info.stdout.trim() !== '') return undefined;
    return `no Docker engine answers (docker info: ${(info.stderr || info.stdout).trim()})`;
  } catch (error) {
    return `no docker CLI (${(error as Error).message})`;
  }
}
