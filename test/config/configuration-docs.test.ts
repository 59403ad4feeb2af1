import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { APP_VARIABLES } from '../../app/src/config/app-environment-spec.js';
import {
  CONFIGURATION_PAGE,
  renderConfigurationReference,
} from '../../docs/tools/configuration-reference.js';
import { DEPLOYMENT_VARIABLES } from '../../stacks/config/deployment-environment-spec.js';
import { REPOSITORY_ROOT } from '../../stacks/constructs/release-hash.js';

const generated = renderConfigurationReference();

test(`${CONFIGURATION_PAGE} is what the declarations generate`, () => {
  const committed = readFileSync(join(REPOSITORY_ROOT, CONFIGURATION_PAGE), 'utf8');
  // A full-text comparison: assert.equal's diff of two long pages would bury the fix.
  assert.ok(
    committed === generated,
    `${CONFIGURATION_PAGE} differs from the environment declarations: run npm run docs and commit the result`,
  );
});

test('every declared variable has a row, under the headings other pages link to', () => {
  for (const heading of [
    '# Configuration reference',
    '## App variables',
    '### Database',
    '### HTTP and API',
    '### Logging',
    '### Queue',
    '### SMTP',
    '## Deployment variables',
    '### Shared (both stacks)',
    '### selfmx-local',
    '### selfmx-aws',
  ]) {
    assert.ok(`\n${generated}`.includes(`\n${heading}\n`), `missing heading ${heading}`);
  }
  for (const { name } of [...APP_VARIABLES, ...DEPLOYMENT_VARIABLES]) {
    assert.match(generated, new RegExp(`^\\| \`${name}\` +\\|`, 'm'), `${name} has no row`);
  }
});
