import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readMigrationFiles } from '../../app/src/migrate/migration-files.js';
import { MIGRATION_LOCK_KEY } from '../../app/src/migrate/migration-lock.js';
import { type BundleCopy, buildBundleCopy } from '../support/bundle.js';
import { freePort, startPostgres, type TestPostgres } from '../support/postgres.js';
import { runMigrate, startMigrate } from './migrate-process.js';

/**
 * The migration job as operators run it: the real bundle (`node selfmx.js migrate ...`) with only
 * DATABASE_URL in its environment, against a real PostgreSQL 15.
 */
const INITIAL = '1764180000000_initial-schema';
/** A timestamp after every shipped migration, for the migrations these tests add. */
const LATER = '1900000000001';
const SCHEMA_TABLES = ['api_keys', 'audit_logs', 'email_events', 'emails', 'templates', 'tenants'];

let postgres: TestPostgres;
let bundle: BundleCopy;
const scratch: string[] = [];
let databases = 0;
/** Every migration the bundle ships, in order (the initial schema first). */
let shipped: string[];

before(async () => {
  [bundle, postgres] = await Promise.all([buildBundleCopy(), startPostgres()]);
  shipped = (await readMigrationFiles(join(bundle.dir, 'migrations'))).map((file) => file.name);
});

after(async () => {
  await postgres?.destroy();
  await bundle?.remove();
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A new empty database on the shared server; returns its DATABASE_URL. */
async function freshDatabase(): Promise<{ name: string; env: { DATABASE_URL: string } }> {
  databases += 1;
  const name = `migrate_${databases}`;
  await postgres.createDatabase(name);
  return { name, env: { DATABASE_URL: postgres.url('', name) } };
}

async function query<T>(database: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = await postgres.client(database);
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}

async function publicTables(database: string): Promise<string[]> {
  const rows = await query<{ table_name: string }>(
    database,
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
  );
  return rows.map((row) => row.table_name);
}

async function appliedNames(database: string): Promise<string[]> {
  const rows = await query<{ name: string }>(database, 'SELECT name FROM pgmigrations ORDER BY id');
  return rows.map((row) => row.name);
}

/** A copy of the bundle whose migrations/ the test may change (the repository's stay as they are). */
async function bundleCopy(): Promise<{ dir: string; migrations: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'selfmx-migrate-test-'));
  scratch.push(dir);
  await cp(bundle.dir, dir, { recursive: true });
  return { dir, migrations: join(dir, 'migrations') };
}

function assertSchemaApplied(tables: string[]): void {
  for (const table of SCHEMA_TABLES) assert.ok(tables.includes(table), `table ${table} exists`);
}

