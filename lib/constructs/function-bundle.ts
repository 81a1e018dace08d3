import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { buildSync } from 'esbuild';

/** The repository root: the functions' sources and the lock file that pins what they bundle. */
const PROJECT_ROOT = resolve(__dirname, '..', '..');
/** The functions' runtime code, one folder each. */
const FUNCTIONS = join(PROJECT_ROOT, 'lib', 'functions');
/** Built bundles, by content hash: a synth into a fresh output directory need not rebuild. */
const CACHE = join(PROJECT_ROOT, 'node_modules', '.cache', 'ai-segmentation-blueprint');

export interface FunctionBundle {
  /** A directory holding the function's `index.js`. */
  readonly directory: string;
  /**
   * The hash of the bundle itself: a change to the lock file that does not reach the bundle
   * (a development tool's upgrade) leaves it, and the deployed function, unchanged.
   */
  readonly hash: string;
}

/**
 * Bundles a function of the blueprint with esbuild: `lib/functions/<source>/handler.ts` and everything it
 * imports, the AWS SDK clients included (at the versions the lock file pins, not the runtime's),
 * minified, for Node.js 24, with `define` compiled in. A bundle is built once per hash of its inputs
 * (sources, the whole lock file, tsconfig.json, definitions, build options) and kept in
 * node_modules/.cache, so that synths into fresh output directories (CI, tests) do not rebuild it.
 */
export function functionBundle(source: string, define: Record<string, string> = {}): FunctionBundle {
  const sourceDir = join(FUNCTIONS, source);
  const settings = {
    entryPoints: [join(sourceDir, 'handler.ts')],
    bundle: true,
    platform: 'node' as const,
    target: 'node24',
    format: 'cjs' as const,
    minify: true,
    define,
  };
  const hash = createHash('sha256');
  // Every file under the function's directory (its data files too), by path.
  const files = readdirSync(sourceDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(sourceDir, join(entry.parentPath, entry.name)))
    .sort();
  for (const file of files) hash.update(file).update(readFileSync(join(sourceDir, file)));
  // What esbuild reads besides the sources: the lock file (node_modules as `npm ci` makes them) and tsconfig.json.
  hash.update(readFileSync(join(PROJECT_ROOT, 'package-lock.json')));
  hash.update(readFileSync(join(PROJECT_ROOT, 'tsconfig.json')));
  hash.update(JSON.stringify({ ...settings, entryPoints: [`${source}/handler.ts`] }));
  const digest = hash.digest('hex');
  const directory = join(CACHE, `${source}-${digest}`);
  if (!existsSync(join(directory, 'index.js'))) {
    // Built aside and moved into place whole, so an interrupted build is never taken for a bundle.
    const partial = `${directory}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    buildSync({ ...settings, outfile: join(partial, 'index.js'), logLevel: 'warning' });
    try {
      renameSync(partial, directory);
    } catch (err) {
      // Another synth built the same bundle meanwhile: theirs is as good.
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(join(directory, 'index.js'))) throw err;
    }
  }
  return {
    directory,
    hash: createHash('sha256')
      .update(readFileSync(join(directory, 'index.js')))
      .digest('hex'),
  };
}
