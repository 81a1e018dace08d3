/**
 * `npm run preflight [-- DIR] [--offline] [--region REGION]`: what the synthesized blueprint (DIR
 * defaults to cdk.out) needs from the account before `cdk deploy`: quotas against AWS's defaults,
 * account-wide singletons, prerequisites, and who receives the alerts. With AWS credentials in
 * the environment (or a shared credentials or config file) it also asks the account, read-only,
 * and marks each line from what it finds; otherwise, or with --offline, it prints the checklist.
 * Exits 1 when something known is missing, 2 when there is no assembly to read.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { accountClients, checkAccount } from '../lib/tools/preflight/account';
import { requirementLines, requirements } from '../lib/tools/preflight/requirements';
import { AssemblyError, readAssembly } from '../lib/tools/verify/assembly';

/** Credentials that need no network to find: environment or the shared files. Never the instance metadata. */
function credentialsConfigured(): boolean {
  const env = process.env;
  if (env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE) return true;
  const dir = join(homedir(), '.aws');
  return [
    env.AWS_SHARED_CREDENTIALS_FILE ?? join(dir, 'credentials'),
    env.AWS_CONFIG_FILE ?? join(dir, 'config'),
  ].some((file) => existsSync(file));
}

async function main(argv: string[]): Promise<number> {
  const offline = argv.includes('--offline');
  const regionAt = argv.indexOf('--region');
  const region = regionAt >= 0 ? argv[regionAt + 1] : undefined;
  const dir =
    argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--region') ??
    join(__dirname, '..', 'cdk.out');
  const stacks = readAssembly(dir).stacks;
  let list = requirements(stacks);
  console.log(`Preflight of ${dir}: what the account needs before cdk deploy`);
  const accountRegion =
    region ??
    stacks.find((s) => s.region)?.region ??
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION;
  if (offline || !credentialsConfigured()) {
    console.log(
      `${offline ? '--offline' : 'No AWS credentials found'}: read off the templates only; nothing was asked of an account. Check each CHECK line there.\n`,
    );
  } else if (!accountRegion) {
    console.log(
      'AWS credentials found but no region (--region, the stacks, or AWS_REGION): read off the templates only.\n',
    );
  } else {
    // Credentials come from the environment or the shared files only; never the instance metadata.
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    console.log(
      `Asking the account in ${accountRegion} (read-only calls); each line is marked from what it says.\n`,
    );
    list = await checkAccount(list, stacks, accountClients(accountRegion));
  }
  for (const line of requirementLines(list)) console.log(line);
  const missing = list.filter((r) => r.status === 'missing').length;
  console.log(
    `\n${missing} missing, ${list.filter((r) => r.status === 'check').length} to check, ${list.filter((r) => r.status === 'ok').length} ok`,
  );
  return missing > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (!(err instanceof AssemblyError)) throw err;
    console.error(err.message);
    process.exit(2);
  },
);
