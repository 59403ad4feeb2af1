import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
// Smoke runs (BENCH_QUICK=1) must not replace the committed figures.
const QUICK_RESULTS = join(tmpdir(), 'selfmx-bench-quick/');

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memory_gib: number;
  readonly node: string;
  readonly platform: string;
}

export function describeMachine(): Machine {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memory_gib: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/**
 * Writes bench/results/latest.json (and latest.txt, the printed tables) plus dated copies, so
 * the history of runs stays in the repository; quick runs go to a temporary directory.
 */
export async function writeResults(
  date: Date,
  results: object,
  printed: string,
  quick: boolean,
): Promise<{ latest: string; dated: string }> {
  const directory = quick ? QUICK_RESULTS : RESULTS;
  await mkdir(directory, { recursive: true });
  const stamp = date
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const latest = `${directory}latest.json`;
  const dated = `${directory}${stamp}.json`;
  await writeFile(latest, json);
  await writeFile(dated, json);
  await writeFile(`${directory}latest.txt`, `${printed}\n`);
  return { latest, dated };
}
