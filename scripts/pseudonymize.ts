/**
 * `npm run pseudonymize -- --dataset NAME --in FILE --out DIR [--config FILE] [--as-of YYYY-MM-DD]`:
 * a dry run of the
 * pseudonymization stage for data stewards. Applies the dataset's rules from the blueprint's
 * configuration (--config, else the `config` of cdk.json's context, else the built-in defaults)
 * to a local file with a random local HMAC key (ages computed from birth dates on --as-of, else
 * on the file's modification date, as the stage uses the day the object was received), and writes the curated output, the quarantined
 * records with their reasons and the manifest to DIR. Exits 0 when every record passed, 1 when
 * any record (or the whole file) would be quarantined, 2 on a usage or configuration error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../lib/config/load';
import { ConfigError } from '../lib/config/validate';
import { DRY_RUN_WARNING, dryRun } from '../lib/functions/pseudonymize/dry-run';
import { option } from './args';

const USAGE =
  'usage: npm run pseudonymize -- --dataset NAME --in FILE --out DIR [--config FILE] [--as-of YYYY-MM-DD]';

function configPath(argv: string[]): string | undefined {
  const given = option(argv, 'config');
  if (given !== undefined) return given;
  const cdkJson = join(__dirname, '..', 'cdk.json');
  const context = (JSON.parse(readFileSync(cdkJson, 'utf8')) as { context?: { config?: string } }).context;
  return context?.config;
}

async function main(argv: string[]): Promise<number> {
  const datasetName = option(argv, 'dataset');
  const input = option(argv, 'in');
  const out = option(argv, 'out');
  if (!datasetName || !input || !out) {
    console.error(USAGE);
    return 2;
  }
  if (!existsSync(input)) {
    console.error(`--in ${input}: no such file`);
    return 2;
  }
  const asOfText = option(argv, 'as-of');
  const asOf = asOfText === undefined ? undefined : new Date(`${asOfText}T00:00:00Z`);
  if (asOf && (!/^\d{4}-\d{2}-\d{2}$/.test(asOfText!) || asOf.toISOString().slice(0, 10) !== asOfText)) {
    console.error(`--as-of ${asOfText}: expected a calendar date such as 2026-12-02`);
    return 2;
  }
  let config;
  const path = configPath(argv);
  try {
    config = loadConfig(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 2;
  }
  const { datasets } = config.pseudonymization;
  const dataset = datasets.find((d) => d.name === datasetName);
  if (!dataset) {
    console.error(
      `--dataset ${datasetName}: no such dataset in ${path ?? 'the built-in defaults'}; expected one of: ${
        datasets.map((d) => d.name).join(', ') || 'none (pass --config FILE)'
      }`,
    );
    return 2;
  }

  console.error(DRY_RUN_WARNING);
  const result = await dryRun(dataset, input, out, asOf);
  if ('fileRejection' in result) {
    console.log(`file rejected: ${result.fileRejection}; the stage would quarantine it whole`);
    return 1;
  }
  const { manifest } = result;
  console.log(
    `${manifest.source.records} records: ${manifest.output.records} curated, ${manifest.quarantine.records} quarantined (rules ${manifest.ruleVersion})`,
  );
  for (const [reason, count] of Object.entries(manifest.quarantine.reasons))
    console.log(`  ${count} × ${reason}`);
  console.log(`curated:    ${result.curatedPath}`);
  if (result.quarantinePath) console.log(`quarantine: ${result.quarantinePath}`);
  console.log(`manifest:   ${result.manifestPath}`);
  return manifest.quarantine.records > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    console.error(err.message);
    process.exitCode = 2;
  },
);
