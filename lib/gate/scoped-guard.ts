import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
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

/**
 * Runs CfnGuardValidator over one template per worker process, as many at once as there are CPUs,
 * and prints the reports in job order. Explicit rule files: the plugin's own disabledRules falls
 * back to the whole directory in some layouts.
 */
const COORDINATOR = `
const { execFile } = require('node:child_process');
const jobs = JSON.parse(process.argv[1]);
const limit = Math.max(1, Number(process.argv[2]));
const worker = ${JSON.stringify(`
const { CfnGuardValidator } = require(${JSON.stringify(require.resolve('@cdklabs/cdk-validator-cfnguard'))});
const [rules, templatePath] = JSON.parse(process.argv[1]);
const report = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules }).validate({ templatePaths: [templatePath] });
process.stdout.write(JSON.stringify(report));
`)};
const reports = new Array(jobs.length);
let next = 0;
let running = 0;
function launch() {
  while (running < limit && next < jobs.length) {
    const i = next++;
    running++;
    execFile(process.execPath, ['-e', worker, JSON.stringify(jobs[i])], { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        process.stderr.write(jobs[i][1] + ': ' + stderr + String(err));
        process.exit(1);
      }
      reports[i] = JSON.parse(stdout);
      running--;
      if (running === 0 && next === jobs.length) process.stdout.write(JSON.stringify(reports));
      else launch();
    });
  }
}
launch();
`;

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
    const jobs = context.templatePaths.map((templatePath) => {
      const present = resourceTypesIn(templatePath);
      const rules = ruleFiles
        .filter((rule) => rule.resourceTypes.length === 0 || rule.resourceTypes.some((t) => present.has(t)))
        .map((rule) => rule.path);
      return { rules, templatePath, size: statSync(templatePath).size };
    });
    if (jobs.length === 0) return { success: true, violations: [] };
    // cfn-guard is single-threaded: the templates are checked side by side, largest first.
    const order = [...jobs.keys()].sort((a, b) => jobs[b].size - jobs[a].size);
    const result = spawnSync(
      process.execPath,
      [
        '-e',
        COORDINATOR,
        JSON.stringify(order.map((i) => [jobs[i].rules, jobs[i].templatePath])),
        String(cpus().length),
      ],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
    );
    if (result.status !== 0) {
      throw new Error(`cfn-guard validation failed (exit ${result.status}): ${result.stderr}`);
    }
    const reports = JSON.parse(result.stdout) as PolicyValidationPluginReportBeta1[];
    return {
      success: reports.every((r) => r.success),
      violations: reports.flatMap((r) => r.violations),
    };
  }
}
