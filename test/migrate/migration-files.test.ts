import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseArgs } from '../../app/src/commands/migrate.js';
import { MigrationFilesError, readMigrationFiles } from '../../app/src/migrate/migration-files.js';
import { compareMigrations } from '../../app/src/migrate/verify.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'selfmx-migration-files-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

const SQL = '-- Up Migration\nSELECT 1;\n-- Down Migration\nSELECT 2;\n';

describe('readMigrationFiles', () => {
  it('lists migrations in timestamp order, pairing .up/.down files, ignoring dot files', async () => {
    const dir = await migrationsDir({
      '1764180000002_third.sql': SQL,
      '1764180000000_first.sql': SQL,
      '1764180000001_second.up.sql': 'SELECT 1;',
      '1764180000001_second.down.sql': 'SELECT 2;',
      '.gitkeep': '',
    });
    const files = await readMigrationFiles(dir);
    assert.deepEqual(
      files.map((file) => [file.name, file.files]),
      [
        ['1764180000000_first', ['1764180000000_first.sql']],
        ['1764180000001_second', ['1764180000001_second.up.sql', '1764180000001_second.down.sql']],
        ['1764180000002_third', ['1764180000002_third.sql']],
      ],
    );
  });

  it('gives the same checksum to LF and CRLF copies, and a different one to an edit', async () => {
    const lf = await readMigrationFiles(await migrationsDir({ '1764180000000_a.sql': SQL }));
    const crlf = await readMigrationFiles(
      await migrationsDir({ '1764180000000_a.sql': SQL.replace(/\n/g, '\r\n') }),
    );
    const edited = await readMigrationFiles(
      await migrationsDir({ '1764180000000_a.sql': `${SQL}-- edit\n` }),
    );
    assert.equal(lf[0]?.sha256, crlf[0]?.sha256);
    assert.notEqual(lf[0]?.sha256, edited[0]?.sha256);
    assert.match(lf[0]?.sha256 ?? '', /^[0-9a-f]{64}$/);
  });

  const refusals: [string, Record<string, string>, RegExp][] = [
    [
      'a file that is not a migration',
      { 'README.md': '# notes' },
      /README\.md: not a migration file/,
    ],
    ['a short timestamp', { '42_init.sql': SQL }, /42_init\.sql: not a migration file.*13-digit/],
    [
      'a JavaScript migration',
      { '1764180000000_a.js': '' },
      /1764180000000_a\.js: not a migration/,
    ],
    [
      'two migrations sharing a timestamp',
      { '1764180000000_a.sql': SQL, '1764180000000_b.sql': SQL },
      /share the timestamp 1764180000000/,
    ],
    [
      'a .down.sql without .up.sql',
      { '1764180000000_a.down.sql': SQL },
      /no matching 1764180000000_a\.up\.sql/,
    ],
    [
      'a single file and a pair with one name',
      { '1764180000000_a.sql': SQL, '1764180000000_a.up.sql': SQL },
      /1764180000000_a: both/,
    ],
  ];
  for (const [what, files, message] of refusals) {
    it(`refuses ${what}, naming the file`, async () => {
      const dir = await migrationsDir(files);
      await assert.rejects(readMigrationFiles(dir), (error: Error) => {
        assert.ok(error instanceof MigrationFilesError);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

describe('compareMigrations', () => {
  const file = (name: string, sha256: string) => ({ name, files: [`${name}.sql`], sha256 });
  const applied = (name: string) => ({ name, runOn: '2026-11-26 12:00:00' });
  const a = file('1764180000000_a', 'a'.repeat(64));
  const b = file('1764180000001_b', 'b'.repeat(64));

  it('verifies matching checksums and lists pending migrations in order', () => {
    const state = compareMigrations('/m', [a, b], [applied(a.name)], new Map([[a.name, a.sha256]]));
    assert.deepEqual(state.problems, []);
    assert.deepEqual(
      state.applied.map((m) => m.check),
      ['verified'],
    );
    assert.deepEqual(
      state.pending.map((m) => m.name),
      [b.name],
    );
  });

  it('reports an edited file, a missing file and an out-of-order pending file', () => {
    const edited = compareMigrations(
      '/m',
      [a],
      [applied(a.name)],
      new Map([[a.name, 'c'.repeat(64)]]),
    );
    assert.match(
      edited.problems[0] ?? '',
      /\/m\/1764180000000_a\.sql was edited after it was applied/,
    );

    const missing = compareMigrations('/m', [b], [applied(a.name)], new Map([[a.name, a.sha256]]));
    assert.match(missing.problems[0] ?? '', /\/m\/1764180000000_a\.sql no longer exists/);

    const early = compareMigrations('/m', [a, b], [applied(b.name)], new Map([[b.name, b.sha256]]));
    assert.match(early.problems[0] ?? '', /1764180000000_a\.sql is not applied but sorts before/);
  });

  it('treats an applied migration without a checksum as unrecorded, not as a problem', () => {
    const state = compareMigrations('/m', [a], [applied(a.name)], new Map());
    assert.deepEqual(state.problems, []);
    assert.deepEqual(
      state.unrecorded.map((m) => m.name),
      [a.name],
    );
  });
});

describe('migrate arguments', () => {
  it('accepts up (the default), down [N] and status', () => {
    assert.deepEqual(parseArgs([]), { kind: 'up' });
    assert.deepEqual(parseArgs(['up']), { kind: 'up' });
    assert.deepEqual(parseArgs(['down']), { kind: 'down', count: 1 });
    assert.deepEqual(parseArgs(['down', '3']), { kind: 'down', count: 3 });
    assert.deepEqual(parseArgs(['status']), { kind: 'status' });
  });

  it('returns a usage message for anything else', () => {
    assert.match(String(parseArgs(['down', '-1'])), /positive whole number \(got "-1"\)/);
    assert.match(String(parseArgs(['down', '1.5'])), /positive whole number/);
    assert.match(String(parseArgs(['down', '0'])), /positive whole number/);
    assert.match(String(parseArgs(['status', 'now'])), /takes no arguments/);
    assert.match(String(parseArgs(['redo'])), /unknown subcommand "redo"/);
  });
});
