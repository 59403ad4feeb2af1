import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

function buildAndPush(scenario: string) {
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
      BUILD_CONTEXT: '../../..',
    },
  });
  const log = join(state, 'docker.log');
  const docker = existsSync(log)
    ? readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { args: string[]; stdin?: string })
    : [];
  return { status: result.status, output: result.stdout + result.stderr, docker };
}

describe('build-and-push-image.sh', () => {
  test('builds app/Dockerfile from the relative context, logs in to ECR and pushes the tag', () => {
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
          '../../../app/Dockerfile',
          '-t',
          image,
          '../../..',
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

  test('does nothing when the immutable tag is already in ECR', () => {
    const run = buildAndPush('image-present');
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /already in ECR; nothing to build/);
    assert.deepEqual(run.docker, []);
  });
});
