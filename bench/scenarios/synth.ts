import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median, round } from '../lib/stats.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GNU_TIME = '/usr/bin/time';
/** Runs per measurement: the machine is shared, so one run says little. */
const RUNS = 5;

export interface SynthResult {
  /** The median wall time of the runs. */
  readonly wall_ms: number;
  /** Every run's wall time, in the order they ran. */
  readonly runs_wall_ms: readonly number[];
  /**
   * The median CPU time (user + system, every process of the run): what a busy machine's
   * scheduling does not inflate. Null without GNU time.
   */
  readonly cpu_ms: number | null;
  /** GNU time's "Maximum resident set size": the largest process of any run (node, npm). */
  readonly peak_rss_mb: number | null;
}

interface SynthRun {
  readonly wallMs: number;
  readonly cpuMs: number | null;
  readonly maxRssKb: number | null;
}

/** `npm run synth` as an operator runs it, RUNS times, each under GNU time -v. */
export async function measureSynth(runs = RUNS): Promise<SynthResult> {
  const results: SynthRun[] = [];
  for (let run = 0; run < runs; run++) results.push(await synthOnce());
  const cpu = results.flatMap((run) => (run.cpuMs === null ? [] : [run.cpuMs]));
  const rss = results.flatMap((run) => (run.maxRssKb === null ? [] : [run.maxRssKb]));
  return {
    wall_ms: round(median(results.map((run) => run.wallMs)), 0),
    runs_wall_ms: results.map((run) => round(run.wallMs, 0)),
    cpu_ms: cpu.length === results.length ? round(median(cpu), 0) : null,
    peak_rss_mb: rss.length > 0 ? round(Math.max(...rss) / 1024, 1) : null,
  };
}

async function synthOnce(): Promise<SynthRun> {
  const useTime = existsSync(GNU_TIME);
  const command = useTime ? GNU_TIME : 'npm';
  const args = useTime ? ['-v', 'npm', 'run', 'synth'] : ['run', 'synth'];
  const began = performance.now();
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const [code] = await once(child, 'exit');
  const wallMs = performance.now() - began;
  if (code !== 0) throw new Error(`npm run synth exited ${code}:\n${output.slice(-2000)}`);
  const seconds = (label: string) => {
    const value = new RegExp(`${label} \\(seconds\\): ([\\d.]+)`).exec(output)?.[1];
    return value === undefined ? null : Number(value) * 1000;
  };
  const user = seconds('User time');
  const system = seconds('System time');
  const maxRssKb = /Maximum resident set size \(kbytes\): (\d+)/.exec(output)?.[1];
  return {
    wallMs,
    cpuMs: user === null || system === null ? null : user + system,
    maxRssKb: maxRssKb === undefined ? null : Number(maxRssKb),
  };
}
