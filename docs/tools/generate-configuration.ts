import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIGURATION_PAGE, renderConfigurationReference } from './configuration-reference.js';

/** `npm run docs`: rewrites docs/configuration.md from the environment declarations. */
const root = fileURLToPath(new URL('../..', import.meta.url));
writeFileSync(`${root}${CONFIGURATION_PAGE}`, renderConfigurationReference());
console.log(`wrote ${CONFIGURATION_PAGE}`);
