import { join } from 'node:path';
import { forbiddenImportChains, typeScriptFilesUnder } from '../support/imports';

const ROOT = join(__dirname, '..', '..');

describe('the offline tools (lib/tools)', () => {
  test('load neither aws-cdk-lib nor constructs: they read templates, so they can judge any app', () => {
    // Nothing of the builder (constructs, stacks, aspects) loads without aws-cdk-lib.
    const files = typeScriptFilesUnder(join(ROOT, 'lib', 'tools'));
    expect(files.length).toBeGreaterThan(0);
    expect(forbiddenImportChains(files, ['aws-cdk-lib', 'constructs'], ROOT)).toEqual([]);
  });
});
