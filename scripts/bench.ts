/**
 * `npm run bench`: times the synth of the default blueprint, with every rule pack, against the
 * synth of an empty CDK app on the same toolchain, side by side and alternating, and prints
 * medians and their ratio. Two ways: the app process alone, and `cdk synth` end to end. Then
 * times the verifier over the synthesized default app.
 *
 *   npm run bench -- [--rounds N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { readAssembly } from '../lib/verify/assembly';
import { verify } from '../lib/verify/verify';

const ROOT = join(__dirname, '..');
const TARGET_RATIO = 3;
const RUNNER = ['-r', 'ts-node/register/transpile-only'];
const APPS = {
  blueprint: join(ROOT, 'bin', 'app.ts'),
  empty: join(ROOT, 'scripts', 'empty-app.ts'),
} as const;
type AppName = keyof typeof APPS;

function parseRounds(argv: string[]): number {
  const i = argv.indexOf('--rounds');
  if (i === -1) return 5;
  const rounds = Number(argv[i + 1]);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`--rounds: got ${argv[i + 1]}; expected a whole number of at least 1`);
  }
  return rounds;
}

/** Runs a command once and returns its wall time in seconds; fails loudly if it fails. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return seconds;
}

const context = JSON.stringify(
  (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: object }).context,
);

/** The app process alone, with the context cdk.json gives it, as the CLI would start it. */
function appProcess(app: AppName, outdir: string): number {
  return timed(process.execPath, [...RUNNER, APPS[app]], { CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: context });
}

/** `cdk synth` end to end, as a platform engineer runs it. */
function cliSynth(app: AppName, outdir: string): number {
  const cdk = join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  // The CLI splits --app on spaces and does not honour quotes: paths relative to ROOT.
  const appCommand = ['node', ...RUNNER, relative(ROOT, APPS[app])].join(' ');
  return timed(
    process.execPath,
    [cdk, 'synth', '--app', appCommand, '--output', outdir, '--no-notices', '--quiet'],
    {
      CDK_DISABLE_VERSION_CHECK: '1',
    },
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function main(): void {
  const rounds = parseRounds(process.argv.slice(2));
  const scratch = mkdtempSync(join(tmpdir(), 'aiseg-bench-'));
  const modes = { 'app process': appProcess, 'cdk synth (CLI)': cliSynth };
  const times: Record<string, Record<AppName, number[]>> = {};
  const verifyTimes: number[] = [];
  try {
    for (const [mode, run] of Object.entries(modes)) {
      times[mode] = { blueprint: [], empty: [] };
      run('empty', join(scratch, 'warm-up'));
      for (let round = 0; round < rounds; round++) {
        // Alternate, so drift in the machine's load affects both alike.
        for (const app of ['blueprint', 'empty'] as const) {
          times[mode][app].push(run(app, join(scratch, `${mode.replace(/\W+/g, '-')}-${app}-${round}`)));
        }
      }
    }
    // The verifier over the default app's assembly, in process (reading the templates included).
    const assemblyDir = join(scratch, `app-process-blueprint-0`);
    verify(readAssembly(assemblyDir));
    for (let round = 0; round < rounds; round++) {
      const start = process.hrtime.bigint();
      verify(readAssembly(assemblyDir));
      verifyTimes.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  console.log(`Synth time, median of ${rounds} rounds (seconds)\n`);
  console.log('| mode | default blueprint, all packs | empty CDK app | ratio |');
  console.log('|---|---|---|---|');
  let worst = 0;
  for (const [mode, byApp] of Object.entries(times)) {
    const blueprint = median(byApp.blueprint);
    const empty = median(byApp.empty);
    const ratio = blueprint / empty;
    worst = Math.max(worst, ratio);
    console.log(`| ${mode} | ${blueprint.toFixed(2)} | ${empty.toFixed(2)} | ${ratio.toFixed(2)}x |`);
  }
  console.log(
    `\nVerifier (npm run verify) over the default app: ${median(verifyTimes).toFixed(3)} s, median of ${rounds}`,
  );
  const met = worst <= TARGET_RATIO;
  console.log(
    `\nTarget: at most ${TARGET_RATIO}x in every mode: ${met ? 'met' : 'NOT met'} (worst ${worst.toFixed(2)}x)`,
  );
  if (!met) process.exitCode = 1;
}

main();
