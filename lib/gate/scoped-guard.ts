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

function resourceTypesIn(templatePaths: readonly string[]): Set<string> {
  const types = new Set<string>();
  for (const path of templatePaths) {
    const template = JSON.parse(readFileSync(path, 'utf8')) as {
      Resources?: Record<string, { Type?: string }>;
    };
    for (const resource of Object.values(template.Resources ?? {})) {
      if (resource.Type) types.add(resource.Type);
    }
  }
  return types;
}

/**
 * The Control Tower proactive controls through cfn-guard, evaluating only the rule files that
 * inspect a resource type present in the templates (and every file that names no type). A rule
 * file about an absent type cannot find anything, and skipping it saves most of guard's time.
 * Findings and acknowledgement ids are exactly those of CfnGuardValidator.
 */
export class ScopedCfnGuardValidator implements IPolicyValidationPluginBeta1 {
  private readonly full = new CfnGuardValidator({ controlTowerRulesEnabled: true });
  readonly name = this.full.name;
  readonly version = this.full.version;
  readonly ruleIds = this.full.ruleIds;
  private ruleFiles?: RuleFile[];

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    this.ruleFiles ??= listRuleFiles(CONTROL_TOWER_RULES);
    const present = resourceTypesIn(context.templatePaths);
    const relevant = this.ruleFiles
      .filter((rule) => rule.resourceTypes.length === 0 || rule.resourceTypes.some((t) => present.has(t)))
      .map((rule) => rule.path);
    // Explicit files: the plugin's own disabledRules falls back to the whole directory in some layouts.
    return new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: relevant }).validate(context);
  }
}
