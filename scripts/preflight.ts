/**
 * `npm run preflight [-- DIR]`: what the synthesized blueprint (DIR defaults to cdk.out) needs from
 * the account before `cdk deploy`: quotas against AWS's defaults, account-wide singletons,
 * prerequisites, and who receives the alerts. Reads the templates only: it asks no account.
 * Exits 1 when something known is missing, 2 when there is no assembly to read.
 */
import { join } from 'node:path';
import { requirementLines, requirements } from '../lib/preflight/requirements';
import { AssemblyError, readAssembly } from '../lib/verify/assembly';

const dir = process.argv[2] ?? join(__dirname, '..', 'cdk.out');
try {
  const list = requirements(readAssembly(dir).stacks);
  console.log(`Preflight of ${dir}: what the account needs before cdk deploy`);
  console.log('Read off the templates only; nothing was asked of an account. Check each CHECK line there.\n');
  for (const line of requirementLines(list)) console.log(line);
  const missing = list.filter((r) => r.status === 'missing').length;
  console.log(
    `\n${missing} missing, ${list.filter((r) => r.status === 'check').length} to check, ${list.filter((r) => r.status === 'ok').length} ok`,
  );
  process.exit(missing > 0 ? 1 : 0);
} catch (err) {
  if (!(err instanceof AssemblyError)) throw err;
  console.error(err.message);
  process.exit(2);
}
