/**
 * `npm run verify -- [DIR] [--config FILE] [--baseline DIR] [--bootstrap-template FILE] [--out DIR]`: proves the blueprint's invariants from
 * the templates of a cloud assembly (DIR, default cdk.out) with no AWS access, and writes the
 * evidence to DIR/compliance/ (or --out). With --config, the corporate ranges and declared flows
 * come from that config, not from the metadata the builder wrote into the templates. With
 * --baseline, also writes report-diff.md and report-diff.json: what changed against the baseline
 * assembly (paths, access, findings, acknowledgements, invariants, security-relevant resources).
 * With --bootstrap-template (the CDK bootstrap template the account was bootstrapped with, YAML or
 * JSON), the report adds the administrative reach: who can change the blueprint's own policies,
 * directly or through CloudFormation.
 * Exits 0 when every invariant holds (and nothing opened against the baseline), 1 when one breaks
 * (or something opened that no declaration of the config covers: a declared flow, an egress
 * allowlist, the break-glass role, an accepted risk), 2 when the input cannot be read.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { IPS_CATEGORIES } from '../lib/config/network-defaults';
import { loadConfig } from '../lib/config/load';
import { categoryRules } from '../lib/firewall/ips-rules';
import { ConfigError } from '../lib/config/validate';
import { AssemblyError, readAssembly } from '../lib/tools/verify/assembly';
import type { ReportContext } from '../lib/tools/verify/summary';
import { diffPosture, renderDiffMarkdown } from '../lib/tools/verify/diff';
import { verify, writeReport } from '../lib/tools/verify/verify';
import { option, positionals } from './args';

/** The commit being verified: the CI's, or the working copy's, or unknown. */
function commit(): string | undefined {
  const fromCi = process.env.GITHUB_SHA ?? process.env.CI_COMMIT_SHA;
  if (fromCi) return fromCi;
  const git = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' });
  return git.status === 0 ? git.stdout.trim() : undefined;
}

/** The command line; returns its exit code. */
export async function main(argv: string[]): Promise<number> {
  const out = option(argv, 'out');
  const configPath = option(argv, 'config');
  const baselineDir = option(argv, 'baseline');
  const bootstrapPath = option(argv, 'bootstrap-template');
  const positional = positionals(argv, ['out', 'config', 'baseline', 'bootstrap-template']);
  const dir = positional[0] ?? 'cdk.out';
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  let context: ReportContext = { commit: commit(), tools: { [pkg.name]: pkg.version } };
  if (configPath) {
    try {
      const config = loadConfig(configPath);
      context = {
        ...context,
        configSource: configPath,
        declared: { corporateCidrs: [...config.corporateCidrs], declaredFlows: [] },
        ...(config.organizationId ? { organizationId: config.organizationId } : {}),
        breakGlassEnabled: config.identities.breakGlass.enabled,
        acceptedRisks: config.acceptedRisks,
        egressAllowlists: Object.fromEntries(
          config.segments.map((segment) => [segment.name, [...segment.egressAllowlist]]),
        ),
        ips: {
          modes: Object.fromEntries(config.segments.map((segment) => [segment.name, segment.ips])),
          categoryOfSid: new Map(
            IPS_CATEGORIES.flatMap((category) => categoryRules(category).map((rule) => [rule.sid, category])),
          ),
        },
      };
    } catch (err) {
      if (err instanceof ConfigError) {
        console.error(err.message);
        return 2;
      }
      throw err;
    }
    console.log(
      `Corporate ranges, declared flows, egress allowlists, accepted risks and IPS modes from ${configPath}.`,
    );
  } else {
    console.log(
      'No --config: trusting the corporate ranges, declared flows, egress allowlists and accepted risks the builder wrote into the templates.',
    );
  }
  if (bootstrapPath) {
    try {
      context = {
        ...context,
        bootstrap: { template: parse(readFileSync(bootstrapPath, 'utf8')) as unknown, source: bootstrapPath },
      };
    } catch (err) {
      console.error(
        `--bootstrap-template ${bootstrapPath}: cannot read it as YAML or JSON: ${(err as Error).message}`,
      );
      return 2;
    }
  }
  let report;
  let diff;
  try {
    const assembly = readAssembly(dir);
    report = await verify(assembly, context);
    if (baselineDir) {
      const baseline = readAssembly(baselineDir);
      // The baseline is judged by its own declarations (its templates), not by the new config.
      const own: ReportContext = {
        ...(context.commit ? { commit: context.commit } : {}),
        tools: context.tools ?? {},
      };
      diff = diffPosture({ report: await verify(baseline, own), assembly: baseline }, { report, assembly });
    }
  } catch (err) {
    if (err instanceof AssemblyError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const target = out ?? join(dir, 'compliance');
  writeReport(report, target);
  for (const inv of report.invariants) {
    console.log(`${inv.passed ? 'pass' : 'FAIL'}  ${inv.id}. ${inv.title}`);
    for (const v of inv.violations) console.log(`        ${v.stack}/${v.logicalId}: ${v.detail}`);
  }
  for (const u of report.unresolved) console.log(`FAIL  not resolved in ${u.stack}: ${u.reason}`);
  console.log(`\nEvidence: ${join(target, 'report.md')}, ${join(target, 'report.json')}`);
  if (diff) {
    writeFileSync(join(target, 'report-diff.json'), `${JSON.stringify(diff, null, 2)}\n`);
    writeFileSync(join(target, 'report-diff.md'), renderDiffMarkdown(diff));
    console.log(
      `\nAgainst ${baselineDir}: ${diff.opened.length} opened that no declaration covers, ${diff.covered.length} covered`,
    );
    for (const line of diff.opened) console.log(`OPENED  ${line}`);
    for (const c of diff.covered) console.log(`COVERED ${c.opening}: by ${c.declaration}`);
    for (const e of diff.expired)
      console.log(`EXPIRED ${e.acceptance} (${e.expired}) no longer covers: ${e.opening}`);
    console.log(`Diff: ${join(target, 'report-diff.md')}, ${join(target, 'report-diff.json')}`);
  }
  return report.passed && (diff?.opened.length ?? 0) === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 2;
    },
  );
}
