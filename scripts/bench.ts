/**
 * `npm run bench`: times the synth of the default blueprint, with every rule pack, against the
 * synth of an empty CDK app on the same toolchain, side by side and alternating, and prints
 * medians and their ratio. Two ways: the app process alone, and `cdk synth` end to end. Then
 * times the verifier over the synthesized default app, and the pseudonymization transform over a
 * generated 100,000-row CSV.
 *
 *   npm run bench -- [--rounds N] [--tests] [--transform]
 *
 * With --transform it times the pseudonymization transform alone.
 *
 * With --tests it also times `npm test` once (type-check and every test) against the same
 * empty-app synth: the test budget is at most TEST_TARGET_RATIO times that.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import type { DatasetRules } from '../lib/functions/pseudonymize/rules';
import { LocalMac, Tokenizer } from '../lib/functions/pseudonymize/tokenizer';
import { pseudonymize } from '../lib/functions/pseudonymize/transform';
import { readAssembly } from '../lib/tools/verify/assembly';
import { forgetDecisions } from '../lib/tools/verify/engine';
import { verify } from '../lib/tools/verify/verify';

const ROOT = join(__dirname, '..');
const TARGET_RATIO = 2.5;
const TEST_TARGET_RATIO = 25;
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

/** Rows of the generated CSV, and the distinct patients among them (each with visits). */
const TRANSFORM_ROWS = 100_000;
const TRANSFORM_PATIENTS = 10_000;
/** A KMS GenerateMac round trip through an interface endpoint, simulated. */
const SIMULATED_KMS_MS = 5;

const BENCH_DATASET: DatasetRules = {
  name: 'bench',
  prefix: 'bench/',
  format: 'csv',
  rules: [
    { field: 'patient_id', transform: 'token', domain: 'patient' },
    { field: 'mrn', transform: 'token', domain: 'mrn' },
    { field: 'email', transform: 'token', normalize: 'email' },
    { field: 'birth_date', transform: 'date-to-year' },
    { field: 'age', transform: 'age' },
    { field: 'zip', transform: 'zip3' },
  ],
  safeFields: ['sex', 'diagnosis_code'],
  over89: { birthDate: 'birth_date' },
};

function* benchCsv(): Generator<string> {
  yield 'patient_id,mrn,name,email,birth_date,age,zip,sex,diagnosis_code\n';
  const lines: string[] = [];
  for (let i = 0; i < TRANSFORM_ROWS; i++) {
    const p = (i * 7919) % TRANSFORM_PATIENTS;
    const age = 18 + (p % 80);
    lines.push(
      `P-${p},MRN-${100_000 + p},Patient ${p},patient.${p}@example.org,${2026 - age}-0${1 + (p % 9)}-1${p % 10},${age},${String(10_000 + ((p * 37) % 89_999)).padStart(5, '0')},${p % 2 ? 'F' : 'M'},E11.${p % 10}\n`,
    );
    if (lines.length === 1000) yield lines.splice(0).join('');
  }
  if (lines.length > 0) yield lines.join('');
}

/** Records per second of the transform, and MAC calls per record, with a given MAC latency. */
async function transformRate(latencyMs: number): Promise<{ perSecond: number; callsPerRecord: number }> {
  const mac = new LocalMac(undefined, latencyMs);
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const start = process.hrtime.bigint();
  const result = await pseudonymize(Readable.from(benchCsv()), BENCH_DATASET, new Tokenizer(mac), {
    curated: sink,
    rejected: new PassThrough().resume(),
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.output.records !== TRANSFORM_ROWS) {
    throw new Error(`the bench CSV lost records: ${result.output.records} of ${TRANSFORM_ROWS} curated`);
  }
  return { perSecond: TRANSFORM_ROWS / seconds, callsPerRecord: mac.calls / TRANSFORM_ROWS };
}

/** The transform's rate with each MAC: median of `rounds` runs, in process. */
async function reportTransform(rounds: number): Promise<void> {
  console.log(
    `\nPseudonymization transform, ${TRANSFORM_ROWS.toLocaleString('en')}-row CSV, ${TRANSFORM_PATIENTS.toLocaleString('en')} patients, 3 identifiers each, median of ${rounds}:`,
  );
  for (const latency of [0, SIMULATED_KMS_MS]) {
    const runs = [];
    for (let round = 0; round < rounds; round++) runs.push(await transformRate(latency));
    const perSecond = median(runs.map((r) => r.perSecond));
    console.log(
      `  MAC ${latency === 0 ? 'in process (CPU cost only)' : `with ${latency} ms per KMS call (simulated)`}: ` +
        `${Math.round(perSecond).toLocaleString('en')} records/s, ${runs[0].callsPerRecord.toFixed(2)} MAC calls per record`,
    );
  }
}

async function main(): Promise<void> {
  const rounds = parseRounds(process.argv.slice(2));
  if (process.argv.includes('--transform')) return reportTransform(rounds);
  const scratch = mkdtempSync(join(tmpdir(), 'aiseg-bench-'));
  const modes = { 'app process': appProcess, 'cdk synth (CLI)': cliSynth };
  const times: Record<string, Record<AppName, number[]>> = {};
  const verifyTimes: number[] = [];
  let verifyFirst = 0;
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
    // The verifier over the default app's assembly, in process (reading the templates included):
    // the first run loads the policy engine; each run asks it afresh (no decision kept between runs).
    const assemblyDir = join(scratch, `app-process-blueprint-0`);
    for (let round = 0; round <= rounds; round++) {
      forgetDecisions();
      const start = process.hrtime.bigint();
      await verify(readAssembly(assemblyDir));
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (round === 0) verifyFirst = seconds;
      else verifyTimes.push(seconds);
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
    `\nVerifier (npm run verify) over the default app: ${median(verifyTimes).toFixed(3)} s, median of ${rounds}; first run, loading the policy engine: ${verifyFirst.toFixed(3)} s (limit 2 s)`,
  );

  await reportTransform(rounds);

  const met = worst <= TARGET_RATIO;
  console.log(
    `\nTarget: at most ${TARGET_RATIO}x in every mode: ${met ? 'met' : 'NOT met'} (worst ${worst.toFixed(2)}x)`,
  );
  if (!met) process.exitCode = 1;

  if (process.argv.includes('--tests')) {
    const empty = median(times['app process'].empty);
    const tests = timed('npm', ['test', '--silent'], {});
    const ratio = tests / empty;
    const testsMet = ratio <= TEST_TARGET_RATIO;
    console.log(
      `\nnpm test: ${tests.toFixed(1)} s, ${ratio.toFixed(1)}x the empty app's synth (${empty.toFixed(2)} s); ` +
        `target at most ${TEST_TARGET_RATIO}x: ${testsMet ? 'met' : 'NOT met'}`,
    );
    if (!testsMet) process.exitCode = 1;
  }
}

void main();
