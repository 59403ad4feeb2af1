import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseDatabaseSettings } from '../../app/src/config/database-settings.js';
import { createPool } from '../../app/src/db/pool.js';
import { createLogger } from '../../app/src/logger.js';
import {
  MigrationIntegrityError,
  migrateDown,
  migrateUp,
  migrationStatus,
  PendingMigrationsError,
  prepareSchema,
  verifyMigrations,
} from '../../app/src/migrate/index.js';
import {
  locateMigrationsDirectory,
  readMigrationFiles,
} from '../../app/src/migrate/migration-files.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

/**
 * The functions serve calls (migrateUp with DB_AUTO_MIGRATE=true, verifyMigrations with false),
 * run from source: this also proves the migrations are found at <repo>/migrations under tsx.
 */
const INITIAL = '1764180000000_initial-schema';
const logger = createLogger({ level: 'silent', format: 'json' });

let postgres: TestPostgres;
let databases = 0;

/** Every migration in the repository, in order (the initial schema first). */
let shipped: string[];

before(async () => {
  postgres = await startPostgres();
  shipped = (await readMigrationFiles(await locateMigrationsDirectory())).map((file) => file.name);
});
after(() => postgres?.destroy());

async function freshSettings() {
  databases += 1;
  const name = `verify_${databases}`;
  await postgres.createDatabase(name);
  return { name, settings: parseDatabaseSettings({ DATABASE_URL: postgres.url('', name) }) };
}

describe('migration functions (serve start-up)', () => {
  it('verifyMigrations refuses a schema that is behind, unless pending is allowed', async () => {
    const { settings } = await freshSettings();
    const pool = createPool(settings);
    try {
      await assert.rejects(verifyMigrations(pool), (error: Error) => {
        assert.ok(error instanceof PendingMigrationsError);
        assert.match(
          error.message,
          new RegExp(`${shipped.length} pending migration\\(s\\) \\(${INITIAL}, `),
        );
        assert.match(error.message, /selfmx migrate/);
        return true;
      });
      const state = await verifyMigrations(pool, { allowPending: true });
      assert.deepEqual(
        state.pending.map((file) => file.name),
        shipped,
      );
      assert.match(state.directory, /\/migrations$/);
    } finally {
      await pool.end();
    }
  });

  it('replicas starting together migrate once (same lock as the job)', async () => {
    const { name, settings } = await freshSettings();
    const results = await Promise.all([1, 2, 3].map(() => migrateUp(settings, logger)));
    assert.deepEqual(results.flat(), shipped, 'exactly one call applied the migrations');
    const client = await postgres.client(name);
    try {
      const { rows } = await client.query('SELECT name FROM pgmigrations');
      assert.deepEqual(
        rows.map((row) => row.name),
        shipped,
      );
    } finally {
      await client.end();
    }
  });

  it('verifyMigrations passes an up-to-date schema and refuses an edited applied file', async () => {
    const { name, settings } = await freshSettings();
    await migrateUp(settings, logger);
    const pool = createPool(settings);
    const client = await postgres.client(name);
    try {
      const state = await verifyMigrations(pool);
      assert.deepEqual(
        state.applied.map((m) => [m.name, m.check]),
        shipped.map((name) => [name, 'verified']),
      );
      // As if the file had changed since it was applied: the recorded checksum no longer matches.
      await client.query(`UPDATE selfmx_migration_checksums SET sha256 = repeat('0', 64)`);
      await assert.rejects(verifyMigrations(pool), (error: Error) => {
        assert.ok(error instanceof MigrationIntegrityError);
        assert.match(error.message, new RegExp(`migrations/${INITIAL}\\.sql was edited`));
        return true;
      });
      await assert.rejects(migrateUp(settings, logger), MigrationIntegrityError);
    } finally {
      await client.end();
      await pool.end();
    }
  });

  it('migrationStatus reports applied and pending; migrateDown returns what it reverted', async () => {
    const { settings } = await freshSettings();
    assert.deepEqual(
      (await migrationStatus(settings)).pending.map((f) => f.name),
      shipped,
    );
    assert.deepEqual(await migrateUp(settings, logger), shipped);
    const applied = await migrationStatus(settings);
    assert.deepEqual(
      applied.applied.map((m) => m.name),
      shipped,
    );
    assert.deepEqual(applied.pending, []);
    assert.deepEqual(
      await migrateDown(settings, shipped.length + 1, logger),
      [...shipped].reverse(),
    );
    assert.deepEqual(await migrateDown(settings, 1, logger), []);
  });

  it('prepareSchema migrates with DB_AUTO_MIGRATE=true and only verifies with false', async () => {
    const { name } = await freshSettings();
    const url = postgres.url('', name);
    const manual = parseDatabaseSettings({ DATABASE_URL: url, DB_AUTO_MIGRATE: 'false' });
    const auto = parseDatabaseSettings({ DATABASE_URL: url });
    const pool = createPool(manual);
    try {
      await assert.rejects(prepareSchema(manual, pool, logger), PendingMigrationsError);
      assert.deepEqual((await migrationStatus(manual)).applied, [], 'false changed nothing');
      await prepareSchema(auto, pool, logger);
      assert.deepEqual(
        (await migrationStatus(manual)).applied.map((m) => m.name),
        shipped,
      );
      await prepareSchema(manual, pool, logger);
    } finally {
      await pool.end();
    }
  });
});
