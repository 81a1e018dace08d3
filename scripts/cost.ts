/**
 * `npm run cost -- [DIR]`: the fixed monthly cost of a synthesized blueprint (DIR defaults to
 * cdk.out), read off its templates, as a Markdown table. Usage-based charges come on top.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  assemblyResources,
  costTable,
  fixedMonthlyCost,
  PRICE_REGION,
  usageTable,
} from '../lib/tools/cost/fixed-cost';

const dir = process.argv[2] ?? join(__dirname, '..', 'cdk.out');
if (!existsSync(join(dir, 'manifest.json'))) {
  console.error(`${dir}: no cloud assembly here (manifest.json is missing); run npx cdk synth first`);
  process.exit(2);
}
console.log(
  `Fixed monthly cost of ${dir}, at ${PRICE_REGION} on-demand list prices (USD); usage-based charges come on top.\n`,
);
const resources = assemblyResources(dir);
console.log(costTable(fixedMonthlyCost(resources)));
console.log(`\nPriced by use alone (not in the total):\n\n${usageTable(resources)}`);
