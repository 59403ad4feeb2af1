import { App } from 'cdktf';
import { AwsStack } from './stacks/aws-stack.js';
import { LocalStack } from './stacks/local-stack.js';

// `npm run synth` (and `cdktf synth`) writes cdktf.out/stacks/<stack>/cdk.tf.json.
const app = new App();
new LocalStack(app, 'selfmx-local');
new AwsStack(app, 'selfmx-aws');
app.synth();