describe('selfmx migrate (the bundle)', () => {
  it('applies the schema to a fresh database, then status lists it as applied', async () => {
    const { name, env } = await freshDatabase();
    const status = await runMigrate(bundle.dir, ['status'], env);
    assert.equal(status.code, 0, status.output);
    assert.match(status.stdout, new RegExp(`pending\\s+${INITIAL}`));

    const result = await runMigrate(bundle.dir, [], env);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, new RegExp(`applied ${shipped.length} migration\\(s\\)`));
    assert.equal(result.stderr, '', 'no warnings (e.g. pg deprecations) on success');
    assertSchemaApplied(await publicTables(name));
    assert.deepEqual(await appliedNames(name), shipped);

    // The checksum recorded is the shipped file's.
    const file = await readFile(join(bundle.dir, 'migrations', `${INITIAL}.sql`), 'utf8');
    const [recorded] = await query<{ sha256: string }>(
      name,
      'SELECT sha256 FROM selfmx_migration_checksums WHERE name = $1',
      [INITIAL],
    );
    assert.equal(recorded?.sha256, createHash('sha256').update(file).digest('hex'));

    const after = await runMigrate(bundle.dir, ['status'], env);
    assert.equal(after.code, 0, after.output);
    assert.match(
      after.stdout,
      new RegExp(`applied\\s+${INITIAL}\\s+\\(run on \\d{4}-\\d\\d-\\d\\d `),
    );
    assert.match(after.stdout, new RegExp(`${shipped.length} applied, 0 pending`));
  });

  it('exits 0 with nothing to do when the schema is up to date', async () => {
    const { name, env } = await freshDatabase();
    assert.equal((await runMigrate(bundle.dir, ['up'], env)).code, 0);
    const again = await runMigrate(bundle.dir, ['up'], env);
    assert.equal(again.code, 0, again.output);
    assert.match(again.stdout, /nothing to migrate/);
    assert.deepEqual(await appliedNames(name), shipped);
  });

  it('down N reverts the last N migrations and their checksums; up applies them again', async () => {
    const { name, env } = await freshDatabase();
    assert.equal((await runMigrate(bundle.dir, [], env)).code, 0);

    const down = await runMigrate(bundle.dir, ['down', String(shipped.length)], env);
    assert.equal(down.code, 0, down.output);
    assert.match(down.stdout, new RegExp(`reverted ${shipped.length} migration\\(s\\)`));
    const tables = await publicTables(name);
    assert.deepEqual(
      tables.filter((table) => SCHEMA_TABLES.includes(table)),
      [],
      'the schema tables are dropped',
    );
    assert.deepEqual(await appliedNames(name), []);
    assert.deepEqual(await query(name, 'SELECT * FROM selfmx_migration_checksums'), []);

    const up = await runMigrate(bundle.dir, ['up'], env);
    assert.equal(up.code, 0, up.output);
    assertSchemaApplied(await publicTables(name));
    assert.deepEqual(await appliedNames(name), shipped);
  });

  it('two concurrent jobs on a fresh database both exit 0 and apply the schema once', async () => {
    const { name, env } = await freshDatabase();
    const [first, second] = await Promise.all([
      runMigrate(bundle.dir, [], env),
      runMigrate(bundle.dir, [], env),
    ]);
    assert.equal(first.code, 0, first.output);
    assert.equal(second.code, 0, second.output);
    assert.equal(first.stderr + second.stderr, '', 'no warnings');
    const outputs = [first.stdout, second.stdout];
    const applied = new RegExp(`applied ${shipped.length} migration\\(s\\)`);
    assert.equal(outputs.filter((out) => applied.test(out)).length, 1);
    assert.equal(outputs.filter((out) => /nothing to migrate/.test(out)).length, 1);
    assert.deepEqual(await appliedNames(name), shipped);
    assertSchemaApplied(await publicTables(name));
  });

  it('a job waits while another holds the migration lock, then applies', async () => {
    const { name, env } = await freshDatabase();
    const holder = await postgres.client(name);
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const job = startMigrate(bundle.dir, [], env);
      // The log names the holder, so an operator can find a stuck job.
      await job.waitForOutput(
        new RegExp(`running \\(pid ${rows[0]?.pid}, .*waiting for it to finish`),
      );
      assert.deepEqual(await publicTables(name), [], 'nothing applied while the lock is held');
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
      const result = await job.done;
      assert.equal(result.code, 0, result.output);
      assert.deepEqual(await appliedNames(name), shipped);
    } finally {
      await holder.end();
    }
  });

  it('applies a migration added later, and down 1 reverts only that one', async () => {
    const { name, env } = await freshDatabase();
    const copy = await bundleCopy();
    assert.equal((await runMigrate(copy.dir, [], env)).code, 0);
    await writeFile(
      join(copy.migrations, `${LATER}_add-notes.sql`),
      '-- Up Migration\nCREATE TABLE notes (id int PRIMARY KEY);\n\n-- Down Migration\nDROP TABLE notes;\n',
    );
    const up = await runMigrate(copy.dir, [], env);
    assert.equal(up.code, 0, up.output);
    assert.deepEqual(await appliedNames(name), [...shipped, `${LATER}_add-notes`]);
    assert.ok((await publicTables(name)).includes('notes'));

    const down = await runMigrate(copy.dir, ['down'], env);
    assert.equal(down.code, 0, down.output);
    assert.deepEqual(await appliedNames(name), shipped);
    const tables = await publicTables(name);
    assert.ok(!tables.includes('notes'));
    assertSchemaApplied(tables);
  });

  it('a migration waiting on a table lock fails after DB_MIGRATION_LOCK_TIMEOUT, explained', async () => {
    const { name, env } = await freshDatabase();
    const copy = await bundleCopy();
    assert.equal((await runMigrate(copy.dir, [], env)).code, 0);
    await writeFile(
      join(copy.migrations, `${LATER}_add-column.sql`),
      '-- Up Migration\n' +
        // What this test exercises is the runner's own lock_timeout, not one the file sets.
        '-- selfmx-lint allow require-lock-timeout : the runner sets DB_MIGRATION_LOCK_TIMEOUT\n' +
        'ALTER TABLE emails ADD COLUMN notes text;\n\n-- Down Migration\nALTER TABLE emails DROP COLUMN notes;\n',
    );
    // A long transaction that read the table: ALTER TABLE needs it to end first.
    const reader = await postgres.client(name);
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM emails');
      const result = await runMigrate(copy.dir, [], { ...env, DB_MIGRATION_LOCK_TIMEOUT: '1' });
      assert.equal(result.code, 1, result.output);
      assert.match(
        result.stderr,
        new RegExp(`migration ${LATER}_add-column timed out waiting for a lock`),
      );
      assert.match(result.stderr, /longer than DB_MIGRATION_LOCK_TIMEOUT=1s/);
      assert.match(result.stderr, /nothing was applied/);
      assert.match(result.stderr, /pg_stat_activity/, 'says how to find the holder');
      assert.deepEqual(await appliedNames(name), shipped);
    } finally {
      await reader.query('ROLLBACK');
      await reader.end();
    }
  });

  it('refuses an applied migration whose file was edited, naming the file', async () => {
    const { name, env } = await freshDatabase();
    const copy = await bundleCopy();
    assert.equal((await runMigrate(copy.dir, [], env)).code, 0);
    const file = join(copy.migrations, `${INITIAL}.sql`);
    await appendFile(file, '\n-- a harmless-looking edit\n');
    // A new migration is pending too: it must not be applied past the edited one.
    await writeFile(
      join(copy.migrations, `${LATER}_add-notes.sql`),
      '-- Up Migration\nCREATE TABLE notes (id int);\n-- Down Migration\nDROP TABLE notes;\n',
    );

    const result = await runMigrate(copy.dir, [], env);
    assert.equal(result.code, 1, result.output);
    assert.ok(result.stderr.includes(`${file} was edited after it was applied`), result.stderr);
    assert.match(result.stderr, /Never edit, rename or delete a migration/);
    assert.ok(!(await publicTables(name)).includes('notes'));
    assert.deepEqual(await appliedNames(name), shipped);

    const status = await runMigrate(copy.dir, ['status'], env);
    assert.equal(status.code, 1, status.output);
    assert.match(status.stdout, new RegExp(`EDITED\\s+${INITIAL}`));

    const down = await runMigrate(copy.dir, ['down'], env);
    assert.equal(down.code, 1, 'down refuses too: it would run the edited Down section');
    assertSchemaApplied(await publicTables(name));
  });

  it('refuses an applied migration whose file was renamed or deleted', async () => {
    const { env } = await freshDatabase();
    const copy = await bundleCopy();
    assert.equal((await runMigrate(copy.dir, [], env)).code, 0);
    const original = join(copy.migrations, `${INITIAL}.sql`);

    const renamed = join(copy.migrations, '1764180000000_first-schema.sql');
    await rename(original, renamed);
    const afterRename = await runMigrate(copy.dir, [], env);
    assert.equal(afterRename.code, 1, afterRename.output);
    assert.ok(afterRename.stderr.includes(`${original} no longer exists`), afterRename.stderr);

    await rm(renamed);
    const afterDelete = await runMigrate(copy.dir, [], env);
    assert.equal(afterDelete.code, 1, afterDelete.output);
    assert.ok(afterDelete.stderr.includes(`${original} no longer exists`), afterDelete.stderr);
    const status = await runMigrate(copy.dir, ['status'], env);
    assert.equal(status.code, 1);
    assert.match(status.stdout, new RegExp(`NO FILE\\s+${INITIAL}`));
  });

  it('refuses a new migration that sorts before an applied one', async () => {
    const { env } = await freshDatabase();
    const copy = await bundleCopy();
    assert.equal((await runMigrate(copy.dir, [], env)).code, 0);
    const older = join(copy.migrations, '1764179999999_too-old.sql');
    await writeFile(older, '-- Up Migration\nSELECT 1;\n-- Down Migration\nSELECT 1;\n');
    const result = await runMigrate(copy.dir, [], env);
    assert.equal(result.code, 1, result.output);
    assert.ok(result.stderr.includes(`${older} is not applied but sorts before`), result.stderr);
  });

  it('a broken migration exits 1 naming the file and line, and changes nothing', async () => {
    const { name, env } = await freshDatabase();
    const copy = await bundleCopy();
    const broken = join(copy.migrations, '1764180000001_broken.sql');
    await writeFile(
      broken,
      '-- Up Migration\nCREATE TABLE half_done (id int);\nCREATE TABEL oops (id int);\n\n-- Down Migration\nDROP TABLE half_done;\n',
    );
    // Both the valid initial migration and the broken one are pending: one transaction.
    const result = await runMigrate(copy.dir, [], env);
    assert.equal(result.code, 1, result.output);
    assert.ok(result.stderr.includes(`${broken}:3`), result.stderr);
    assert.match(result.stderr, /syntax error at or near "TABEL"/);
    assert.match(result.stderr, /nothing was applied/);
    assert.deepEqual(await publicTables(name), ['pgmigrations', 'selfmx_migration_checksums']);
    assert.deepEqual(await appliedNames(name), []);
  });

  it('refuses to revert a migration without a Down section, changing nothing', async () => {
    const { name, env } = await freshDatabase();
    const copy = await bundleCopy();
    await writeFile(
      join(copy.migrations, `${LATER}_one-way.sql`),
      'CREATE TABLE one_way (id int);\n',
    );
    assert.equal((await runMigrate(copy.dir, [], env)).code, 0);
    const down = await runMigrate(copy.dir, ['down'], env);
    assert.equal(down.code, 1, down.output);
    assert.match(
      down.stderr,
      /migration 1900000000001_one-way has no "-- Down Migration" section, so it cannot be reverted/,
    );
    assert.ok((await publicTables(name)).includes('one_way'));
    assert.deepEqual(await appliedNames(name), [...shipped, `${LATER}_one-way`]);
  });

  it('records checksums for migrations applied before checksums were kept', async () => {
    const { name, env } = await freshDatabase();
    assert.equal((await runMigrate(bundle.dir, [], env)).code, 0);
    await query(name, 'DROP TABLE selfmx_migration_checksums');
    const status = await runMigrate(bundle.dir, ['status'], env);
    assert.equal(status.code, 0, status.output);
    assert.match(
      status.stdout,
      /applied\s+1764180000000_initial-schema .*checksum recorded by the next/,
    );
    const result = await runMigrate(bundle.dir, [], env);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /recorded checksums of migrations applied before/);
    const rows = await query<{ name: string }>(name, 'SELECT name FROM selfmx_migration_checksums');
    assert.deepEqual(
      rows.map((row) => row.name),
      shipped,
    );
  });

  it('fails naming DATABASE_URL when it is missing', async () => {
    const result = await runMigrate(bundle.dir, [], {});
    assert.equal(result.code, 1);
    assert.match(result.stderr, /DATABASE_URL/);
  });

  it('explains an unreachable database without printing the password', async () => {
    const port = await freePort();
    const env = { DATABASE_URL: `postgres://selfmx:Sup3r-secret@127.0.0.1:${port}/selfmx` };
    const result = await runMigrate(bundle.dir, [], env);
    assert.equal(result.code, 1, result.output);
    assert.match(result.stderr, /refused/i);
    assert.ok(result.stderr.includes(String(port)), result.stderr);
    assert.ok(!result.output.includes('Sup3r-secret'), result.output);
  });

  it('exits promptly, explained, when the server wants a password and none is given', async () => {
    const { env } = await freshDatabase();
    const withoutPassword = env.DATABASE_URL.replace(`:${postgres.password}@`, '@');
    const result = await runMigrate(bundle.dir, [], { DATABASE_URL: withoutPassword });
    assert.equal(result.code, 1, result.output);
    assert.match(result.stderr, /DATABASE_URL has none and PGPASSWORD is not set/);
    const viaEnv = await runMigrate(bundle.dir, [], {
      DATABASE_URL: withoutPassword,
      PGPASSWORD: postgres.password,
    });
    assert.equal(viaEnv.code, 0, viaEnv.output);
  });

  it('rejects bad arguments as usage errors (exit 2) before reading any configuration', async () => {
    for (const args of [
      ['down', 'abc'],
      ['down', '0'],
      ['down', '1', '2'],
      ['sideways'],
      ['up', 'x'],
    ]) {
      const result = await runMigrate(bundle.dir, args, {});
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.output}`);
      assert.match(result.stderr, /usage: selfmx migrate \[up \| down \[N\] \| status\]/);
    }
    const abc = await runMigrate(bundle.dir, ['down', 'abc'], {});
    assert.match(abc.stderr, /N must be a positive whole number \(got "abc"\)/);
  });
});
