import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { lintErrors, lintMigrations } from '../../app/src/migrate/lint/index.js';
import { migrationSections } from '../../app/src/migrate/migration-sections.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

/**
 * The linter's corpus: each entry of test/fixtures/migrations-lint is linted as the migration(s)
 * after the shipped initial schema. `unsafe.<rule>[+<rule>].<what>` must break exactly those
 * rules; `safe.<what>` must break none. A folder holds several migrations, applied in order.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const CORPUS = join(root, 'test/fixtures/migrations-lint');
const INITIAL = join(root, 'migrations/1764180000000_initial-schema.sql');

const scratch: string[] = [];
after(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A migrations directory: the initial schema, then the corpus entry's migration(s). */
async function migrationsFor(entry: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'selfmx-lint-corpus-'));
  scratch.push(dir);
  await copyFile(INITIAL, join(dir, '1764180000000_initial-schema.sql'));
  const path = join(CORPUS, entry);
  if ((await stat(path)).isDirectory()) {
    for (const file of await readdir(path)) await copyFile(join(path, file), join(dir, file));
  } else {
    const name = entry.replace(/\.sql$/, '').replace(/[^A-Za-z0-9-]+/g, '-');
    await copyFile(path, join(dir, `1764180000001_${name}.sql`));
  }
  return dir;
}

function expectedRules(entry: string): string[] {
  const [verdict = '', rules = ''] = entry.split('.');
  return verdict === 'unsafe' ? rules.split('+').sort() : [];
}

const entries = (await readdir(CORPUS)).sort();

describe('migration lint corpus', () => {
  it('has at least 25 cases, both safe and unsafe', () => {
    assert.ok(entries.length >= 25, `${entries.length} cases`);
    assert.ok(entries.some((entry) => entry.startsWith('safe.')));
    assert.ok(entries.some((entry) => entry.startsWith('unsafe.')));
  });

  for (const entry of entries) {
    it(entry, async () => {
      const report = await lintMigrations(await migrationsFor(entry));
      const errors = lintErrors(report);
      const broken = [...new Set(errors.map((finding) => finding.rule))].sort();
      assert.deepEqual(broken, expectedRules(entry), JSON.stringify(errors, null, 2));
      for (const finding of errors) {
        assert.ok(finding.line > 1, 'the line is the statement, not the file header');
        assert.ok(finding.statement.length > 0);
      }
    });
  }

  it('honours an annotation with a reason and lists it', async () => {
    const report = await lintMigrations(
      await migrationsFor('safe.drop-column-with-annotation.sql'),
    );
    assert.deepEqual(
      report.honoured.map(({ rule, reason, line, statement }) => ({
        rule,
        reason,
        line,
        statement,
      })),
      [
        {
          rule: 'ban-drop-column',
          reason: 'release 1.4 stopped reading leased_by; this is 1.5',
          line: 3,
          statement: 'ALTER TABLE emails DROP COLUMN leased_by',
        },
      ],
    );
  });

  it('passes the shipped migrations, warning on the data their down sections drop', async () => {
    const report = await lintMigrations(join(root, 'migrations'));
    assert.deepEqual(lintErrors(report), []);
    const warnings = report.findings.filter((finding) => finding.rule === 'down-loses-data');
    assert.ok(warnings.some((finding) => finding.subject === 'emails'));
  });
});

/**
 * Each lock the linter accuses a statement of, shown on a real PostgreSQL 15: the statement runs
 * in an open transaction while another session queries the table, and pg_locks shows that
 * session waiting (granted = false) until the transaction ends.
 */
const LOCK_CASES = [
  // CREATE INDEX takes a SHARE lock: reads go on, writes wait.
  [
    'unsafe.require-concurrent-index-creation.on-emails.sql',
    'UPDATE emails SET attempts = attempts WHERE false',
  ],
  ['unsafe.changing-column-type.integer-to-bigint.sql', 'SELECT count(*) FROM emails'],
  ['unsafe.setting-not-nullable-field.set-not-null.sql', 'SELECT count(*) FROM emails'],
  ['unsafe.adding-field-with-default.random-uuid.sql', 'SELECT count(*) FROM emails'],
  ['unsafe.constraint-missing-not-valid.check.sql', 'SELECT count(*) FROM emails'],
  ['unsafe.renaming-column.rename-column.sql', 'SELECT count(*) FROM emails'],
] as const;

describe('the locks the unsafe statements take (real PostgreSQL)', () => {
  let postgres: TestPostgres;
  let databases = 0;

  before(async () => {
    postgres = await startPostgres();
  });
  after(async () => {
    await postgres?.destroy();
  });

  for (const [entry, concurrent] of LOCK_CASES) {
    it(`${entry}: \`${concurrent}\` waits`, async () => {
      databases += 1;
      const database = `locks_${databases}`;
      await postgres.createDatabase(database);
      const migrator = await postgres.client(database);
      const other = await postgres.client(database);
      try {
        const [initialUp] = migrationSections({ files: ['initial.sql'] }, [
          await readFile(INITIAL, 'utf8'),
        ]);
        await migrator.query(initialUp?.sql ?? '');
        const [unsafeUp] = migrationSections({ files: [entry] }, [
          await readFile(join(CORPUS, entry), 'utf8'),
        ]);
        const otherPid = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
          .rows[0]?.pid;

        await migrator.query('BEGIN');
        await migrator.query(unsafeUp?.sql ?? '');
        const waiting = other.query(concurrent);
        const lock = await waitForUngrantedLock(migrator, otherPid ?? 0);
        assert.equal(lock.relation, 'emails');
        await migrator.query('ROLLBACK');
        await waiting;
      } finally {
        await migrator.end();
        await other.end();
      }
    });
  }
});

/** Polls pg_locks until `pid` waits for a lock; what it waits for. */
async function waitForUngrantedLock(
  db: Awaited<ReturnType<TestPostgres['client']>>,
  pid: number,
): Promise<{ relation: string; mode: string }> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const { rows } = await db.query<{ relation: string; mode: string }>(
      `SELECT relation::regclass::text AS relation, mode FROM pg_locks
        WHERE pid = $1 AND NOT granted AND locktype = 'relation'`,
      [pid],
    );
    if (rows[0]) return rows[0];
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`session ${pid} never waited for a lock`);
}
