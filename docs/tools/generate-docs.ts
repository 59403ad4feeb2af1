import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIGURATION_PAGE, renderConfigurationReference } from './configuration-reference.js';
import { PERFORMANCE_PAGE, readBenchResults, withKeyFigures } from './performance-key-figures.js';

/**
 * `npm run docs`: rewrites docs/configuration.md from the environment declarations, and the key
 * figures of docs/performance.md from the bench's latest full run.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
writeFileSync(`${root}${CONFIGURATION_PAGE}`, renderConfigurationReference());
console.log(`wrote ${CONFIGURATION_PAGE}`);
const performancePage = readFileSync(`${root}${PERFORMANCE_PAGE}`, 'utf8');
writeFileSync(
  `${root}${PERFORMANCE_PAGE}`,
  withKeyFigures(performancePage, readBenchResults(root)),
);
console.log(`wrote the key figures of ${PERFORMANCE_PAGE}`);
