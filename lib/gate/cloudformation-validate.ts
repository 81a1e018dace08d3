import {
  CloudFormationValidatePlugin,
  type IPolicyValidationContext,
  type PolicyValidationPluginReport,
} from 'aws-cdk-lib';
import { BackgroundJob } from './background';

/**
 * aws-cdk-lib's CloudFormation validation in a process of its own. Building its engine (rules
 * compiled for the app's resource types) takes seconds; here it is built while the app
 * synthesizes, and the templates are validated while the other packs run.
 */
const VALIDATOR = `
const fs = require('node:fs');
const path = require('node:path');
const { CloudFormationValidatePlugin } = require(${JSON.stringify(require.resolve('aws-cdk-lib'))});
const [dir, appPid, typesJson] = process.argv.slice(1);
const plugin = new CloudFormationValidatePlugin();
const types = JSON.parse(typesJson);
if (types.length > 0) {
  // One resource of each type the app has: the engine is built for them and kept.
  const warm = path.join(dir, 'warm.template.json');
  fs.writeFileSync(warm, JSON.stringify({ Resources: Object.fromEntries(types.map((type, i) => ['R' + i, { Type: type }])) }));
  plugin.validate({ templatePaths: [warm], stackTemplates: [{ stackConstructPath: 'Warm', templatePath: warm }] });
}
const request = path.join(dir, 'request.json');
const idleUntil = Date.now() + 15 * 60 * 1000;
const pause = new Int32Array(new SharedArrayBuffer(4));
while (!fs.existsSync(request)) {
  try { process.kill(Number(appPid), 0); } catch { process.exit(3); }
  if (Date.now() > idleUntil) process.exit(4);
  Atomics.wait(pause, 0, 0, 20);
}
process.stdout.write(JSON.stringify(plugin.validate(JSON.parse(fs.readFileSync(request, 'utf8')))));
`;

/**
 * The built-in CloudFormation validation (the same plugin class, rules and name, so that the
 * `validateAgainstDefaultRules` flag and `CloudFormation-Validate::` acknowledgements work as
 * before; registering it replaces the default instance), run in the background: `prepare` builds
 * the engine early, `start` hands it the templates, `validate` collects the report.
 */
export class BackgroundCloudFormationValidate extends CloudFormationValidatePlugin {
  private job?: BackgroundJob;
  private requested = false;

  /** Starts the validator and builds its engine for these resource types. */
  prepare(resourceTypes: readonly string[]): void {
    this.job ??= new BackgroundJob(
      'CloudFormation validation',
      VALIDATOR,
      [String(process.pid), JSON.stringify([...new Set(resourceTypes)].sort())],
      // The engine is WebAssembly: its baseline compiler alone costs about half the CPU of tiering
      // up in background threads, which would take the cores the rule packs and guard need.
      ['--liftoff-only'],
    );
  }

  /** Hands the templates over; the validator starts at once if its engine is ready. */
  start(context: IPolicyValidationContext): void {
    this.prepare([]);
    if (this.requested) return;
    this.requested = true;
    this.job!.send(
      'request.json',
      JSON.stringify({
        templatePaths: context.stackTemplates.map((t) => t.templatePath),
        stackTemplates: context.stackTemplates,
      }),
    );
  }

  override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    this.start(context);
    const job = this.job!;
    this.job = undefined;
    this.requested = false;
    return JSON.parse(job.collect()) as PolicyValidationPluginReport;
  }
}
