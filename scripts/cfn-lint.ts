/**
 * `npm run cfn-lint [-- DIR]`: runs cfn-lint over every template of the assembly (DIR defaults to
 * cdk.out) and fails on any error but the ones proven to be cfn-lint's stale schema (listed
 * below, each matched by rule, resource type and path, never by rule alone). cfn-lint catches
 * property combinations a service refuses that no rule pack sees (GuardDuty's DataSources with
 * Features was one). Warnings are printed, not fatal.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Finding {
  readonly Filename: string;
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Location: { readonly Path: readonly (string | number)[]; readonly Start: { LineNumber: number } };
  readonly Rule: { readonly Id: string };
}

/**
 * cfn-lint 1.51's schema lags the CloudFormation registry that aws-cdk-lib 2.276's L1s follow:
 * - E1017 on `Fn::GetStackOutput` inside `Fn::Split`: CloudFormation resolves the stack output to
 *   a string before splitting it (aws-cdk-lib writes this for weak cross-stack references).
 * - E3002 on `Tags` of an `AWS::CloudWatch::Dashboard`: the resource takes tags (its generated L1
 *   has them, and CloudFormation accepts them).
 */
const STALE_SCHEMA: readonly ((finding: Finding, resourceType: string | undefined) => boolean)[] = [
  (f) =>
    f.Rule.Id === 'E1017' &&
    f.Message.startsWith("{'Fn::GetStackOutput'") &&
    f.Location.Path.includes('Fn::Split'),
  (f, type) =>
    f.Rule.Id === 'E3002' &&
    type === 'AWS::CloudWatch::Dashboard' &&
    f.Message.includes("'Tags' was unexpected"),
];

/**
 * cfn-lint checks a state machine's definition before CloudFormation fills its
 * `DefinitionSubstitutions`, against a pattern that names the `aws` partition: a state's
 * `Resource` of `arn:${Partition}:states:::…` is what the airlock's workflows write so that they
 * take the stack's partition, and it is an integration ARN once substituted.
 */
const SUBSTITUTED = (f: Finding, type: string | undefined) =>
  f.Rule.Id === 'E3601' &&
  type === 'AWS::StepFunctions::StateMachine' &&
  f.Location.Path.at(-1) === 'Resource' &&
  f.Message.startsWith("'arn:${Partition}:states:::");

const dir = process.argv[2] ?? join(__dirname, '..', 'cdk.out');
const templates = readdirSync(dir)
  .filter((f) => f.endsWith('.template.json'))
  .map((f) => join(dir, f));
if (templates.length === 0) {
  console.error(`${dir}: no templates; run npx cdk synth first`);
  process.exit(2);
}
const run = spawnSync('cfn-lint', ['--format', 'json', ...templates], {
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
if (run.error || (run.status !== 0 && !run.stdout.trim().startsWith('['))) {
  console.error(`cfn-lint did not run: ${run.error?.message ?? run.stderr}`);
  process.exit(2);
}
const findings = JSON.parse(run.stdout || '[]') as Finding[];
/** Each template read once, however many findings it has. */
const parsed = new Map<string, { Resources: Record<string, { Type: string }> }>();
const typeAt = (finding: Finding) => {
  const [section, logicalId] = finding.Location.Path;
  if (section !== 'Resources') return undefined;
  if (!parsed.has(finding.Filename)) {
    parsed.set(finding.Filename, JSON.parse(readFileSync(finding.Filename, 'utf8')) as never);
  }
  return parsed.get(finding.Filename)!.Resources[String(logicalId)]?.Type;
};
let errors = 0;
for (const finding of findings) {
  const type = typeAt(finding);
  const stale = finding.Level === 'Error' && STALE_SCHEMA.some((known) => known(finding, type));
  const substituted = finding.Level === 'Error' && SUBSTITUTED(finding, type);
  const where = `${finding.Filename}:${finding.Location.Start.LineNumber} ${finding.Location.Path.join('/')}`;
  if (finding.Level === 'Error' && !stale && !substituted) errors++;
  const label = stale ? 'stale-schema' : substituted ? 'substituted' : finding.Level;
  console.log(`${label} ${finding.Rule.Id} ${where}: ${finding.Message}`);
}
console.log(
  `cfn-lint: ${templates.length} templates, ${errors} errors, ${findings.length - errors} other findings`,
);
process.exit(errors > 0 ? 1 : 0);
