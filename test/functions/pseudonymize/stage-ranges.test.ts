import { GenerateMacCommand } from '@aws-sdk/client-kms';
import type { Manifest } from '../../../lib/functions/pseudonymize/manifest';
import { processObject } from '../../../lib/functions/pseudonymize/stage';
import {
  assembleObject,
  planObject,
  transformRange,
  type RangeJob,
  type Staging,
} from '../../../lib/functions/pseudonymize/stage-ranges';
import { KmsMac, Tokenizer } from '../../../lib/functions/pseudonymize/tokenizer';
import { FakeKms, FakeS3, HMAC_KEY, RANGES, stageConfig } from './fakes';
import { SYNTHETIC_CSV_RULES, SYNTHETIC_JSONL_RULES, syntheticCsv, syntheticJsonLines } from './synthetic';

const config = stageConfig(
  [
    SYNTHETIC_CSV_RULES,
    SYNTHETIC_JSONL_RULES,
    {
      name: 'wide',
      prefix: 'wide/',
      format: 'csv',
      rules: [{ field: 'id', transform: 'token' }],
      safeFields: ['note'],
    },
  ],
  1024 ** 3,
);
const staging: Staging = RANGES.staging;

/** Plans a raw object's version in small ranges. */
const plan = (w: ReturnType<typeof world>, key: string, versionId: string, rangeBytes: number) =>
  planObject(
    w.s3,
    w.tokenizer(),
    config,
    { bucket: 'raw', key, versionId },
    { rangeBytes, maxRangeBytes: 4096 },
  );

function world() {
  const s3 = new FakeS3({
    curated: config.curatedKeyArn,
    quarantine: config.quarantineKeyArn,
    staging: staging.keyArn,
  });
  const tokenizer = () =>
    new Tokenizer(new KmsMac(new FakeKms(HMAC_KEY), HMAC_KEY, (i) => new GenerateMacCommand(i)));
  return { s3, tokenizer };
}

/** 12 MB of CSV, 1,000 patients: its curated object is larger than two of the writer's parts. */
function wideCsv(): Buffer {
  const note = 'n'.repeat(200);
  const rows = Array.from({ length: 55_000 }, (_, i) => `P-${i % 1000},${note}${i}\n`);
  return Buffer.from(`id,note\n${rows.join('')}`);
}

