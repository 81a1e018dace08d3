import { join } from 'node:path';
import {
  CloudFormationValidatePlugin,
  type IPolicyValidationContext,
  type PolicyValidationPluginReport,
} from 'aws-cdk-lib';
import { BackgroundJob } from './background';
import { workerScript } from './worker-script';
import {
  CLOUDFORMATION_VALIDATE_REPORT,
  CLOUDFORMATION_VALIDATE_REQUEST,
  CLOUDFORMATION_VALIDATE_REQUEST_FILE,
  CLOUDFORMATION_VALIDATE_START,
} from './workers/messages';

/**
 * aws-cdk-lib's CloudFormation validation in a process of its own
 * (workers/cloudformation-validate-worker.ts). Building its engine (rules compiled for the app's
 * resource types) takes seconds; here it is built while the app synthesizes, and the templates are
 * validated while the other packs run.
 */
const VALIDATOR = join(__dirname, 'workers', 'cloudformation-validate-worker');

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
      workerScript(VALIDATOR),
      [
        CLOUDFORMATION_VALIDATE_START.encode({
          appPid: process.pid,
          resourceTypes: [...new Set(resourceTypes)].sort(),
        }),
      ],
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
      CLOUDFORMATION_VALIDATE_REQUEST_FILE,
      CLOUDFORMATION_VALIDATE_REQUEST.encode({
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
    return CLOUDFORMATION_VALIDATE_REPORT.decode(job.collect());
  }
}
