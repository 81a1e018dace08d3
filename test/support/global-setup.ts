import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_APP_DIR_ENV, EXAMPLE_APP_DIR_ENV, EXAMPLE_CONFIG } from './default-app';
import { synthBlueprint } from './synth';

/** Synthesizes the default blueprint and the example configuration with every rule pack once, for all test files. */
export default function globalSetup(): void {
  for (const [env, name, config] of [
    [DEFAULT_APP_DIR_ENV, 'default', {}],
    [EXAMPLE_APP_DIR_ENV, 'example', JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8')) as unknown],
  ] as const) {
    const outdir = mkdtempSync(join(tmpdir(), `aiseg-${name}-`));
    synthBlueprint({ gate: true, outdir, config });
    process.env[env] = outdir;
  }
}
