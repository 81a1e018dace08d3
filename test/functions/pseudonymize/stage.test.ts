import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerateMacCommand } from '@aws-sdk/client-kms';
import { loadConfig } from '../../../lib/config/load';
import {
  makeHandler,
  objectFrom,
  stageConfigFrom,
  type ObjectCreatedEvent,
} from '../../../lib/functions/pseudonymize/handler';
import type { Manifest } from '../../../lib/functions/pseudonymize/manifest';
import {
  OBJECT_KEY_DOMAIN,
  processObject,
  type StageConfig,
} from '../../../lib/functions/pseudonymize/stage';
import { KmsMac, Tokenizer } from '../../../lib/functions/pseudonymize/tokenizer';
import { FakeKms, FakeS3, FakeSfn, HMAC_KEY, RANGES, stageConfig } from './fakes';

const ROOT = join(__dirname, '..', '..', '..');
const SAMPLES = join(ROOT, 'samples', 'pseudonymization');
const example = loadConfig(join(ROOT, 'config', 'example.json'));

/** The function's ephemeral storage: a directory of this file's own (test files run side by side). */
const WORK_DIR = mkdtempSync(join(tmpdir(), 'stage-test-'));

const config: StageConfig = {
  ...stageConfig(example.pseudonymization.datasets, 1024 * 1024),
  hmacKeyName: 'release-1',
  workDir: WORK_DIR,
};

function setUp() {
  const s3 = new FakeS3({ curated: config.curatedKeyArn, quarantine: config.quarantineKeyArn });
  const kms = new FakeKms(HMAC_KEY);
  const tokenizer = new Tokenizer(new KmsMac(kms, HMAC_KEY, (input) => new GenerateMacCommand(input)));
  return {
    s3,
    kms,
    tokenizer,
    process: (key: string, versionId?: string) =>
      processObject(s3, tokenizer, config, { bucket: 'raw', key, ...(versionId ? { versionId } : {}) }),
  };
}

/** The token the stage gives a raw key: HMAC-SHA-256 under FakeKms's secret, base64url, in the object-key domain. */
const keyToken = (key: string) =>
  createHmac('sha256', Buffer.alloc(32, 7)).update(`${OBJECT_KEY_DOMAIN}\u0000${key}`).digest('base64url');

const patients = readFileSync(join(SAMPLES, 'patients.csv'));
const encounters = readFileSync(join(SAMPLES, 'encounters.jsonl'));
const workDirs = () => readdirSync(WORK_DIR);

