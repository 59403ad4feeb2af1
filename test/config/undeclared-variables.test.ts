import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { APP_VARIABLES } from '../../app/src/config/app-environment-spec.js';
import { DEPLOYMENT_VARIABLES } from '../../stacks/config/deployment-environment-spec.js';
import { REPOSITORY_ROOT } from '../../stacks/constructs/release-hash.js';
import { environmentReads, typeScriptFiles, undeclaredReads } from './environment-reads.js';

const DECLARED = new Set([...APP_VARIABLES, ...DEPLOYMENT_VARIABLES].map(({ name }) => name));
/** The declarations and the reader: the only modules that may name variables freely. */
const DECLARING_MODULES = new Set([
  'app/src/config/env-spec.ts',
  'app/src/config/env-reader.ts',
  'app/src/config/app-environment-spec.ts',
  'stacks/config/deployment-environment-spec.ts',
]);
const sources = typeScriptFiles(REPOSITORY_ROOT, ['app/src', 'stacks', 'main.ts']).filter(
  ({ file }) => !DECLARING_MODULES.has(file),
);

describe('environment variables', () => {
  test('each variable is declared once', () => {
    const names = [...APP_VARIABLES, ...DEPLOYMENT_VARIABLES].map(({ name }) => name);
    const twice = names.filter((name, index) => names.indexOf(name) !== index);
    assert.deepEqual(twice, [], 'keep one declaration of each');
  });

  test('every variable the app and the stacks read is declared', () => {
    const undeclared = undeclaredReads(sources, DECLARED);
    assert.deepEqual(
      undeclared.map(({ variable, file }) => `${variable} (read in ${file})`),
      [],
      'declare these in app/src/config/app-environment-spec.ts or stacks/config/deployment-environment-spec.ts',
    );
  });

  test('the scan sees the reads that exist', () => {
    // Guards the scanner itself: a pattern that matched nothing would pass the test above.
    const all = new Set(sources.flatMap(({ source }) => environmentReads(source)));
    for (const variable of ['SELFMX_DEV_DIR', 'DATABASE_URL', 'PGPASSWORD', 'SELFMX_AWS_REGION']) {
      assert.ok(all.has(variable), `the scan missed ${variable}`);
    }
  });

  test('an undeclared read fails, naming the variable and the file', () => {
    const fixture = [
      "const home = process.env.SELFMX_HOME ?? '/tmp';",
      "const debug = process.env['SELFMX_DEBUG'];",
      'const password = env.DB_PASSWORD;',
      "const region = read.value('SELFMX_REGION');",
      "const port = read.integer('HTTP_PORT', 8080, { min: 1 });",
      'const { API_TOKEN, PORT } = process.env;',
      "const url = read.value('DATABASE_URL');",
    ].join('\n');
    assert.deepEqual(undeclaredReads([{ file: 'app/src/fixture.ts', source: fixture }], DECLARED), [
      { variable: 'SELFMX_HOME', file: 'app/src/fixture.ts' },
      { variable: 'SELFMX_DEBUG', file: 'app/src/fixture.ts' },
      { variable: 'DB_PASSWORD', file: 'app/src/fixture.ts' },
      { variable: 'SELFMX_REGION', file: 'app/src/fixture.ts' },
      { variable: 'HTTP_PORT', file: 'app/src/fixture.ts' },
      { variable: 'API_TOKEN', file: 'app/src/fixture.ts' },
    ]);
  });
});
