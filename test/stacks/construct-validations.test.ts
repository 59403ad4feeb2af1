import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Testing } from 'cdktf';
import { AwsStack } from '../../stacks/aws-stack.js';
import { loadAwsConfig } from '../../stacks/config/aws-config.js';
import { loadLocalConfig } from '../../stacks/config/local-config.js';
import { LocalStack } from '../../stacks/local-stack.js';

const RELEASE = `${'c0ffee'.repeat(10)}abcd`;

// main.ts synthesizes with skipValidation (each terraform_data's check spawns `terraform version`);
// this is where cdktf's own validations still run: provider presence and the Terraform version.
describe("cdktf's construct validations", () => {
  it('pass for both stacks with the default settings', (t) => {
    const app = Testing.app();
    try {
      new LocalStack(app, 'selfmx-local', { config: loadLocalConfig({}), releaseHash: RELEASE });
      new AwsStack(app, 'selfmx-aws', { config: loadAwsConfig({}) });
      const failures = app.node
        .findAll()
        .flatMap((construct) =>
          construct.node.validate().map((message) => `${construct.node.path}: ${message}`),
        );
      // The version check needs the terraform binary, a deploy prerequisite that a CI machine may
      // lack; without it only that check may fail, and it says so.
      const terraformMissing =
        spawnSync('terraform', ['version']).error?.message.includes('ENOENT') ?? false;
      const expected = terraformMissing
        ? failures.filter((failure) => failure.includes('Could not determine version of terraform'))
        : [];
      if (terraformMissing) t.diagnostic('terraform is not on PATH: its version check was not run');
      assert.deepEqual(failures, expected);
    } finally {
      rmSync(app.outdir, { recursive: true, force: true });
    }
  });
});
