import assert from 'node:assert/strict';
import { copyFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { type BundleCopy, buildBundleCopy } from '../support/bundle.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { runMigrate } from './migrate-process.js';

/**
 * The worked example of docs/operations.md: emails.last_error renamed to failure_detail across
 * two releases (test/fixtures/expand-contract). Between them, the old release's SQL and the new
 * release's SQL both run against the intermediate schema and see each other's writes.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/expand-contract', import.meta.url));
const EXPAND = [
  '1900000000001_expand-failure-detail.sql',
  '1900000000002_backfill-failure-detail.sql',
];
const CONTRACT = '1900000000003_contract-last-error.sql';

/** What release N runs (it knows last_error only). */
const oldRelease = {
  fail: (db: pg.Client, tenant: string, error: string) =>
    db.query<{ id: string }>(
      `INSERT INTO emails (tenant_id, from_address, to_addresses, subject, status, last_error)
       VALUES ($1, 'a@example.com', '{b@example.com}', 'hi', 'failed', $2) RETURNING id`,
      [tenant, error],
    ),
  read: (db: pg.Client, id: string) =>
    db.query<{ error: string }>('SELECT last_error AS error FROM emails WHERE id = $1', [id]),
};

/** What release N+1 runs (it knows failure_detail only). */
const newRelease = {
  fail: (db: pg.Client, tenant: string, error: string) =>
    db.query<{ id: string }>(
      `INSERT INTO emails (tenant_id, from_address, to_addresses, subject, status, failure_detail)
       VALUES ($1, 'a@example.com', '{b@example.com}', 'hi', 'failed', $2) RETURNING id`,
      [tenant, error],
    ),
  read: (db: pg.Client, id: string) =>
    db.query<{ error: string }>('SELECT failure_detail AS error FROM emails WHERE id = $1', [id]),
};

let postgres: TestPostgres;
let bundle: BundleCopy;
let dir: string;

before(async () => {
  [bundle, postgres] = await Promise.all([buildBundleCopy(), startPostgres()]);
  dir = await mkdtemp(join(tmpdir(), 'selfmx-expand-contract-'));
  await cp(bundle.dir, dir, { recursive: true });
});

after(async () => {
  await postgres?.destroy();
  await bundle?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function addMigrations(names: readonly string[]): Promise<void> {
  for (const name of names) await copyFile(join(FIXTURES, name), join(dir, 'migrations', name));
}

async function errorOf(
  release: typeof oldRelease,
  db: pg.Client,
  id: string,
): Promise<string | undefined> {
  return (await release.read(db, id)).rows[0]?.error;
}

describe('expand/contract: renaming a column across two releases', () => {
  it('old and new code both work on the intermediate schema; the contract drops the old column', async () => {
    await postgres.createDatabase('expand');
    const env = { DATABASE_URL: postgres.url('', 'expand') };
    assert.equal((await runMigrate(dir, [], env)).code, 0, 'release N schema');
    const db = await postgres.client('expand');
    try {
      const tenant =
        (await db.query<{ id: string }>("INSERT INTO tenants (name) VALUES ('acme') RETURNING id"))
          .rows[0]?.id ?? '';
      const beforeExpand =
        (await oldRelease.fail(db, tenant, 'written by N before')).rows[0]?.id ?? '';

      await addMigrations(EXPAND);
      const check = await runMigrate(dir, ['--check'], {});
      assert.equal(check.code, 0, check.output);
      const expand = await runMigrate(dir, [], env);
      assert.equal(expand.code, 0, expand.output);

      // The backfill copied the row written before the expand.
      assert.equal(await errorOf(newRelease, db, beforeExpand), 'written by N before');
      // Release N keeps writing last_error; N+1 reads it as failure_detail, and the other way.
      const byOld = (await oldRelease.fail(db, tenant, 'written by N')).rows[0]?.id ?? '';
      const byNew = (await newRelease.fail(db, tenant, 'written by N+1')).rows[0]?.id ?? '';
      assert.equal(await errorOf(newRelease, db, byOld), 'written by N');
      assert.equal(await errorOf(oldRelease, db, byNew), 'written by N+1');
      await db.query("UPDATE emails SET last_error = 'retried by N' WHERE id = $1", [byNew]);
      assert.equal(await errorOf(newRelease, db, byNew), 'retried by N');
      await db.query("UPDATE emails SET failure_detail = 'retried by N+1' WHERE id = $1", [byOld]);
      assert.equal(await errorOf(oldRelease, db, byOld), 'retried by N+1');

      // Release N+2: the contract is allowed only by its annotation, which the check lists.
      await addMigrations([CONTRACT]);
      const contractCheck = await runMigrate(dir, ['--check'], {});
      assert.equal(contractCheck.code, 0, contractCheck.output);
      assert.match(contractCheck.stdout, /allowed ban-drop-column by annotation: release N\+1/);
      const contract = await runMigrate(dir, [], env);
      assert.equal(contract.code, 0, contract.output);
      assert.equal(await errorOf(newRelease, db, byOld), 'retried by N+1');
      await assert.rejects(oldRelease.read(db, byOld), /column "last_error" does not exist/);
    } finally {
      await db.end();
    }
  });
});
