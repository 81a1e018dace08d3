import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forbiddenImportChains, typeScriptFilesUnder } from '../support/imports';

const ROOT = join(__dirname, '..', '..');
const FUNCTIONS = join(ROOT, 'lib', 'functions');
const CDK = ['aws-cdk-lib', 'constructs'];

/** Writes files (path relative to a fresh directory -> content); returns the directory. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'aiseg-imports-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('runtime code of the functions (lib/functions)', () => {
  test('holds the code of each function', () => {
    const files = typeScriptFilesUnder(FUNCTIONS).map((f) => f.slice(FUNCTIONS.length + 1));
    expect(files).toEqual(
      expect.arrayContaining([
        'pseudonymize/handler.ts',
        'pseudonymize/dry-run.ts',
        'inference-api/handler.ts',
      ]),
    );
  });

  test('loads neither aws-cdk-lib nor constructs, directly or through anything it imports', () => {
    expect(forbiddenImportChains(typeScriptFilesUnder(FUNCTIONS), CDK, ROOT)).toEqual([]);
  });

  test('the check finds aws-cdk-lib behind a relative import, and lets type-only imports be', () => {
    const dir = tree({
      'functions/fn/handler.ts': "import { label } from './label';\nexport const handler = () => label;\n",
      'functions/fn/label.ts': "import { TAG } from '../../shared';\nexport const label = TAG;\n",
      'shared.ts':
        "import { Tags } from 'aws-cdk-lib';\nexport const TAG = 'x';\nexport const tags = Tags;\n",
      'functions/typed/handler.ts': "import type { TAG } from '../../shared';\nexport type T = typeof TAG;\n",
      'functions/direct/handler.ts':
        "import type { IConstruct } from 'constructs';\nexport type C = IConstruct;\n",
      'functions/lost/handler.ts': "export * from './missing';\n",
    });
    const chains = forbiddenImportChains(typeScriptFilesUnder(join(dir, 'functions')), CDK, dir);
    expect(chains.sort()).toEqual([
      'functions/direct/handler.ts -> constructs',
      'functions/fn/handler.ts -> functions/fn/label.ts -> shared.ts -> aws-cdk-lib',
      'functions/lost/handler.ts -> ./missing (not found)',
    ]);
  });

  test('the check finds a package that depends on aws-cdk-lib', () => {
    const dir = tree({
      'functions/fn/handler.ts': "import { NagPack } from 'cdk-nag';\nexport const pack = NagPack;\n",
    });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    expect(forbiddenImportChains([join(dir, 'functions', 'fn', 'handler.ts')], CDK, dir)).toEqual([
      'functions/fn/handler.ts -> cdk-nag (which depends on aws-cdk-lib or constructs)',
    ]);
  });
});
