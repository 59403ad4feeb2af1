import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT, releaseHash } from './release-hash.js';

/**
 * Written by app/build.ts into the build output: the release hash of the sources the artifacts
 * were built from. app/Dockerfile copies app/dist as it is, so this is how a stack knows the
 * artifacts are current.
 */
export const ARTIFACTS_STAMP = 'app/dist/release-hash';

/** The artifacts app/Dockerfile copies, relative to the repository root. */
export const RELEASE_ARTIFACTS = [
  'app/dist/selfmx.js',
  'app/dist/package.json',
  'app/dist/migrations',
  'app/dist/certs/rds-global-bundle.pem',
] as const;

/** Whether app/dist holds every artifact, built from exactly these sources. */
export function releaseArtifactsAreCurrent(hash: string, root: string = REPOSITORY_ROOT): boolean {
  const stamp = join(root, ARTIFACTS_STAMP);
  return (
    RELEASE_ARTIFACTS.every((artifact) => existsSync(join(root, artifact))) &&
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8').trim() === hash
  );
}

/**
 * Runs the repository's build (`npm run build`) when app/dist is missing or was built from other
 * sources, and returns the release hash the artifacts now match. Called at synth, so that
 * `cdktf deploy` from a clean clone builds the image from current artifacts in one command.
 */
export function ensureReleaseArtifacts(root: string = REPOSITORY_ROOT): string {
  const hash = releaseHash(root);
  if (releaseArtifactsAreCurrent(hash, root)) return hash;
  execFileSync(process.execPath, ['--import', 'tsx', join(root, 'app/build.ts')], {
    cwd: root,
    // Synth prints the stack's JSON path on stdout; the build's own line goes to stderr.
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (!releaseArtifactsAreCurrent(hash, root)) {
    throw new Error(
      `app/build.ts did not leave current artifacts in app/dist (expected ${RELEASE_ARTIFACTS.join(', ')} and ${ARTIFACTS_STAMP} = ${hash}): run \`npm run build\` and read its output`,
    );
  }
  return hash;
}
