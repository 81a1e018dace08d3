// The baseline for `npm run bench`: what `cdk init app` gives, an app with one empty stack.
import { App, Stack, Validations } from 'aws-cdk-lib';

const app = new App();
const stack = new Stack(app, 'EmptyStack');
// An empty stack is the point of the baseline; built-in validation would refuse it as an error.
Validations.of(stack).acknowledge({
  id: 'CloudFormation-Validate::F0001',
  reason: 'Intentionally empty baseline stack',
});
app.synth();
