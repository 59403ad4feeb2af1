import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { round } from '../lib/stats.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GNU_TIME = '/usr/bin/time';

export interface SynthResult {
  readonly wall_ms: number;
  /** GNU time's "Maximum resident set size": the largest process of the run (tsx, cdktf). */
  readonly peak_rss_mb: number | null;
}

/** `npm run synth` as an operator runs it, under GNU time -v for its peak memory. */
export async function measureSynth(): Promise<SynthResult> {
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
  const maxRssKb = /Maximum resident set size \(kbytes\): (\d+)/.exec(output)?.[1];
  return {
    wall_ms: round(wallMs, 0),
    peak_rss_mb: maxRssKb ? round(Number(maxRssKb) / 1024, 1) : null,
  };
}
