import { App } from 'cdktf';
import { AwsStack } from './stacks/aws-stack.js';
import { loadAwsConfig } from './stacks/config/aws-config.js';
import { loadLocalConfig } from './stacks/config/local-config.js';
import { LocalStack } from './stacks/local-stack.js';

// `npm run synth` (and `cdktf synth`) writes cdktf.out/stacks/<stack>/cdk.tf.json. The only place
// the stacks' settings are read from the environment (the SELFMX_* variables).
// cdktf's validations would run `terraform version` once per terraform_data on this machine;
// every stack declares terraform.required_version, which Terraform itself enforces at init where
// it applies. test/stacks/construct-validations.test.ts runs those validations instead.
const app = new App({ skipValidation: true });
new LocalStack(app, 'selfmx-local', { config: loadLocalConfig(process.env) });
new AwsStack(app, 'selfmx-aws', { config: loadAwsConfig(process.env) });
app.synth();
