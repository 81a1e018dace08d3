import { Stage, type App } from 'aws-cdk-lib';
import { addComplianceGate } from '../../lib/gate/compliance-gate';
import { readReport, unacknowledgedFindings, type ValidationReport } from './report';
import { testApp } from './synth';

/** Builds a spec's stacks in the given scope: the spec's own app, or its stage of the shared gated app. */
export type SpecBuilder = (scope: App | Stage) => void;

const builders = new Map<string, SpecBuilder>();
let report: ValidationReport | undefined;

/**
 * The gate check of a construct spec. The gate starts its background checks (cfn-guard and the
 * CloudFormation validation) once per synth, which costs seconds whatever the app's size; so the
 * specs of a jest file share one gated synth. Each spec registers, while jest collects it, the
 * builder of its stacks; the first check builds every registered builder in a stage of its own,
 * adds the gate and synthesizes once. The spec builds the same stacks, without the gate, in its
 * own app for its precise assertions.
 */
export function gateCheck(
  name: string,
  build: SpecBuilder,
): {
  /** Findings no acknowledgement covers, as `plugin rule at path` (the path inside the stage). */
  unacknowledged(): string[];
  /** Acknowledged findings, as `[plugin rule at path, reason]`. */
  acknowledged(): [string, string | undefined][];
} {
  if (builders.has(name)) throw new Error(`two specs register a gate check named ${name}`);
  if (report) throw new Error(`gate check ${name} registered after the shared gated synth`);
  builders.set(name, build);
  const own = `${name}/`;
  return {
    unacknowledged: () =>
      unacknowledgedFindings(sharedReport())
        .filter((f) => f.includes(` at ${own}`))
        .map((f) => f.replace(` at ${own}`, ' at ')),
    acknowledged: () =>
      sharedReport().pluginReports.flatMap((plugin) =>
        (plugin.suppressedViolations ?? []).flatMap((v) =>
          v.violatingConstructs
            .filter((c) => c.constructPath.startsWith(own))
            .map((c): [string, string | undefined] => [
              `${plugin.pluginName} ${v.ruleName} at ${c.constructPath.slice(own.length)}`,
              v.reason,
            ]),
        ),
      ),
  };
}

function sharedReport(): ValidationReport {
  if (!report) {
    const app = testApp();
    for (const [name, build] of builders) build(new Stage(app, name));
    addComplianceGate(app);
    report = readReport(app.synth().directory);
  }
  return report;
}
