import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SPEC_GROUPS, specFiles } from './support/specs';

function allSpecs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return allSpecs(path);
    return entry.name.endsWith('.spec.ts') ? [relative(__dirname, path)] : [];
  });
}

test('every spec file runs in exactly one group, and every group has a test file', () => {
  const grouped = Object.values(SPEC_GROUPS).flatMap((folders) => specFiles(folders));
  expect(grouped.sort()).toEqual(allSpecs(__dirname).sort());
  expect(new Set(grouped).size).toBe(grouped.length);
  expect(grouped.length).toBeGreaterThan(10);
  for (const group of Object.keys(SPEC_GROUPS)) {
    expect(readdirSync(__dirname)).toContain(`${group}.test.ts`);
  }
});
