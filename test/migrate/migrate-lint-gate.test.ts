import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  locateMigrationsDirectory,
  readMigrationFiles,
} from '../../app/src/migrate/migration-files.js';
import { type BundleCopy, buildBundleCopy } from '../support/bundle.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { runMigrate } from './migrate-process.js';

/**
 * The release gate through the real bundle: `migrate --check` lints without a database, and
 * `migrate` lints the pending migrations and refuses before any DDL. Also the no-transaction
 * migrations (CREATE INDEX CONCURRENTLY) and the invalid index a failed one leaves behind.
 */
/** Every shipped migration, in apply order; the migrations these tests add sort after them. */
const SHIPPED = (await readMigrationFiles(await locateMigrationsDirectory())).map((f) => f.name);
const UNSAFE_INDEX =
  "-- Up Migration\nSET lock_timeout = '5s';\nCREATE INDEX emails_subject_idx ON emails (subject);\n\n" +
  '-- Down Migration\nDROP INDEX emails_subject_idx;\n';

let postgres: TestPostgres;
let bundle: BundleCopy;
const scratch: string[] = [];
let databases = 0;

before(async () => {
  [bundle, postgres] = await Promise.all([buildBundleCopy(), startPostgres()]);
});

after(async () => {
  await postgres?.destroy();
  await bundle?.remove();
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freshDatabase(): Promise<{ name: string; env: { DATABASE_URL: string } }> {
  databases += 1;
  const name = `gate_${databases}`;
  await postgres.createDatabase(name);
  return { name, env: { DATABASE_URL: postgres.url('', name) } };
}

async function query<T>(database: string, sql: string): Promise<T[]> {
  const client = await postgres.client(database);
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

async function appliedNames(database: string): Promise<string[]> {
  const rows = await query<{ name: string }>(database, 'SELECT name FROM pgmigrations ORDER BY id');
  return rows.map((row) => row.name);
}

/** A bundle copy with extra migrations written into its migrations/. */
async function bundleWith(
  files: Record<string, string>,
): Promise<{ dir: string; paths: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'selfmx-gate-test-'));
  scratch.push(dir);
  await cp(bundle.dir, dir, { recursive: true });
  const paths: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, 'migrations', name);
    await writeFile(path, content);
    paths.push(path);
  }
  return { dir, paths };
}

describe('selfmx migrate --check (the bundle)', () => {
  it('passes the shipped migrations, listing the down-migration warnings', async () => {
    const result = await runMigrate(bundle.dir, ['--check'], {});
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /warning down-loses-data \(emails\)/);
    assert.match(result.stdout, /migration lint: 0 error\(s\), \d+ warning\(s\)/);
  });

  it('exits 1 on an unsafe migration with file, line, statement, why and the safe pattern', async () => {
    const { dir, paths } = await bundleWith({ '1900000000001_subject-index.sql': UNSAFE_INDEX });
    const result = await runMigrate(dir, ['--check'], {});
    assert.equal(result.code, 1, result.output);
    assert.ok(
      result.stderr.includes(
        `${paths[0]}:3: error require-concurrent-index-creation (emails_subject_idx on emails)`,
      ),
      result.stderr,
    );
    assert.match(result.stderr, /statement: CREATE INDEX emails_subject_idx ON emails \(subject\)/);
    assert.match(result.stderr, /why: {2}CREATE INDEX without CONCURRENTLY locks the table/);
    assert.match(result.stderr, /safe: CREATE INDEX CONCURRENTLY/);
    assert.match(result.stderr, /migration lint: 1 error\(s\)/);
  });

  it('an annotation with a reason allows the statement and is listed', async () => {
    const annotated = UNSAFE_INDEX.replace(
      'CREATE INDEX',
      '-- selfmx-lint allow require-concurrent-index-creation : emails is empty on every install\nCREATE INDEX',
    );
    const { dir, paths } = await bundleWith({ '1900000000001_subject-index.sql': annotated });
    const result = await runMigrate(dir, ['--check'], {});
    assert.equal(result.code, 0, result.output);
    assert.ok(
      result.stdout.includes(
        `${paths[0]}:3: allowed require-concurrent-index-creation by annotation: emails is empty on every install`,
      ),
      result.stdout,
    );
  });
});

