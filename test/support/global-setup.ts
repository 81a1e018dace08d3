import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_APP_DIR_ENV } from './default-app';
import { synthBlueprint } from './synth';

/** Synthesizes the default blueprint with every rule pack once, for all test files. */
export default function globalSetup(): void {
  const outdir = mkdtempSync(join(tmpdir(), 'aiseg-default-'));
  synthBlueprint({ gate: true, outdir });
  process.env[DEFAULT_APP_DIR_ENV] = outdir;
}
