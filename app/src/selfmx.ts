import { ConfigError } from './config/config-error.js';

/**
 * The one entry point of the bundle: `node app/dist/selfmx.js <command>`.
 * serve (default) — HTTP API and in-process queue workers; worker — queue workers only;
 * migrate [up | down [N] | status] — the schema migration job.
 */
const COMMANDS: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  serve: () => import('./commands/serve.js'),
  worker: () => import('./commands/worker.js'),
  migrate: () => import('./commands/migrate.js'),
};

const USAGE = 'usage: selfmx [serve | worker | migrate [up | down [N] | status]]';

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...args] = argv;
  if (command === '--help' || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  const load = COMMANDS[command];
  if (!load) {
    console.error(`selfmx: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  return (await load()).run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(`selfmx: configuration error: ${error.message}`);
    } else {
      console.error(`selfmx: ${error instanceof Error ? error.message : String(error)}`);
    }
    process.exitCode = 1;
  },
);