describe('selfmx migrate (the bundle) refuses unsafe migrations before any DDL', () => {
  it('exits 1 with the lint message and applies nothing, not even the safe migrations', async () => {
    const { name, env } = await freshDatabase();
    const { dir, paths } = await bundleWith({ '1900000000001_subject-index.sql': UNSAFE_INDEX });
    const result = await runMigrate(dir, [], env);
    assert.equal(result.code, 1, result.output);
    assert.ok(result.stderr.includes(`${paths[0]}:3: error require-concurrent-index-creation`));
    assert.match(result.stderr, /nothing was applied/);
    const tables = await query<{ tablename: string }>(
      name,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    );
    assert.deepEqual(tables, [{ tablename: 'selfmx_migration_checksums' }], 'no migration DDL ran');
  });

  it('applies an annotated migration and logs the annotation it honoured', async () => {
    const { name, env } = await freshDatabase();
    const { dir } = await bundleWith({});
    assert.equal((await runMigrate(dir, [], env)).code, 0);
    const annotated = UNSAFE_INDEX.replace(
      'CREATE INDEX',
      '-- selfmx-lint allow require-concurrent-index-creation : a small table in this test\nCREATE INDEX',
    );
    await writeFile(join(dir, 'migrations', '1900000000001_subject-index.sql'), annotated);
    const applied = await runMigrate(dir, [], env);
    assert.equal(applied.code, 0, applied.output);
    assert.match(applied.stdout, /require-concurrent-index-creation allowed by annotation/);
    assert.deepEqual(await appliedNames(name), [...SHIPPED, '1900000000001_subject-index']);
  });
});

const CONCURRENT_INDEX =
  '-- Up Migration\n-- selfmx: no-transaction\n' +
  "SET lock_timeout = '5s';\n" +
  'CREATE UNIQUE INDEX CONCURRENTLY tenants_name_lower_idx ON tenants (lower(name));\n\n' +
  '-- Down Migration\nDROP INDEX CONCURRENTLY tenants_name_lower_idx;\n';

describe('no-transaction migrations (CREATE INDEX CONCURRENTLY)', () => {
  it('apply outside the transaction, with their checksum, and revert', async () => {
    const { name, env } = await freshDatabase();
    const { dir } = await bundleWith({ '1900000000001_tenant-name-index.sql': CONCURRENT_INDEX });
    const result = await runMigrate(dir, [], env);
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(await appliedNames(name), [...SHIPPED, '1900000000001_tenant-name-index']);
    const [index] = await query<{ indisvalid: boolean }>(
      name,
      "SELECT indisvalid FROM pg_index WHERE indexrelid = 'tenants_name_lower_idx'::regclass",
    );
    assert.equal(index?.indisvalid, true);
    const checksums = await query(name, 'SELECT name FROM selfmx_migration_checksums');
    assert.equal(checksums.length, SHIPPED.length + 1, 'every checksum is recorded');

    const down = await runMigrate(dir, ['down'], env);
    assert.equal(down.code, 0, down.output);
    const left = await query(name, "SELECT to_regclass('tenants_name_lower_idx') AS idx");
    assert.deepEqual(left, [{ idx: null }]);
  });

  it('an index that failed halfway is INVALID; the next run refuses and names the fix', async () => {
    const { name, env } = await freshDatabase();
    const { dir } = await bundleWith({});
    assert.equal((await runMigrate(dir, [], env)).code, 0);
    await query(name, "INSERT INTO tenants (name) VALUES ('Acme'), ('ACME')");
    await writeFile(
      join(dir, 'migrations', '1900000000001_tenant-name-index.sql'),
      CONCURRENT_INDEX,
    );

    const failed = await runMigrate(dir, [], env);
    assert.equal(failed.code, 1, failed.output);
    assert.match(failed.stderr, /could not create unique index "tenants_name_lower_idx"/);
    const [index] = await query<{ indisvalid: boolean }>(
      name,
      "SELECT indisvalid FROM pg_index WHERE indexrelid = 'tenants_name_lower_idx'::regclass",
    );
    assert.equal(index?.indisvalid, false, 'the failed build left an INVALID index');

    const again = await runMigrate(dir, [], env);
    assert.equal(again.code, 1, again.output);
    assert.match(again.stderr, /invalid index\(es\) .*public\.tenants_name_lower_idx/);
    assert.match(again.stderr, /DROP INDEX CONCURRENTLY public\.tenants_name_lower_idx;/);
    assert.deepEqual(await appliedNames(name), SHIPPED);

    await query(name, 'DROP INDEX CONCURRENTLY public.tenants_name_lower_idx');
    await query(name, "DELETE FROM tenants WHERE name = 'ACME'");
    const fixed = await runMigrate(dir, [], env);
    assert.equal(fixed.code, 0, fixed.output);
    assert.deepEqual(await appliedNames(name), [...SHIPPED, '1900000000001_tenant-name-index']);
  });
});
