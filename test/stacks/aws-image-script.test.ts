import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// stacks/scripts/build-and-push-image.sh with test/fixtures/ecs/aws (replays ECR answers) and
// test/fixtures/ecs/docker (records the calls) on PATH: no Docker engine and no AWS here.
const root = fileURLToPath(new URL('../../', import.meta.url));
const script = join(root, 'stacks/scripts/build-and-push-image.sh');
const fakes = join(root, 'test/fixtures/ecs');
const REPOSITORY = '123456789012.dkr.ecr.us-east-1.amazonaws.com/selfmx-prod';
const stateDirs: string[] = [];
after(() => {
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
});

const RELEASE = 'cf2c5440fbd6755a'.padEnd(64, '0');

/** A build context whose app/dist was built from `built` (undefined: never built). */
function buildContext(built: string | undefined): string {
  const context = mkdtempSync(join(tmpdir(), 'selfmx-context-'));
  stateDirs.push(context);
  mkdirSync(join(context, 'app/dist'), { recursive: true });
  if (built !== undefined) writeFileSync(join(context, 'app/dist/release-hash'), `${built}\n`);
  return context;
}

function buildAndPush(scenario: string, context = buildContext(RELEASE)) {
  const state = mkdtempSync(join(tmpdir(), 'selfmx-fake-docker-'));
  stateDirs.push(state);
  const result = spawnSync(script, [], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: `${fakes}${delimiter}${process.env.PATH ?? ''}`,
      HOME: state,
      FAKE_AWS_SCENARIO: join(fakes, scenario),
      FAKE_AWS_STATE: state,
      REPOSITORY_URL: REPOSITORY,
      IMAGE_TAG: 'sha-cf2c5440fbd6755a',
      AWS_REGION: 'us-east-1',
      BUILD_CONTEXT: context,
      RELEASE_HASH: RELEASE,
    },
  });
  const log = join(state, 'docker.log');
  const docker = existsSync(log)
    ? readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { args: string[]; stdin?: string })
    : [];
  return { status: result.status, output: result.stdout + result.stderr, docker, context };
}

describe('build-and-push-image.sh', () => {
  test('builds app/Dockerfile from the context, logs in to ECR and pushes the tag', () => {
    const run = buildAndPush('image-missing');
    assert.equal(run.status, 0, run.output);
    const image = `${REPOSITORY}:sha-cf2c5440fbd6755a`;
    assert.deepEqual(
      run.docker.map((call) => call.args),
      [
        [
          'build',
          '--pull',
          '--platform',
          'linux/amd64',
          '-f',
          `${run.context}/app/Dockerfile`,
          '-t',
          image,
          run.context,
        ],
        [
          'login',
          '--username',
          'AWS',
          '--password-stdin',
          '123456789012.dkr.ecr.us-east-1.amazonaws.com',
        ],
        ['push', image],
      ],
    );
    assert.equal(run.docker[1]?.stdin, 'fake-ecr-token');
  });

  for (const [what, built] of [
    ['built from other sources', 'f'.repeat(64)],
    ['never built', undefined],
  ] as const) {
    test(`refuses to build when app/dist was ${what}, before any docker call`, () => {
      const run = buildAndPush('image-missing', buildContext(built));
      assert.notEqual(run.status, 0);
      assert.match(run.output, /app\/dist\/release-hash is .* not the release cf2c5440/);
      assert.match(run.output, /npm run build/);
      assert.deepEqual(run.docker, []);
    });
  }

  test('does nothing when the immutable tag is already in ECR', () => {
    const run = buildAndPush('image-present');
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /already in ECR; nothing to build/);
    assert.deepEqual(run.docker, []);
  });
});
