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
import { workerScript } from './worker-script';
import { GUARD_COORDINATOR_REQUEST, GUARD_REPORTS, type GuardJob } from './workers/messages';

export const CONTROL_TOWER_RULES = join(
  dirname(require.resolve('@cdklabs/cdk-validator-cfnguard')),
  '..',
  'rules',
  'control-tower',
  'cfn-guard',
);
/** A quoted resource type; the rule files quote with either mark. */
const RESOURCE_TYPE = /["'](AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)["']/g;

/** Deals the templates to guard workers, one per CPU (workers/guard-coordinator.ts). */
const COORDINATOR = join(__dirname, 'workers', 'guard-coordinator');
/** Checks its share of the templates, each against its own rule files (workers/guard-worker.ts). */
const WORKER = join(__dirname, 'workers', 'guard-worker');

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
      .map((templatePath): GuardJob => {
        const present = resourceTypesIn(templatePath);
        const rules = ruleFiles
          .filter((rule) => rule.resourceTypes.length === 0 || rule.resourceTypes.some((t) => present.has(t)))
          .map((rule) => rule.path);
        return { rules, templatePath, size: statSync(templatePath).size };
      })
      // A template holding no type any rule file inspects has nothing to check (and guard refuses
      // to run without rules).
      .filter((job) => job.rules.length > 0);
    if (jobs.length === 0) {
      this.running = { templates };
      return;
    }
    // cfn-guard is single-threaded: the templates are checked side by side, largest first.
    jobs.sort((a, b) => b.size - a.size);
    const request = GUARD_COORDINATOR_REQUEST.encode({
      worker: workerScript(WORKER),
      jobs,
      workers: cpus().length,
    });
    this.running = {
      templates,
      job: new BackgroundJob('cfn-guard validation', workerScript(COORDINATOR), [request]),
    };
  }

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    if (context.templatePaths.length === 0) return { success: true, violations: [] };
    this.start(context.templatePaths);
    const running = this.running;
    this.running = undefined;
    if (!running?.job) return { success: true, violations: [] };
    const reports = GUARD_REPORTS.decode(running.job.collect());
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
