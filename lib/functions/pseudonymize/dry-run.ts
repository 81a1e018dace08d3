import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { buildManifest, type Manifest } from './manifest';
import type { DatasetRules } from './rules';
import { LocalMac, Tokenizer } from './tokenizer';
import { pseudonymize } from './transform';

/** Shown on every dry run: its tokens are not the deployed stage's. */
export const DRY_RUN_WARNING =
  'DRY RUN, NOT FOR PRODUCTION: tokens come from a random key made for this run; they differ from the deployed stage’s and from the next run’s.';

/** The key id a dry run's manifest records instead of the KMS key's ARN. */
export const LOCAL_KEY_ID = 'local-random-key-not-for-production';

export type DryRunResult =
  | {
      readonly manifest: Manifest;
      readonly curatedPath: string;
      /** Present when any record was quarantined. */
      readonly quarantinePath?: string;
      readonly manifestPath: string;
    }
  | {
      /** Why the stage would set the whole file aside; nothing is written. */
      readonly fileRejection: string;
    };

/**
 * Applies a dataset's rules to a local file, as the deployed stage would, with a local HMAC key.
 * Writes `OUT/<name>` (curated), `OUT/<name>.rejected.jsonl` (quarantined records with reasons,
 * when any) and `OUT/<name>.manifest.json`.
 */
export async function dryRun(
  dataset: DatasetRules,
  inputPath: string,
  outDir: string,
  /** The date ages are computed on; default: the file's last modification, as the stage uses the object's. */
  asOf: Date = statSync(inputPath).mtime,
): Promise<DryRunResult> {
  mkdirSync(outDir, { recursive: true });
  const name = basename(inputPath);
  const curatedPath = join(outDir, name);
  const quarantinePath = join(outDir, `${name}.rejected.jsonl`);
  const manifestPath = join(outDir, `${name}.manifest.json`);
  if (resolve(curatedPath) === resolve(inputPath)) {
    throw new Error(`--out ${outDir} is the input's own directory; expected another directory`);
  }
  const curated = createWriteStream(curatedPath);
  const rejected = createWriteStream(quarantinePath);
  const result = await pseudonymize(
    createReadStream(inputPath),
    dataset,
    new Tokenizer(new LocalMac()),
    { curated, rejected },
    { asOf },
  );
  curated.end();
  rejected.end();
  await Promise.all([finished(curated), finished(rejected)]);
  if (result.fileRejection) {
    rmSync(curatedPath, { force: true });
    rmSync(quarantinePath, { force: true });
    return { fileRejection: result.fileRejection };
  }
  if (result.quarantined.records === 0) rmSync(quarantinePath, { force: true });
  const manifest = buildManifest(result, {
    source: { bucket: 'local', key: resolve(inputPath) },
    output: { bucket: 'local', key: resolve(curatedPath) },
    quarantine: { bucket: 'local', key: resolve(quarantinePath) },
    hmacKeyId: LOCAL_KEY_ID,
  });
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    manifest,
    curatedPath,
    manifestPath,
    ...(result.quarantined.records > 0 ? { quarantinePath } : {}),
  };
}