describe('a raw file of a known dataset', () => {
  const { s3, kms, process } = setUp();
  // A raw key that names a patient, as uploaders' file names do.
  const raw = 'ehr/patients/2026/11/25/alice-smith-MRN-55501.csv';
  const key = `ehr/patients/${keyToken(raw)}.csv`;
  const version = s3.put('raw', raw, patients);
  let outcome: Awaited<ReturnType<typeof process>>;
  beforeAll(async () => {
    outcome = await process(raw, version);
  });

  test("becomes a curated file under its dataset's prefix and the keyed hash of its key (never the raw key), encrypted with the curated key, checksummed", () => {
    expect(outcome.status).toBe('pseudonymized');
    expect(s3.keys('curated')).toEqual([key, `${key}.manifest.json`]);
    expect(JSON.stringify(s3.keys('curated'))).not.toMatch(/alice|55501|2026/);
    expect(outcome.keyToken).toBe(keyToken(raw));
    const curated = s3.latest('curated', key)!;
    expect(curated.params).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: config.curatedKeyArn,
      ContentType: 'text/csv',
      ChecksumSHA256: createHash('sha256').update(curated.body).digest('base64'),
    });
    const text = curated.body.toString('utf8');
    expect(text.split('\n')[0]).toBe('patient_id,mrn,email,phone,ssn,birth_date,age,zip,sex,diagnosis_code');
    for (const identifier of [
      'P-000101',
      'MRN-55501',
      'Alice',
      'example.org',
      '555',
      '123-45-6789',
      '1931-04-12',
    ]) {
      expect(text).not.toContain(identifier);
    }
  });

  test('with a manifest beside it: rule version, counts, source version and both SHA-256s', () => {
    const manifest = JSON.parse(s3.text('curated', `${key}.manifest.json`)) as Manifest;
    const curated = s3.latest('curated', key)!.body;
    expect(manifest).toMatchObject({
      manifestVersion: 2,
      dataset: 'patients',
      hmac: { algorithm: 'HMAC_SHA_256', keyId: HMAC_KEY, keyName: 'release-1' },
      // Ages on the day the object was received, so that a retry computes the same.
      asOf: '2026-11-25',
      rules: { tokens: { scheme: 2, scope: 'group:ehr' } },
      source: {
        bucket: 'raw',
        keyToken: keyToken(raw),
        versionId: version,
        sha256: createHash('sha256').update(patients).digest('hex'),
        records: 7,
      },
      output: {
        bucket: 'curated',
        key,
        sha256: createHash('sha256').update(curated).digest('hex'),
        records: 3,
      },
      quarantine: { records: 4, location: { bucket: 'quarantine', keyToken: keyToken(raw) } },
    });
    // The manifest is in the curated zone: no raw key in it, in any field.
    expect(s3.text('curated', `${key}.manifest.json`)).not.toMatch(/alice|55501/);
    expect(manifest.ruleVersion).toMatch(/^sha256:/);
    expect(s3.latest('curated', `${key}.manifest.json`)!.params).toMatchObject({
      SSEKMSKeyId: config.curatedKeyArn,
    });
  });

  test('its bad records go to quarantine (a phi zone, read as raw is: under the raw key) with their reasons, encrypted with the quarantine key', () => {
    const rejected = s3.latest('quarantine', `${raw}.rejected.jsonl`)!;
    expect(rejected.params).toMatchObject({ SSEKMSKeyId: config.quarantineKeyArn });
    const reasons = rejected.body
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { reason: string }).reason);
    expect(reasons).toEqual([
      'birth_date: not a calendar date',
      'age: expected a whole number of years from 0 to 130',
      'malformed CSV: 10 field(s) where the header has 11',
      'patient_id: missing value',
    ]);
  });

  test('the manifest is written last, and no staged file is left on local storage', () => {
    const puts = s3.calls.filter((c) => c.startsWith('PutObject'));
    expect(puts.at(-1)).toBe(`PutObject curated/${key}.manifest.json`);
    expect(workDirs()).toEqual([]);
  });

  test('identifiers are MACed by KMS once per distinct value', () => {
    // Curated: P-000101 twice (patient, MRN, e-mail, phone, SSN: the same five values once
    // normalised) and P-000102 (no SSN): 5 + 4 distinct identifiers.
    // And the raw key's token: one more.
    expect(kms.calls).toBe(10);
  });

  test('a retry writes the same bytes again (idempotent)', async () => {
    const before = ['curated/' + key, `curated/${key}.manifest.json`, `quarantine/${raw}.rejected.jsonl`].map(
      (at) => s3.objects.get(at)!.at(-1)!.body,
    );
    await process(raw, version);
    const after = ['curated/' + key, `curated/${key}.manifest.json`, `quarantine/${raw}.rejected.jsonl`].map(
      (at) => s3.objects.get(at)!.at(-1)!.body,
    );
    expect(after).toEqual(before);
  });
});

describe('files the stage sets aside whole', () => {
  test('a file under no dataset prefix is copied to quarantine with the reason', async () => {
    const { s3, process } = setUp();
    const version = s3.put('raw', 'ehr/labs/results.csv', 'a,b\n1,2\n');
    expect(await process('ehr/labs/results.csv', version)).toEqual({
      keyToken: keyToken('ehr/labs/results.csv'),
      status: 'quarantined',
      reason: "no dataset's prefix matches the key",
    });
    expect(s3.text('quarantine', 'ehr/labs/results.csv')).toBe('a,b\n1,2\n');
    expect(s3.latest('quarantine', 'ehr/labs/results.csv')!.params).toMatchObject({
      CopySource: `raw/ehr/labs/results.csv?versionId=${version}`,
      SSEKMSKeyId: config.quarantineKeyArn,
    });
    expect(JSON.parse(s3.text('quarantine', 'ehr/labs/results.csv.reason.json'))).toEqual({
      reason: "no dataset's prefix matches the key",
      dataset: null,
      source: { bucket: 'raw', key: 'ehr/labs/results.csv', versionId: version },
      // Where the raw key and its token meet: in a zone read as raw is.
      keyToken: keyToken('ehr/labs/results.csv'),
    });
    expect(s3.keys('curated')).toEqual([]);
  });

  test('a file whose header lacks a required column is quarantined whole; nothing is curated', async () => {
    const { s3, process } = setUp();
    const key = 'ehr/patients/short.csv';
    const version = s3.put('raw', key, 'patient_id,name\nP-1,Alice\n');
    const outcome = await process(key, version);
    expect(outcome).toMatchObject({ status: 'quarantined', dataset: 'patients' });
    expect(s3.text('quarantine', key)).toBe('patient_id,name\nP-1,Alice\n');
    const reason = JSON.parse(s3.text('quarantine', `${key}.reason.json`)) as { reason: string };
    expect(reason.reason).toMatch(/lacks the required column/);
    expect(s3.keys('curated')).toEqual([]);
  });

  test('a file larger than one invocation processes is set aside whole where there is no range workflow', async () => {
    const { s3, tokenizer } = setUp();
    const key = 'ehr/encounters/huge.jsonl';
    const version = s3.put('raw', key, encounters);
    const small = { ...config, singlePassBytes: 100 };
    const outcome = await processObject(s3, tokenizer, small, { bucket: 'raw', key, versionId: version });
    expect(outcome).toMatchObject({
      status: 'quarantined',
      reason: 'larger than the 100 bytes one invocation processes, and no range workflow',
    });
    expect(s3.calls).not.toContain('GetObject');
  });
});

