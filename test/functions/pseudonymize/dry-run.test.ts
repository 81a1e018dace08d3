import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../lib/config/load';
import { dryRun, LOCAL_KEY_ID } from '../../../lib/functions/pseudonymize/dry-run';
import type { Manifest } from '../../../lib/functions/pseudonymize/manifest';

const ROOT = join(__dirname, '..', '..', '..');
const EXAMPLE = join(ROOT, 'config', 'example.json');
const SAMPLES = join(ROOT, 'samples', 'pseudonymization');
const patients = loadConfig(EXAMPLE).pseudonymization.datasets.find((d) => d.name === 'patients')!;
const fresh = () => mkdtempSync(join(tmpdir(), 'aiseg-dry-run-'));

/** The command as a data steward runs it (ts-node, transpile only, as npm run does). */
function cli(...args: string[]) {
  return spawnSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(ROOT, 'scripts', 'pseudonymize.ts'), ...args],
    { cwd: ROOT, encoding: 'utf8' },
  );
}

describe('the dry run', () => {
  test('writes the curated file, the quarantined records with reasons and the manifest', async () => {
    const out = fresh();
    const result = await dryRun(patients, join(SAMPLES, 'patients.csv'), out);
    if ('fileRejection' in result) throw new Error(result.fileRejection);
    expect(result.curatedPath).toBe(join(out, 'patients.csv'));
    expect(readFileSync(result.curatedPath, 'utf8')).not.toContain('P-000101');
    const rejected = readFileSync(result.quarantinePath!, 'utf8').trim().split('\n');
    expect(rejected).toHaveLength(4);
    const manifest = JSON.parse(readFileSync(result.manifestPath, 'utf8')) as Manifest;
    expect(manifest).toMatchObject({
      dataset: 'patients',
      hmac: { keyId: LOCAL_KEY_ID },
      source: { records: 7 },
      output: { records: 3 },
      quarantine: { records: 4 },
    });
  });

  test('its tokens come from a fresh random key each run (never the deployed ones)', async () => {
    const first = await dryRun(patients, join(SAMPLES, 'patients.csv'), fresh());
    const second = await dryRun(patients, join(SAMPLES, 'patients.csv'), fresh());
    if ('fileRejection' in first || 'fileRejection' in second) throw new Error('rejected');
    const firstToken = readFileSync(first.curatedPath, 'utf8').split('\n')[1].split(',')[0];
    const secondToken = readFileSync(second.curatedPath, 'utf8').split('\n')[1].split(',')[0];
    expect(firstToken).not.toBe(secondToken);
  });

  test('a file the stage would set aside whole leaves nothing behind', async () => {
    const dir = fresh();
    const input = join(dir, 'bad.csv');
    writeFileSync(input, 'patient_id,name\nP-1,Alice\n');
    const out = join(dir, 'out');
    const result = await dryRun(patients, input, out);
    expect(result).toEqual({ fileRejection: expect.stringMatching(/lacks the required column/) });
    expect(existsSync(join(out, 'bad.csv'))).toBe(false);
    expect(existsSync(join(out, 'bad.csv.rejected.jsonl'))).toBe(false);
  });
});

describe('npm run pseudonymize', () => {
  test('exits 1 when any record would be quarantined, and says it is not for production', () => {
    const out = fresh();
    const run = cli(
      '--config',
      EXAMPLE,
      '--dataset',
      'patients',
      '--in',
      join(SAMPLES, 'patients.csv'),
      '--out',
      out,
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('NOT FOR PRODUCTION');
    expect(run.stdout).toContain('7 records: 3 curated, 4 quarantined');
    expect(run.stdout).toContain('1 × birth_date: not a calendar date');
    expect(existsSync(join(out, 'patients.csv.manifest.json'))).toBe(true);
  });

  test('exits 0 when every record passes, and writes no quarantine file', () => {
    const dir = fresh();
    const input = join(dir, 'clean.csv');
    writeFileSync(input, 'patient_id,mrn,birth_date,age,zip,sex\nP-1,M-1,1970-05-06,56,02139,F\n');
    const run = cli('--config', EXAMPLE, '--dataset', 'patients', '--in', input, '--out', join(dir, 'out'));
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('1 records: 1 curated, 0 quarantined');
    expect(existsSync(join(dir, 'out', 'clean.csv.rejected.jsonl'))).toBe(false);
  });

  test('computes ages on --as-of (else on the file’s date), which the manifest records; refuses a date that is not one', () => {
    const dir = fresh();
    const input = join(dir, 'old.csv');
    // 89 on 2026-12-01, 90 on 2026-12-02: the birth year goes with the day.
    writeFileSync(input, 'patient_id,mrn,birth_date,age,zip,sex\nP-1,M-1,1936-12-02,89,02139,F\n');
    const on = (asOf: string) => {
      const out = join(dir, asOf);
      expect(
        cli('--config', EXAMPLE, '--dataset', 'patients', '--in', input, '--out', out, '--as-of', asOf)
          .status,
      ).toBe(0);
      const manifest = JSON.parse(readFileSync(join(out, 'old.csv.manifest.json'), 'utf8')) as {
        asOf: string;
      };
      expect(manifest.asOf).toBe(asOf);
      return readFileSync(join(out, 'old.csv'), 'utf8').trim().split('\n')[1].split(',')[2];
    };
    expect(on('2026-12-01')).toBe('1936');
    expect(on('2026-12-02')).toBe('90+');
    const bad = cli(
      '--config',
      EXAMPLE,
      '--dataset',
      'patients',
      '--in',
      input,
      '--out',
      dir,
      '--as-of',
      '2026-02-30',
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--as-of 2026-02-30: expected a calendar date such as 2026-12-02');
  });

  test('exits 2 naming the datasets when the dataset is unknown, and on missing arguments', () => {
    const unknown = cli(
      '--config',
      EXAMPLE,
      '--dataset',
      'labs',
      '--in',
      join(SAMPLES, 'patients.csv'),
      '--out',
      fresh(),
    );
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--dataset labs: no such dataset');
    expect(unknown.stderr).toContain('expected one of: patients, encounters');
    const usage = cli('--dataset', 'patients');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: npm run pseudonymize');
  });
});
