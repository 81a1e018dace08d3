import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationValidatePlugin, type IPolicyValidationContext } from 'aws-cdk-lib';
import {
  CLOUDFORMATION_VALIDATE_REPORT,
  CLOUDFORMATION_VALIDATE_REQUEST,
  CLOUDFORMATION_VALIDATE_REQUEST_FILE,
  CLOUDFORMATION_VALIDATE_START,
} from './messages';

/**
 * aws-cdk-lib's CloudFormation validation, out of the synth's process: builds its engine for the
 * app's resource types at once, then waits for the templates (the request file in the job's
 * directory), validates them and prints the report. Gives up when the synth's process ends.
 */
const [dir, start] = process.argv.slice(2);
const { appPid, resourceTypes } = CLOUDFORMATION_VALIDATE_START.decode(start);
const plugin = new CloudFormationValidatePlugin();
// The plugin reads only the templates, not the app's construct tree.
const validate = (context: Omit<IPolicyValidationContext, 'appConstruct'>) =>
  plugin.validate(context as IPolicyValidationContext);
if (resourceTypes.length > 0) {
  // One resource of each type the app has: the engine is built for them and kept.
  const warm = join(dir, 'warm.template.json');
  writeFileSync(
    warm,
    JSON.stringify({
      Resources: Object.fromEntries(resourceTypes.map((type, i) => [`R${i}`, { Type: type }])),
    }),
  );
  validate({
    templatePaths: [warm],
    stackTemplates: [
      { stackConstructPath: 'Warm', templatePath: warm, accountId: undefined, region: undefined },
    ],
  });
}
const request = join(dir, CLOUDFORMATION_VALIDATE_REQUEST_FILE);
const idleUntil = Date.now() + 15 * 60 * 1000;
const pause = new Int32Array(new SharedArrayBuffer(4));
while (!existsSync(request)) {
  try {
    process.kill(appPid, 0);
  } catch {
    process.exit(3);
  }
  if (Date.now() > idleUntil) process.exit(4);
  Atomics.wait(pause, 0, 0, 20);
}
process.stdout.write(
  CLOUDFORMATION_VALIDATE_REPORT.encode(
    validate(CLOUDFORMATION_VALIDATE_REQUEST.decode(readFileSync(request, 'utf8'))),
  ),
);
