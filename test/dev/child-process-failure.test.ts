import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initdb } from '../../app/src/dev/initdb.js';
import { postgresOsUser, runningAsRoot } from '../../app/src/dev/postgres-os-user.js';

/**
 * A program the dev server cannot start (missing, or not executable for the user that runs it)
 * is reported in one line naming it, not as an unhandled 'error' event with a stack trace.
 */
let base: string;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'selfmx-spawn-test-'));
  await chmod(base, 0o755);
});
after(() => rm(base, { recursive: true, force: true }));

function initdbWith(binary: string, name: string) {
  return initdb({
    initdb: binary,
    dataDir: join(base, name, 'data'),
    user: 'selfmx',
    password: 'secret-password',
    runAs: runningAsRoot ? postgresOsUser() : undefined,
  });
}

function assertOneLine(error: unknown, pattern: RegExp): true {
  assert.ok(error instanceof Error);
  assert.equal(error.message.split('\n').length, 1, error.message);
  assert.match(error.message, pattern);
  assert.doesNotMatch(error.message, /secret-password/);
  return true;
}

describe('a child process that cannot start', () => {
  it('is named as not found when it does not exist', async () => {
    const missing = join(base, 'no-such-initdb');
    await assert.rejects(initdbWith(missing, 'missing'), (error) =>
      assertOneLine(error, new RegExp(`^cannot run ${missing}.*: not found`)),
    );
  });

  it('is named as not permitted when it cannot be executed', async () => {
    const notExecutable = join(base, 'initdb');
    await writeFile(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
    await assert.rejects(initdbWith(notExecutable, 'not-executable'), (error) =>
      assertOneLine(error, new RegExp(`^cannot run ${notExecutable}.*: permission denied`)),
    );
  });
});
