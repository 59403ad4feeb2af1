import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// stacks/scripts/run-migration.sh against test/fixtures/ecs/aws, a stand-in for the AWS CLI that
// replays ECS answers (run-task, describe-tasks, get-log-events) in the shape the ECS API
// returns them, one directory per scenario, through --query and --output as the CLI applies them.
// The script runs with a `node` on PATH that only records that it was called: it reads the CLI's
// answers without node (the fake CLI and the lint run with this process's node by absolute path).
const root = fileURLToPath(new URL('../../', import.meta.url));
const script = join(root, 'stacks/scripts/run-migration.sh');
const fakeAws = join(root, 'test/fixtures/ecs');
const stateDirs: string[] = [];
after(() => {
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
});

function runMigration(scenario: string, extra: Record<string, string> = {}) {
  const state = mkdtempSync(join(tmpdir(), 'selfmx-fake-aws-'));
  stateDirs.push(state);
  const bin = join(state, 'bin');
  const nodeCalled = join(state, 'node-called');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'aws'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(fakeAws, 'aws'))} "$@"\n`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(bin, 'node'),
    `#!/bin/sh\necho "$@" >> ${JSON.stringify(nodeCalled)}\nexit 97\n`,
    {
      mode: 0o755,
    },
  );
  const result = spawnSync(script, [], {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
      HOME: state,
      FAKE_AWS_SCENARIO: join(fakeAws, scenario),
      FAKE_AWS_STATE: state,
      AWS_REGION: 'us-east-1',
      CLUSTER: 'selfmx-prod',
      TASK_DEFINITION: 'arn:aws:ecs:us-east-1:123456789012:task-definition/selfmx-prod-migrate:7',
      CONTAINER_NAME: 'migrate',
      SUBNETS: 'subnet-0a1b2c3d4e5f60718,subnet-0f1e2d3c4b5a69788',
      SECURITY_GROUPS: 'sg-0123456789abcdef0',
      LOG_GROUP: '/selfmx/prod',
      POLL_SECONDS: '0',
      NODE_BIN: process.execPath,
      ...extra,
    },
  });
  const callsLog = join(state, 'calls.log');
  const calls = existsSync(callsLog)
    ? readFileSync(callsLog, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as string[])
    : [];
  const usedNode = existsSync(nodeCalled) ? readFileSync(nodeCalled, 'utf8') : '';
  return { status: result.status, stderr: result.stderr, calls, usedNode };
}

describe('run-migration.sh', () => {
  test('succeeds when the migrate container exits 0, streaming its log', () => {
    const run = runMigration('success');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /succeeded: container migrate exited 0/);
    assert.match(run.stderr, /\| .*applied 1764180000000_initial-schema/);
    const runTask = run.calls.find((call) => call[1] === 'run-task');
    assert.ok(runTask, 'run-task was called');
    assert.ok(runTask.includes('FARGATE'));
    assert.ok(
      runTask.includes(
        'awsvpcConfiguration={subnets=[subnet-0a1b2c3d4e5f60718,subnet-0f1e2d3c4b5a69788],securityGroups=[sg-0123456789abcdef0],assignPublicIp=DISABLED}',
      ),
    );
    // It polls describe-tasks until STOPPED (3 recorded answers), never the CLI waiter.
    assert.equal(run.calls.filter((call) => call[1] === 'describe-tasks').length, 3);
    assert.ok(!run.calls.some((call) => call[1] === 'wait'));
    const logs = run.calls.find((call) => call[1] === 'get-log-events');
    assert.ok(logs?.includes('migrate/migrate/3f7b2a9c1d5e4f60a1b2c3d4e5f60718'));
  });

  test('the migration lint gates the release: a refused migration starts no task', () => {
    const refusing = join(mkdtempSync(join(tmpdir(), 'selfmx-lint-')), 'node');
    stateDirs.push(join(refusing, '..'));
    writeFileSync(
      refusing,
      '#!/bin/sh\necho "$@" >&2\necho "migrations/x.sql:3: error require-concurrent-index-creation (emails)" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    const run = runMigration('success', { NODE_BIN: refusing });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /app\/dist\/selfmx\.js migrate --check/);
    assert.match(run.stderr, /error require-concurrent-index-creation/);
    assert.match(run.stderr, /lint refused this release before any task started/);
    assert.deepEqual(run.calls, [], 'no AWS call was made');
  });

  test('the shipped migrations pass the gate (the built bundle)', () => {
    const run = runMigration('success');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /migration lint: 0 error\(s\)/);
  });

  test("reads the answers with the CLI's --query, never by running node on them", () => {
    const run = runMigration('success');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.usedNode, '', 'the script ran node');
    for (const call of run.calls)
      assert.ok(call.includes('--query'), `no --query: ${call.join(' ')}`);
  });

  test('a describe-tasks call that fails once is retried; the release goes on', () => {
    const run = runMigration('transient-describe');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /ThrottlingException/);
    assert.match(
      run.stderr,
      /describe-tasks failed \(1 of 10 in a row\); task 3f7b2a9c\S* keeps running/,
    );
    assert.match(run.stderr, /succeeded: container migrate exited 0/);
    assert.equal(run.calls.filter((call) => call[1] === 'describe-tasks').length, 4);
  });

  test('describe-tasks failing DESCRIBE_ATTEMPTS times in a row fails, saying the task may run', () => {
    const run = runMigration('describe-unavailable', { DESCRIBE_ATTEMPTS: '3' });
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      /FAILED: cannot see task 3f7b2a9c\S* after 3 attempts; it may still be running/,
    );
    assert.equal(run.calls.filter((call) => call[1] === 'describe-tasks').length, 3);
  });

  test('a CONTAINER_NAME that is not an ECS name is refused before anything starts', () => {
    const run = runMigration('success', { CONTAINER_NAME: "migrate'] | [0]" });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /CONTAINER_NAME must be an ECS container name/);
    assert.deepEqual(run.calls, []);
  });

  test('fails with the exit code when the migrate container exits non-zero', () => {
    const run = runMigration('exit-code');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /FAILED: container migrate exited with code 1/);
    assert.match(run.stderr, /edited after it was applied/);
    assert.match(run.stderr, /running version keeps serving/);
  });

  test('fails with the reason when the task stops before the container ran (no capacity)', () => {
    const run = runMigration('capacity');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /stopped before container migrate finished: TaskFailedToStart/);
    assert.match(run.stderr, /Capacity is unavailable at this time/);
  });

  test('fails when ECS refuses to start the task', () => {
    const run = runMigration('refused');
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      /ECS did not start the task: MISSING \(The referenced task definition is inactive\)/,
    );
    assert.ok(!run.calls.some((call) => call[1] === 'describe-tasks'));
  });

  test('fails when the task does not stop within TIMEOUT_SECONDS', () => {
    const run = runMigration('stuck', { TIMEOUT_SECONDS: '0' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /did not stop within 0s; it is still running \(aws ecs stop-task/);
  });
});
