/**
 * `npm run verify -- [DIR] [--out DIR]`: proves the blueprint's invariants from the templates of
 * a cloud assembly (DIR, default cdk.out) with no AWS access, and writes the evidence to
 * DIR/compliance/ (or --out). Exits 0 when every invariant holds, 1 when one breaks, 2 when the
 * input cannot be read.
 */
import { join } from 'node:path';
import { AssemblyError, readAssembly } from '../lib/tools/verify/assembly';
import { verify, writeReport } from '../lib/tools/verify/verify';

function main(argv: string[]): number {
  const outAt = argv.indexOf('--out');
  const out = outAt >= 0 ? argv[outAt + 1] : undefined;
  const positional = argv.filter((a, i) => a !== '--out' && (outAt < 0 || i !== outAt + 1));
  const dir = positional[0] ?? 'cdk.out';
  let report;
  try {
    report = verify(readAssembly(dir));
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
