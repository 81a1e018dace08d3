import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { buildSync, version as esbuildVersion } from 'esbuild';

const PROJECT_ROOT = resolve(__dirname, '..', '..');
/** Built workers, by content hash, next to the functions' bundles. */
const CACHE = join(PROJECT_ROOT, 'node_modules', '.cache', 'ai-segmentation-blueprint');
/** Whether this code runs from its TypeScript sources (ts-node, jest) rather than compiled. */
const FROM_SOURCE = __filename.endsWith('.ts');

const SETTINGS = {
  bundle: true,
  // Packages are loaded from node_modules as they are; only the worker's own folder is bundled.
  packages: 'external' as const,
  platform: 'node' as const,
  target: 'node20',
  format: 'cjs' as const,
};

const folderHashes = new Map<string, string>();

/**
 * The hash of what goes into a worker of `folder`: every file of the folder, esbuild and its
 * settings. Worked out once per process (a synth is one).
 */
function folderHash(folder: string): string {
  let digest = folderHashes.get(folder);
  if (digest === undefined) {
    const hash = createHash('sha256').update(esbuildVersion).update(JSON.stringify(SETTINGS));
    hash.update(readFileSync(join(PROJECT_ROOT, 'tsconfig.json')));
    for (const file of readdirSync(folder).sort()) hash.update(file).update(readFileSync(join(folder, file)));
    digest = hash.digest('hex');
    folderHashes.set(folder, digest);
  }
  return digest;
}

/**
 * A JavaScript file node can run for the worker `entry` (a path without its extension). Compiled,
 * that is the `.js` beside it. From sources, the `.ts` is bundled with esbuild once per content
 * hash into node_modules/.cache, so that a worker starts as plain JavaScript: no transpiler to load
 * in each process, no build step before a synth. A worker imports nothing outside its folder but
 * packages, which stay in node_modules (a test keeps it so: the hash covers only the folder).
 */
export function workerScript(entry: string): string {
  if (!FROM_SOURCE) return `${entry}.js`;
  const folder = dirname(entry);
  const script = join(CACHE, `${basename(folder)}-${folderHash(folder)}`, `${basename(entry)}.js`);
  if (!existsSync(script)) {
    // Built aside and moved into place whole, so that an interrupted build is never run.
    const partial = `${script}.partial-${process.pid}`;
    mkdirSync(dirname(script), { recursive: true });
    try {
      buildSync({
        ...SETTINGS,
        absWorkingDir: PROJECT_ROOT,
        entryPoints: [`${entry}.ts`],
        outfile: partial,
        logLevel: 'warning',
      });
      renameSync(partial, script);
    } finally {
      rmSync(partial, { force: true });
    }
  }
  return script;
}
