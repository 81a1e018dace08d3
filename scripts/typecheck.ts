/**
 * Type-checks the project with TypeScript's native compiler (typescript 7, installed as
 * `typescript-native`; typescript 5 stays for ESLint and ts-node), then tries the "add a segment
 * kind" recipe of CONTRIBUTING.md on two copies of the app (bin and lib): with a new kind in
 * SEGMENT_KINDS the compiler must point at its profile, the one place to fill, and with the
 * profile written the app must compile.
 *
 *   npm run typecheck
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..');
const TSC = join(ROOT, 'node_modules', 'typescript-native', 'bin', 'tsc');
/** Inside node_modules, so that the copy resolves packages as the app does. */
const WORK = join(ROOT, 'node_modules', '.cache', 'ai-segmentation-blueprint', `kind-recipe-${process.pid}`);
const KINDS = join('lib', 'segment-kinds.ts');
const DECLARATION =
  "export const SEGMENT_KINDS = ['development', 'training', 'inference', 'pipeline'] as const;";
const PROFILES = 'export const SEGMENT_KIND_PROFILES: Readonly<Record<SegmentKind, SegmentKindProfile>> = {';
/** The profile the recipe writes for the new kind. */
const NEW_PROFILE = `
  evaluation: {
    purpose: 'Evaluates models on held-out curated data, offline',
    internet: 'never',
    defaultEgressAllowlist: [],
    defaultInterfaceEndpoints: ['sagemaker-api', 'sagemaker-runtime', 'logs', 'kms'],
    zonePath: ['curated', 'models'],
    sagemaker: {
      reads: ['curated', 'models'],
      writes: [],
      volumeClassification: 'pii',
      hostsEndpoints: false,
      studio: false,
      packages: false,
      logGroups: ['/aws/sagemaker/ProcessingJobs'],
    },
  },`;

interface Result {
  readonly code: number;
  readonly output: string;
  readonly seconds: number;
}

function tsc(project: string): Promise<Result> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSC, '--noEmit', '--pretty', 'false', '-p', project],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          output: `${stdout}${stderr}`.trim(),
          seconds: (Date.now() - started) / 1000,
        }),
    );
  });
}

/** A copy of the app with lib/segment-kinds.ts replaced by `kinds`, and its tsconfig. */
function appCopy(name: string, kinds: string): string {
  const dir = join(WORK, name);
  for (const folder of ['bin', 'lib']) cpSync(join(ROOT, folder), join(dir, folder), { recursive: true });
  writeFileSync(join(dir, KINDS), kinds);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      include: ['bin/**/*.ts', 'lib/**/*.ts'],
      exclude: [],
    }),
  );
  return join(dir, 'tsconfig.json');
}

/** `file(line,col): error ...` lines of tsc's output, with the copy's directory taken off. */
const errors = (result: Result, name: string) =>
  result.output
    .split('\n')
    .filter((line) => / error TS\d+:/.test(line))
    .map((line) => line.replace(`${relative(ROOT, join(WORK, name))}/`, ''));

async function main(): Promise<number> {
  const original = readFileSync(join(ROOT, KINDS), 'utf8');
  if (!original.includes(DECLARATION) || !original.includes(PROFILES)) {
    console.error(
      `${KINDS} no longer declares SEGMENT_KINDS or SEGMENT_KIND_PROFILES as the recipe says: update CONTRIBUTING.md and scripts/typecheck.ts`,
    );
    return 1;
  }
  const withKind = original.replace(
    DECLARATION,
    DECLARATION.replace("'pipeline']", "'pipeline', 'evaluation']"),
  );
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  try {
    const project = await tsc(join(ROOT, 'tsconfig.json'));
    const [added, filled] = await Promise.all([
      tsc(appCopy('added', withKind)),
      tsc(appCopy('filled', withKind.replace(PROFILES, `${PROFILES}${NEW_PROFILE}`))),
    ]);
    if (project.code !== 0) {
      console.error(project.output);
      return project.code;
    }
    const pointed = errors(added, 'added');
    if (
      pointed.length !== 1 ||
      !/^lib\/segment-kinds\.ts\(\d+,\d+\): error TS2741: Property 'evaluation' is missing/.test(pointed[0])
    ) {
      console.error(
        `Adding a segment kind should make the compiler point at its profile alone; it said:\n${added.output}`,
      );
      return 1;
    }
    if (filled.code !== 0) {
      console.error(
        `With the new kind's profile written, the app should compile; it said:\n${filled.output}`,
      );
      return 1;
    }
    console.log(
      `type-check: no errors (${project.seconds.toFixed(1)} s); adding a segment kind points at its profile only, ${pointed[0].split(':')[0]} (${Math.max(added.seconds, filled.seconds).toFixed(1)} s)`,
    );
    return 0;
  } finally {
    rmSync(WORK, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
