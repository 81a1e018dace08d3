import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of cdk.out/validation-report.json that the gate's tests read. */
export interface ValidationReport {
  readonly pluginReports: readonly PluginReport[];
}

export interface PluginReport {
  readonly pluginName: string;
  readonly conclusion: 'success' | 'failure';
  readonly violations: readonly Violation[];
  readonly suppressedViolations?: readonly SuppressedViolation[];
}

export interface Violation {
  readonly ruleName: string;
  readonly description: string;
  readonly severity?: string;
  readonly violatingConstructs: readonly { readonly constructPath: string }[];
}

export interface SuppressedViolation extends Violation {
  readonly suppressionReason?: string;
  readonly reason?: string;
}

export function readReport(dir: string): ValidationReport {
  return JSON.parse(readFileSync(join(dir, 'validation-report.json'), 'utf8')) as ValidationReport;
}

/** Every finding no acknowledgement covers, as `plugin rule at construct path`. */
export function unacknowledgedFindings(report: ValidationReport): string[] {
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.flatMap((v) =>
      v.violatingConstructs.map((c) => `${plugin.pluginName} ${v.ruleName} at ${c.constructPath}`),
    ),
  );
}
