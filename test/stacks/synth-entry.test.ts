import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPOSITORY_ROOT } from '../../stacks/constructs/release-hash.js';

const run = promisify(execFile);
const STACKS = ['selfmx-local', 'selfmx-aws'];

/** Runs one synth command into a fresh outdir and returns each stack's cdk.tf.json text. */
async function synthesize(args: string[]): Promise<Record<string, string>> {
  const outdir = mkdtempSync(join(tmpdir(), 'selfmx-synth-entry-'));
  try {
    await run(process.execPath, args, {
      cwd: REPOSITORY_ROOT,
      env: { ...process.env, CDKTF_OUTDIR: outdir },
    });
    return Object.fromEntries(
      STACKS.map((stack) => [
        stack,
        readFileSync(join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8'),
      ]),
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('stacks/synth.mjs (npm run synth, cdktf synth)', () => {
  it('writes the same Terraform JSON as main.ts run from its sources by tsx', async () => {
    // One after the other: the first run may have to build app/dist.
    const fromSources = await synthesize(['--import', 'tsx', 'main.ts']);
    const bundled = await synthesize(['stacks/synth.mjs']);
    for (const stack of STACKS) {
      assert.equal(bundled[stack], fromSources[stack], `${stack}/cdk.tf.json differs`);
    }
  });
});
