import { dirname } from 'node:path';
import type {
  IPolicyValidationContext,
  IPolicyValidationPlugin,
  PolicyValidationPluginReport,
  PolicyViolation,
} from 'aws-cdk-lib';
import { readAssembly } from '../tools/verify/assembly';
import { describeOversized, oversizedPolicies, type PolicyKind } from '../tools/verify/policy-size';
import { Resolver } from '../tools/verify/resolve';

/** Where in its resource each kind of policy is. */
const LOCATION: Record<PolicyKind, string> = {
  managed: 'Properties.PolicyDocument',
  inlinePerRole: 'Properties.Policies',
  trust: 'Properties.AssumeRolePolicyDocument',
  managedPerRole: 'Properties.ManagedPolicyArns',
};

/**
 * Fails the synth when a policy would exceed IAM's size quotas once CloudFormation resolves it
 * (lib/tools/verify/policy-size.ts): no rule pack sees it, and IAM would refuse it only at deploy.
 * Reads the assembly just written, so a reference to another stack is measured by what it names.
 */
export class IamQuotaCheck implements IPolicyValidationPlugin {
  readonly name = 'IAM-Quotas';
  readonly ruleIds = ['iam-policy-size', 'iam-policies-per-role'];

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const violations: PolicyViolation[] = [];
    for (const dir of new Set(context.templatePaths.map((path) => dirname(path)))) {
      const assembly = readAssembly(dir);
      for (const policy of oversizedPolicies(assembly, new Resolver(assembly))) {
        const template = context.stackTemplates.find((t) =>
          t.templatePath.endsWith(`${policy.stack}.template.json`),
        );
        violations.push({
          ruleName: policy.kind === 'managedPerRole' ? 'iam-policies-per-role' : 'iam-policy-size',
          description: describeOversized(policy),
          fix:
            policy.kind === 'managedPerRole'
              ? "Raise the account's quota of managed policies per role (Service Quotas, IAM), or give the role fewer, larger policies"
              : "Split the statements over more managed policies (a blueprint role does this itself), or name fewer resources (a pattern under the blueprint's prefix)",
          severity: 'error',
          violatingResources: [
            {
              resourceLogicalId: policy.logicalId,
              locations: [`Resources.${policy.logicalId}.${LOCATION[policy.kind]}`],
              ...(template ? { templatePath: template.templatePath } : {}),
            },
          ],
        });
      }
    }
    return { success: violations.length === 0, violations };
  }
}