describe.each([
  ['CSV', 'synthetic/patients/2026/extract.csv', () => syntheticCsv().bytes, 64 * 1024],
  ['JSON Lines', 'synthetic/visits/2026/extract.jsonl', () => syntheticJsonLines().bytes, 64 * 1024],
  ['wide CSV', 'wide/2026/extract.csv', wideCsv, 1024 * 1024],
])('a large %s object through the ranged path', (format, key, make, rangeBytes) => {
  const bytes = make();
  const single = world();
  const ranged = world();
  let job: RangeJob;
  let manifest: Manifest;
  beforeAll(async () => {
    const version = single.s3.put('raw', key, bytes);
    expect(ranged.s3.put('raw', key, bytes)).toBe(version);
    const outcome = await processObject(single.s3, single.tokenizer(), config, {
      bucket: 'raw',
      key,
      versionId: version,
    });
    expect(outcome.status).toBe('pseudonymized');
    const planned = await planObject(
      ranged.s3,
      ranged.tokenizer(),
      config,
      { bucket: 'raw', key, versionId: version },
      { rangeBytes, maxRangeBytes: 64 * 1024 * 1024 },
    );
    if ('fileRejection' in planned) throw new Error(planned.fileRejection);
    job = planned;
    // The map runs its items side by side, each in an invocation of its own.
    await Promise.all(
      job.items.map((item) => transformRange(ranged.s3, ranged.tokenizer(), config, staging, job, item)),
    );
    const end = await assembleObject(ranged.s3, ranged.tokenizer(), config, staging, job);
    if (end.outcome !== 'pseudonymized') throw new Error(`the run ended ${end.outcome}`);
    manifest = end.manifest;
  }, 120_000);

  test('writes the single pass’s curated object, quarantine object and manifest, byte for byte', () => {
    expect(job.items.length).toBeGreaterThan(3);
    const curatedKeys = single.s3.keys('curated');
    expect(ranged.s3.keys('curated')).toEqual(curatedKeys);
    for (const k of curatedKeys) expect(ranged.s3.text('curated', k)).toBe(single.s3.text('curated', k));
    const quarantined = single.s3.keys('quarantine');
    expect(ranged.s3.keys('quarantine')).toEqual(quarantined);
    for (const k of quarantined)
      expect(ranged.s3.text('quarantine', k)).toBe(single.s3.text('quarantine', k));
    if (format !== 'wide CSV') expect(quarantined).toHaveLength(1);
    expect(manifest.source.records).toBe(manifest.output.records + manifest.quarantine.records);
  });

  test('reads each range with a ranged GetObject of the source version, and leaves no staged part behind', () => {
    expect(ranged.s3.calls.filter((c) => c.startsWith('GetObject range'))).toHaveLength(job.items.length);
    // Only the run's end is kept (it names no raw key), until the lifecycle expires it.
    expect(ranged.s3.keys('staging')).toEqual([`runs/${job.keyToken}/${job.versionId}/done.json`]);
    expect(ranged.s3.text('staging', `runs/${job.keyToken}/${job.versionId}/done.json`)).not.toContain(key);
    expect(ranged.s3.uploads.size).toBe(0);
  });

  test('uploads a large curated object in parts of at least 5 MiB, encrypted with the curated key', () => {
    const multipart = ranged.s3.calls.filter((c) => c.startsWith('CompleteMultipartUpload curated/'));
    expect(multipart).toHaveLength(manifest.output.bytes > 8 * 1024 * 1024 ? 1 : 0);
    if (format === 'wide CSV') expect(manifest.output.bytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(ranged.s3.latest('curated', manifest.output.key!)!.params).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: config.curatedKeyArn,
    });
  });
});

test('a file whose header cannot be read is not planned: the single pass sets it aside whole', async () => {
  const w = world();
  const { s3 } = w;
  const key = 'synthetic/patients/bad.csv';
  const version = s3.put('raw', key, 'patient_id,patient_id\nP-1,P-1\n');
  expect(await plan(w, key, version, 1024)).toEqual({
    fileRejection: 'header names one column twice (columns 1 and 2)',
  });
});

test('a range longer than one invocation transforms (an unclosed quote) is not planned', async () => {
  const w = world();
  const { s3 } = w;
  const key = 'wide/unclosed.csv';
  const rows = Array.from({ length: 2000 }, (_, i) => `P-${i},${i === 10 ? '"open' : 'note'}\n`).join('');
  const version = s3.put('raw', key, `id,note\n${rows}`);
  expect(await plan(w, key, version, 1024)).toEqual({
    fileRejection: 'a record boundary more than 4096 bytes from the last (an unclosed quote?)',
  });
});

test('a run whose raw object has since been replaced writes nothing to curated, and leaves nothing staged', async () => {
  const w = world();
  const { s3, tokenizer } = w;
  const key = 'wide/replaced.csv';
  const version = s3.put('raw', key, 'id,note\nP-1,a\nP-2,b\n');
  const job = await plan(w, key, version, 8);
  if ('fileRejection' in job) throw new Error(job.fileRejection);
  for (const item of job.items) await transformRange(s3, tokenizer(), config, staging, job, item);
  expect(s3.keys('staging').length).toBeGreaterThan(0);
  s3.put('raw', key, 'id,note\nP-3,c\n');
  await expect(assembleObject(s3, tokenizer(), config, staging, job)).resolves.toEqual({
    outcome: 'superseded',
  });
  expect(s3.keys('curated')).toEqual([]);
  expect(s3.keys('staging')).toEqual([`runs/${job.keyToken}/${job.versionId}/done.json`]);
  expect(s3.uploads.size).toBe(0);
});
