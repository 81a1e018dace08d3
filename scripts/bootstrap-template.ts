/**
 * `npm run bootstrap-template -- [DIR] [--config FILE] [--deployer ROLE_ARN]... [--out FILE] [--base FILE]`:
 * writes the CDK bootstrap template scoped for the blueprint synthesized in DIR (default cdk.out):
 * the CLI's own template (or --base), whose deploy, publishing and look-up roles trust only the
 * platform admin role of the config's prefix (and each --deployer), and whose CloudFormation
 * execution role holds a policy made from the templates' services instead of AdministratorAccess.
 * Bootstrap with it: `npx cdk bootstrap --template FILE`. Exits 2 when an input cannot be read.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../lib/config/load';
import { ConfigError } from '../lib/config/validate';
import { deployServices, scopedBootstrapTemplate, type CfnTemplate } from '../lib/tools/bootstrap/scoped';
import { AssemblyError, readAssembly } from '../lib/tools/verify/assembly';
import { option, positionals } from './args';

/** The bootstrap template of the pinned CDK CLI (what `cdk bootstrap --show-template` prints). */
export const CLI_BOOTSTRAP_TEMPLATE = join(
  __dirname,
  '..',
  'node_modules',
  'aws-cdk',
  'lib',
  'api',
  'bootstrap',
  'bootstrap-template.yaml',
);

export function main(argv: string[]): number {
  const dir = positionals(argv, ['config', 'out', 'base', 'deployer'])[0] ?? 'cdk.out';
  const out = option(argv, 'out') ?? 'bootstrap-template.yaml';
  const deployers = argv.flatMap((a, i) => (a === '--deployer' && argv[i + 1] ? [argv[i + 1]] : []));
  for (const arn of deployers) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(arn)) {
      console.error(`--deployer ${arn}: expected a role ARN (arn:aws:iam::<12-digit account>:role/<name>)`);
      return 2;
    }
  }
  try {
    const config = loadConfig(option(argv, 'config'));
    const base = parse(readFileSync(option(argv, 'base') ?? CLI_BOOTSTRAP_TEMPLATE, 'utf8')) as CfnTemplate;
    const services = deployServices(
      readAssembly(dir).stacks.map((s) => s.template as unknown as CfnTemplate),
    );
    const scoped = scopedBootstrapTemplate(base, { namePrefix: config.namePrefix, services, deployers });
    // No anchors or aliases: CloudFormation refuses a template that has them.
    writeFileSync(out, stringify(scoped, { aliasDuplicateObjects: false }));
    console.log(
      `Wrote ${out}: the CDK bootstrap scoped for ${config.namePrefix} (deployers: ${config.namePrefix}-platform-admin${deployers.map((d) => `, ${d}`).join('')}; CloudFormation may use ${services.join(', ')}, and IAM and S3 on ${config.namePrefix}-* only).`,
    );
    console.log(`Bootstrap with it: npx cdk bootstrap --template ${out} aws://<account>/<region>`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof AssemblyError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
