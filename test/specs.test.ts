import { readdirSync } from 'node:fs';
import { SPEC_GROUPS, specFiles } from './support/specs';

test('every spec file runs in exactly one group, and every group has a test file', () => {
  const grouped = Object.values(SPEC_GROUPS).flatMap((folders) => specFiles(folders));
  // Every spec anywhere under test/.
  expect(grouped.sort()).toEqual(specFiles(['.']));
  expect(new Set(grouped).size).toBe(grouped.length);
  expect(grouped.length).toBeGreaterThan(10);
  for (const group of Object.keys(SPEC_GROUPS)) {
    expect(readdirSync(__dirname)).toContain(`${group}.test.ts`);
  }
});
