import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type {
  IPolicyValidationContextBeta1,
  IPolicyValidationPluginBeta1,
  PolicyValidationPluginReportBeta1,
} from 'aws-cdk-lib';

const CONTROL_TOWER_RULES = join(
  dirname(require.resolve('@cdklabs/cdk-validator-cfnguard')),
  '..',
  'rules',
  'control-tower',
  'cfn-guard',
);
const RESOURCE_TYPE = /"(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)"/g;

/** A Control Tower guard rule file and the resource types it inspects (empty when it names none). */
interface RuleFile {
  readonly path: string;
  readonly resourceTypes: readonly string[];
}

function listRuleFiles(dir: string): RuleFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listRuleFiles(path);
    if (!entry.name.endsWith('.guard')) return [];
    const types = new Set([...readFileSync(path, 'utf8').matchAll(RESOURCE_TYPE)].map((m) => m[1]));
    return [{ path, resourceTypes: [...types] }];
  });
}

function resourceTypesIn(templatePath: string): Set<string> {
  const template = JSON.parse(readFileSync(templatePath, 'utf8')) as {
    Resources?: Record<string, { Type?: string }>;
  };
  return new Set(
    Object.values(template.Resources ?? {})
      .map((resource) => resource.Type)
      .filter((type): type is string => type !== undefined),
  );
}

/**
 * The Control Tower proactive controls through cfn-guard, evaluating each template against only
 * the rule files that inspect a resource type present in it (and every file that names no type).
 * A rule file about an absent type cannot find anything, and guard's time grows with rules times
 * templates, so skipping it saves most of that time. Findings and acknowledgement ids are exactly
 * those of CfnGuardValidator.
 */
export class ScopedCfnGuardValidator implements IPolicyValidationPluginBeta1 {
  private readonly full = new CfnGuardValidator({ controlTowerRulesEnabled: true });
  readonly name = this.full.name;
  readonly version = this.full.version;
  readonly ruleIds = this.full.ruleIds;
  private ruleFiles?: RuleFile[];

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const ruleFiles = (this.ruleFiles ??= listRuleFiles(CONTROL_TOWER_RULES));
    const reports = context.templatePaths.map((templatePath) => {
      const present = resourceTypesIn(templatePath);
      const relevant = ruleFiles
        .filter((rule) => rule.resourceTypes.length === 0 || rule.resourceTypes.some((t) => present.has(t)))
        .map((rule) => rule.path);
      // Explicit files: the plugin's own disabledRules falls back to the whole directory in some layouts.
      return new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: relevant }).validate({
        ...context,
        templatePaths: [templatePath],
      });
    });
    return {
      success: reports.every((r) => r.success),
      violations: reports.flatMap((r) => r.violations),
    };
  }
}
