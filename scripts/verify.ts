/**
 * `npm run verify -- [DIR] [--config FILE] [--out DIR]`: proves the blueprint's invariants from
 * the templates of a cloud assembly (DIR, default cdk.out) with no AWS access, and writes the
 * evidence to DIR/compliance/ (or --out). With --config, the corporate ranges and declared flows
 * come from that config, not from the metadata the builder wrote into the templates. Exits 0 when
 * every invariant holds, 1 when one breaks, 2 when the input cannot be read.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IPS_CATEGORIES } from '../lib/config/network-defaults';
import { loadConfig } from '../lib/config/load';
import { categoryRules } from '../lib/firewall/ips-rules';
import { ConfigError } from '../lib/config/validate';
import { AssemblyError, readAssembly } from '../lib/tools/verify/assembly';
import type { ReportContext } from '../lib/tools/verify/summary';
import { verify, writeReport } from '../lib/tools/verify/verify';

function option(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
}

/** The commit being verified: the CI's, or the working copy's, or unknown. */
function commit(): string | undefined {
  const fromCi = process.env.GITHUB_SHA ?? process.env.CI_COMMIT_SHA;
  if (fromCi) return fromCi;
  const git = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' });
  return git.status === 0 ? git.stdout.trim() : undefined;
}

function main(argv: string[]): number {
  const out = option(argv, '--out');
  const configPath = option(argv, '--config');
  const positional = argv.filter(
    (a, i) => !a.startsWith('--') && argv[i - 1] !== '--out' && argv[i - 1] !== '--config',
  );
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
    console.log(`Corporate ranges, declared flows and IPS modes from ${configPath}.`);
  } else {
    console.log(
      'No --config: trusting the corporate ranges and declared flows the builder wrote into the templates.',
    );
  }
  let report;
  try {
    report = verify(readAssembly(dir), context);
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
  return report.passed ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
