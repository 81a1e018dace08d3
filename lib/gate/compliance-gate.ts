import {
  CfnResource,
  Validations,
  type App,
  type IPolicyValidationContext,
  type IPolicyValidationPlugin,
  type PolicyValidationPluginReport,
} from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { BackgroundCloudFormationValidate } from './cloudformation-validate';
import { IamQuotaCheck } from './iam-quotas';
import { ScopedCfnGuardValidator } from './scoped-guard';

/**
 * A rule pack that first sets the background checks going, so that they run while it and the
 * packs after it check the templates. Reports under the pack's own name.
 */
class StartingBackgroundChecks implements IPolicyValidationPlugin {
  readonly name: string;
  readonly version?: string;
  readonly ruleIds?: string[];

  constructor(
    private readonly pack: IPolicyValidationPlugin,
    private readonly start: (context: IPolicyValidationContext) => void,
  ) {
    this.name = pack.name;
    this.version = pack.version;
    this.ruleIds = pack.ruleIds;
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    this.start(context);
    return this.pack.validate(context);
  }
}

/**
 * Registers every rule pack on the app root, so each stack (including those added later or
 * inside a Stage) is checked at synth and any unacknowledged finding fails it: cdk-nag's
 * AwsSolutions, HIPAA Security and NIST 800-53 R5 packs, the Control Tower proactive controls
 * through cfn-guard, aws-cdk-lib's CloudFormation validation, and IAM's policy size quotas. Guard and the CloudFormation
 * validation run in other processes, alongside the cdk-nag packs; call this after the blueprint
 * is built, so the validation engine can be prepared for its resource types during the synth.
 */
export function addComplianceGate(app: App): void {
  const guard = new ScopedCfnGuardValidator();
  const cloudFormation = new BackgroundCloudFormationValidate();
  cloudFormation.prepare(
    app.node.findAll().flatMap((c) => (CfnResource.isCfnResource(c) ? [c.cfnResourceType] : [])),
  );
  Validations.of(app).addPlugins(
    new StartingBackgroundChecks(new AwsSolutionsChecks(app), (context) => {
      guard.start(context.stackTemplates.map((t) => t.templatePath));
      cloudFormation.start(context);
    }),
    new HIPAASecurityChecks(app),
    new NIST80053R5Checks(app),
    guard,
    cloudFormation,
    new IamQuotaCheck(),
  );
}