describe('events the stage skips or fails on', () => {
  test('an event for a version since replaced writes nothing (a retry cannot overwrite newer output)', async () => {
    const { s3, process } = setUp();
    const key = 'ehr/encounters/a.jsonl';
    const old = s3.put('raw', key, encounters);
    s3.put('raw', key, encounters);
    expect(await process(key, old)).toEqual({
      keyToken: keyToken(key),
      status: 'skipped',
      reason: 'superseded by a newer version',
    });
    expect(s3.keys('curated')).toEqual([]);
  });

  test('an event for an object since deleted is skipped', async () => {
    const { process } = setUp();
    expect(await process('ehr/encounters/gone.jsonl', 'v9')).toEqual({
      keyToken: keyToken('ehr/encounters/gone.jsonl'),
      status: 'skipped',
      reason: 'object no longer exists',
    });
  });

  test('an event for another bucket is an error (for the retries and the dead-letter queue)', async () => {
    const { s3, tokenizer } = setUp();
    await expect(processObject(s3, tokenizer, config, { bucket: 'curated', key: 'x' })).rejects.toThrow(
      /the stage reads only raw/,
    );
  });

  test('an S3 failure is thrown, nothing is half-written, and the staged files are removed', async () => {
    const { s3, process } = setUp();
    const key = 'ehr/patients/b.csv';
    const version = s3.put('raw', key, patients);
    s3.failGets = true;
    await expect(process(key, version)).rejects.toThrow('SlowDown');
    expect(s3.keys('curated')).toEqual([]);
    expect(s3.keys('quarantine')).toEqual([]);
    expect(workDirs()).toEqual([]);
  });
});

describe('the handler', () => {
  const event = (key: string, versionId: string): ObjectCreatedEvent => ({
    'detail-type': 'Object Created',
    detail: { bucket: { name: 'raw' }, object: { key, size: 10, 'version-id': versionId } },
  });

  test('reads the object from the EventBridge event', () => {
    expect(objectFrom(event('ehr/a.csv', 'v1'))).toEqual({
      bucket: 'raw',
      key: 'ehr/a.csv',
      versionId: 'v1',
      size: 10,
    });
    expect(() => objectFrom({ 'detail-type': 'Object Deleted', detail: {} })).toThrow(
      /not an S3 Object Created event/,
    );
  });

  test("logs the key's token, counts and reasons as JSON, never the raw key or a value from the records", async () => {
    const { s3, tokenizer } = setUp();
    const key = 'ehr/patients/bob-jones-1961.csv';
    const version = s3.put('raw', key, patients);
    const logged: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void logged.push(line));
    try {
      await makeHandler(s3, tokenizer, { ...config, ranges: RANGES }, new FakeSfn())(event(key, version));
    } finally {
      spy.mockRestore();
    }
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0])).toMatchObject({
      message: 'pseudonymization',
      keyToken: keyToken(key),
      status: 'pseudonymized',
      dataset: 'patients',
      records: 3,
      quarantined: 4,
    });
    for (const value of ['P-0001', 'MRN-', 'Alice', 'example.org', '1931', 'bob-jones', '1961'])
      expect(logged[0]).not.toContain(value);
  });

  test('takes its configuration from the environment and the bundled datasets, and names what is missing', () => {
    const env = {
      RAW_BUCKET: 'raw',
      CURATED_BUCKET: 'curated',
      QUARANTINE_BUCKET: 'quarantine',
      CURATED_KEY_ARN: config.curatedKeyArn,
      QUARANTINE_KEY_ARN: config.quarantineKeyArn,
      HMAC_KEY_ARN: HMAC_KEY,
      HMAC_KEY_NAME: 'release-1',
      SINGLE_PASS_BYTES: '1024',
      STAGING_BUCKET: RANGES.staging.bucket,
      STAGING_KEY_ARN: RANGES.staging.keyArn,
      RANGE_WORKFLOW_ARN: RANGES.workflowArn,
      RANGE_BYTES: String(RANGES.rangeBytes),
      MAX_RANGE_BYTES: String(RANGES.maxRangeBytes),
    };
    expect(stageConfigFrom(env, JSON.stringify(config.datasets))).toEqual({
      ...config,
      workDir: undefined,
      singlePassBytes: 1024,
      ranges: RANGES,
    });
    expect(() => stageConfigFrom({ ...env, HMAC_KEY_ARN: '' }, '[]')).toThrow(/HMAC_KEY_ARN/);
    expect(() => stageConfigFrom({ ...env, RANGE_BYTES: '64MiB' }, '[]')).toThrow(
      'environment variable RANGE_BYTES is 64MiB; expected a positive whole number of bytes',
    );
    expect(() => stageConfigFrom(env, undefined)).toThrow(/no datasets/);
  });
});
