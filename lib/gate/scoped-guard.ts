import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type {
  IPolicyValidationContextBeta1,
  IPolicyValidationPluginBeta1,
  PolicyValidationPluginReportBeta1,
} from 'aws-cdk-lib';
import { BackgroundJob } from './background';

export const CONTROL_TOWER_RULES = join(
  dirname(require.resolve('@cdklabs/cdk-validator-cfnguard')),
  '..',
  'rules',
  'control-tower',
  'cfn-guard',
);
/** A quoted resource type; the rule files quote with either mark. */
const RESOURCE_TYPE = /["'](AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)["']/g;

/**
 * Runs CfnGuardValidator over each job (a template and its rule files): the jobs, largest first,
 * are dealt to one worker process per CPU, each taking the next to the lightest load, and each
 * worker checks its templates one after the other. Prints the reports in job order. Explicit rule
 * files: the plugin's own disabledRules falls back to the whole directory in some layouts.
 */
const COORDINATOR = `
const { execFile } = require('node:child_process');
const jobs = JSON.parse(process.argv[2]);
const workers = Math.max(1, Math.min(Number(process.argv[3]), jobs.length));
const worker = ${JSON.stringify(`
const { CfnGuardValidator } = require(${JSON.stringify(require.resolve('@cdklabs/cdk-validator-cfnguard'))});
const out = JSON.parse(process.argv[1]).map(([index, rules, templatePath]) => [
  index,
  new CfnGuardValidator({ controlTowerRulesEnabled: false, rules }).validate({ templatePaths: [templatePath] }),
]);
process.stdout.write(JSON.stringify(out));
`)};
const loads = Array.from({ length: workers }, () => ({ size: 0, jobs: [] }));
jobs.forEach(([rules, templatePath, size], index) => {
  const lightest = loads.reduce((a, b) => (b.size < a.size ? b : a));
  lightest.size += size;
  lightest.jobs.push([index, rules, templatePath]);
});
const reports = new Array(jobs.length);
let pending = loads.length;
for (const load of loads) {
  execFile(process.execPath, ['-e', worker, JSON.stringify(load.jobs)], { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
    if (err) {
      process.stderr.write(load.jobs.map((j) => j[2]).join(', ') + ': ' + stderr + String(err));
      process.exit(1);
    }
    for (const [index, report] of JSON.parse(stdout)) reports[index] = report;
    if (--pending === 0) process.stdout.write(JSON.stringify(reports));
  });
}
`;

/** A Control Tower guard rule file and the resource types it inspects (empty when it names none). */
export interface RuleFile {
  readonly path: string;
  readonly resourceTypes: readonly string[];
}

export function listRuleFiles(dir: string): RuleFile[] {
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
 *
 * Guard runs in other processes: `start` (called by the gate's first plugin) sets it going, and
 * `validate`, at this plugin's turn, collects the result (or starts and waits, if nothing did).
 */
export class ScopedCfnGuardValidator implements IPolicyValidationPluginBeta1 {
  private readonly full = new CfnGuardValidator({ controlTowerRulesEnabled: true });
  readonly name = this.full.name;
  readonly version = this.full.version;
  readonly ruleIds = this.full.ruleIds;
  private ruleFiles?: RuleFile[];
  /** The templates being checked, and the job checking them (none when no rule applies to them). */
  private running?: { readonly templates: string; readonly job?: BackgroundJob };

  /** Starts checking the templates in the background (once per set of templates). */
  start(templatePaths: readonly string[]): void {
    const templates = JSON.stringify([...templatePaths].sort());
    if (this.running?.templates === templates || templatePaths.length === 0) return;
    const ruleFiles = (this.ruleFiles ??= listRuleFiles(CONTROL_TOWER_RULES));
    const jobs = templatePaths
      .map((templatePath) => {
        const present = resourceTypesIn(templatePath);
        const rules = ruleFiles
          .filter((rule) => rule.resourceTypes.length === 0 || rule.resourceTypes.some((t) => present.has(t)))
          .map((rule) => rule.path);
        return [rules, templatePath, statSync(templatePath).size] as const;
      })
      // A template holding no type any rule file inspects has nothing to check (and guard refuses
      // to run without rules).
      .filter(([rules]) => rules.length > 0);
    if (jobs.length === 0) {
      this.running = { templates };
      return;
    }
    // cfn-guard is single-threaded: the templates are checked side by side, largest first.
    jobs.sort((a, b) => b[2] - a[2]);
    this.running = {
      templates,
      job: new BackgroundJob('cfn-guard validation', COORDINATOR, [
        JSON.stringify(jobs),
        String(cpus().length),
      ]),
    };
  }

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    if (context.templatePaths.length === 0) return { success: true, violations: [] };
    this.start(context.templatePaths);
    const running = this.running;
    this.running = undefined;
    if (!running?.job) return { success: true, violations: [] };
    const { job } = running;
    const reports = JSON.parse(job.collect()) as PolicyValidationPluginReportBeta1[];
    return {
      success: reports.every((r) => r.success),
      // Guard's findings carry no severity. Once any finding of a report is acknowledged,
      // aws-cdk-lib decides the report by severity alone, and would pass one without: every Control
      // Tower control is an error (a hook refuses the template).
      violations: reports.flatMap((r) =>
        r.violations.map((v) => ({ ...v, severity: v.severity ?? 'error' })),
      ),
    };
  }
}
