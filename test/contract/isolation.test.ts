import { join } from 'node:path';
import { forbiddenImportChains, typeScriptFilesUnder } from '../support/imports';

const ROOT = join(__dirname, '..', '..');

describe('the contract between the builder and the verifier (lib/contract)', () => {
  test('loads neither aws-cdk-lib nor constructs, so that the verifier and functions may import it', () => {
    const files = typeScriptFilesUnder(join(ROOT, 'lib', 'contract'));
    expect(files.length).toBeGreaterThan(0);
    expect(forbiddenImportChains(files, ['aws-cdk-lib', 'constructs'], ROOT)).toEqual([]);
  });
});
