import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const TEST_DIR = join(__dirname, '..');

/**
 * Spec files (`*.spec.ts`) run in groups, one jest test file per group, so that a group loads
 * aws-cdk-lib and the blueprint once: under jest every test file gets a fresh module registry,
 * which costs about 1.3 s of CPU per file before its first synth. A spec stays one file per
 * stack or construct; every `*.spec.ts` must be in exactly one group (test/specs.test.ts checks).
 */
export const SPEC_GROUPS: Readonly<Record<string, readonly string[]>> = {
  stacks: ['stacks'],
  constructs: ['constructs', 'identity', 'monitoring'],
};

/** Every spec file under the given folders of test/, as paths relative to test/, sorted. */
export function specFiles(folders: readonly string[]): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return walk(path);
      return entry.name.endsWith('.spec.ts') ? [relative(TEST_DIR, path)] : [];
    });
  return folders.flatMap((folder) => walk(join(TEST_DIR, folder))).sort();
}

/** Registers the specs of a group, each in a describe block named after its file. */
export function runSpecs(group: string): void {
  for (const spec of specFiles(SPEC_GROUPS[group])) {
    describe(spec.replace(/\.spec\.ts$/, ''), () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(join(TEST_DIR, spec));
    });
  }
}
