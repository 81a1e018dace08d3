import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { makeWorker, tagValue } from '../../../lib/functions/airlock-worker/handler';

const s3 = mockClient(S3Client);
const KEY = 'incoming/AROAEXAMPLEIMPORTER1:alice/model/llm/pytorch_model.safetensors';
const SOURCE = { bucket: 'import', key: KEY, versionId: 'v1' };
const TARGET = {
  bucket: 'models',
  key: 'imported/llm/pytorch_model.safetensors',
  kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/m',
};
// The part of an SDK stream the worker reads.
const body = (bytes: number[]) =>
  ({ transformToByteArray: () => Promise.resolve(Uint8Array.from(bytes)) }) as unknown as NonNullable<
    GetObjectCommandOutput['Body']
  >;

const dynamodb = mockClient(DynamoDBClient);
const worker = (sizes: { part?: number } = {}) =>
  makeWorker(new S3Client({}), {
    logBucket: 'decisions',
    logKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/log',
    partBytes: sizes.part,
    requests: { table: 'requests', dynamodb: new DynamoDBClient({}) },
    now: () => new Date('2026-12-01T10:00:00Z'),
  });

beforeEach(() => {
  s3.reset();
  dynamodb.reset();
});

describe('the airlock worker', () => {
  test('inspects an upload: who, what, where to, its checksum, and a pickle whatever its name', async () => {
    s3.on(HeadObjectCommand).resolves({
      ContentLength: 100,
      VersionId: 'v1',
      ETag: '"e"',
      ChecksumCRC64NVME: 'crc==',
    });
    s3.on(GetObjectCommand).resolves({ Body: body([0x80, 0x04, 0x95, 0x00]) });
    const result = await worker()({ action: 'inspect', object: SOURCE });
    expect(result).toMatchObject({
      object: { kind: 'model', targetZone: 'models', targetKey: 'imported/llm/pytorch_model.safetensors' },
      size: 100,
      versionId: 'v1',
      checksum: { crc64nvme: 'crc==' },
      codeExecution: 'its content is a Python pickle, whatever its name',
    });
    const get = s3.commandCalls(GetObjectCommand)[0].args[0].input;
    expect(get).toMatchObject({ VersionId: 'v1', Range: 'bytes=0-99' });
    expect(s3.commandCalls(HeadObjectCommand)[0].args[0].input.ChecksumMode).toBe('ENABLED');
  });

  test('a key outside the layout comes back with the reason, for the workflow to hold it', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 3 });
    s3.on(GetObjectCommand).resolves({ Body: body([1, 2, 3]) });
    const result = await worker()({ action: 'inspect', object: { bucket: 'import', key: 'incoming/x.csv' } });
    expect(result).toMatchObject({ error: expect.stringContaining('is not incoming/') });
  });

  test("holds an object by adding its state and the reason to that version's tags, keeping GuardDuty's", async () => {
    s3.on(GetObjectTaggingCommand).resolves({
      TagSet: [{ Key: 'GuardDutyMalwareScanStatus', Value: 'THREATS_FOUND' }],
    });
    s3.on(PutObjectTaggingCommand).resolves({});
    await worker()({
      action: 'hold',
      object: SOURCE,
      state: 'quarantined',
      reason: 'scan: THREATS_FOUND (EICAR!)',
    });
    expect(s3.commandCalls(GetObjectTaggingCommand)[0].args[0].input.VersionId).toBe('v1');
    const input = s3.commandCalls(PutObjectTaggingCommand)[0].args[0].input;
    expect(input.VersionId).toBe('v1');
    expect(input.Tagging?.TagSet).toEqual([
      { Key: 'GuardDutyMalwareScanStatus', Value: 'THREATS_FOUND' },
      { Key: 'airlock-state', Value: 'quarantined' },
      { Key: 'airlock-reason', Value: 'scan: THREATS_FOUND  EICAR  ' },
    ]);
    expect(tagValue('x'.repeat(300))).toHaveLength(256);
  });

  const source = (size: number) =>
    s3.on(HeadObjectCommand, { Bucket: 'import' }).resolves({
      ContentLength: size,
      ETag: '"e"',
      ChecksumCRC64NVME: 'crc==',
    });

  test('copies the reviewed version as a conditional write with its key and tags; S3 checks the checksum', async () => {
    source(10);
    s3.on(GetObjectTaggingCommand).resolves({
      TagSet: [{ Key: 'GuardDutyMalwareScanStatus', Value: 'NO_THREATS_FOUND' }],
    });
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: 't1', ChecksumCRC64NVME: 'crc==' });
    const result = await worker()({
      action: 'copy',
      source: SOURCE,
      target: TARGET,
      tags: { 'airlock-request': 'req-1', DataClassification: 'proprietary' },
      requireTags: { GuardDutyMalwareScanStatus: 'NO_THREATS_FOUND' },
    });
    expect(result).toEqual({
      bucket: 'models',
      key: TARGET.key,
      versionId: 't1',
      size: 10,
      checksum: { crc64nvme: 'crc==' },
      sourceChecksum: { crc64nvme: 'crc==' },
      sourceVersionId: 'v1',
    });
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0].args[0].input).toMatchObject({
      SSEKMSKeyId: TARGET.kmsKeyArn,
      ServerSideEncryption: 'aws:kms',
      Tagging: 'airlock-request=req-1&DataClassification=proprietary',
      ChecksumAlgorithm: 'CRC64NVME',
      ChecksumType: 'FULL_OBJECT',
    });
    const [part] = s3.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input);
    expect(part).toMatchObject({
      CopySource: `import/${encodeURIComponent(KEY)}?versionId=v1`,
      CopySourceIfMatch: '"e"',
    });
    expect(part.CopySourceRange).toBeUndefined();
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input).toMatchObject({
      IfNoneMatch: '*',
      ChecksumType: 'FULL_OBJECT',
      ChecksumCRC64NVME: 'crc==',
    });
    // Nothing is read from the target zone, which the worker may not read.
    expect(s3.commandCalls(HeadObjectCommand).map((c) => c.args[0].input.Bucket)).toEqual(['import']);
  });

  test('refuses a source not tagged as required, and a copy whose checksum differs', async () => {
    source(10);
    s3.on(GetObjectTaggingCommand).resolves({
      TagSet: [{ Key: 'GuardDutyMalwareScanStatus', Value: 'FAILED' }],
    });
    await expect(
      worker()({
        action: 'copy',
        source: SOURCE,
        target: TARGET,
        tags: {},
        requireTags: { GuardDutyMalwareScanStatus: 'NO_THREATS_FOUND' },
      }),
    ).rejects.toThrow('is tagged GuardDutyMalwareScanStatus=FAILED, not NO_THREATS_FOUND');
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);

    s3.reset();
    source(10);
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: 't1', ChecksumCRC64NVME: 'other==' });
    await expect(worker()({ action: 'copy', source: SOURCE, target: TARGET, tags: {} })).rejects.toThrow(
      "is not the reviewed object's",
    );
  });

  const OUTSIDE = { bucket: 'partner-results', key: 'airlock/r1/x.csv', expectedOwner: '210987654321' };
  /** Request r1 of SOURCE as the desk recorded it: approved by carol, with these fields. */
  const recordedRequest = (fields: Record<string, { S: string }>) =>
    dynamodb.on(GetItemCommand).resolves({
      Item: {
        requestId: { S: 'r1' },
        state: { S: 'approved' },
        reviewerId: { S: 'AROAEXAMPLEREVIEWER1:carol' },
        objectBucket: { S: SOURCE.bucket },
        objectKey: { S: SOURCE.key },
        versionId: { S: SOURCE.versionId },
        ...fields,
      },
    });
  const approvedRequest = (change: Record<string, { S: string }> = {}) =>
    recordedRequest({
      kind: { S: 'export' },
      requesterId: { S: 'AROAEXAMPLESCIENCE01:alice' },
      destination: { S: `s3://${OUTSIDE.bucket}/${OUTSIDE.key}` },
      ...change,
    });

  test('sends nothing out unless its request was approved, by another, for this staged version and destination, whoever invokes it', async () => {
    source(10);
    const send = (approval?: { requestId: string }) =>
      worker()({
        action: 'copy',
        source: SOURCE,
        target: OUTSIDE,
        tags: {},
        ...(approval ? { approval } : {}),
      });
    await expect(send()).rejects.toThrow('needs its request');
    dynamodb.on(GetItemCommand).resolves({});
    await expect(send({ requestId: 'r1' })).rejects.toThrow('there is no such request');
    approvedRequest({ state: { S: 'awaiting-review' } });
    await expect(send({ requestId: 'r1' })).rejects.toThrow('it is awaiting-review, not an approved export');
    approvedRequest({ versionId: { S: 'v0' } });
    await expect(send({ requestId: 'r1' })).rejects.toThrow('not the one staged for its review');
    approvedRequest({ destination: { S: 's3://elsewhere/airlock/r1/x.csv' } });
    await expect(send({ requestId: 'r1' })).rejects.toThrow('the destination is not the one reviewed');
    approvedRequest({ reviewerId: { S: 'AROAEXAMPLESCIENCE01:bob' } });
    await expect(send({ requestId: 'r1' })).rejects.toThrow('the same principal may not request and approve');
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
  });

  test('copies nothing out of the import zone unless its request is an approved import, by another, of this version to this key, whoever invokes it', async () => {
    source(10);
    s3.on(GetObjectTaggingCommand).resolves({
      TagSet: [{ Key: 'GuardDutyMalwareScanStatus', Value: 'NO_THREATS_FOUND' }],
    });
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: 't1', ChecksumCRC64NVME: 'crc==' });
    const importer = makeWorker(new S3Client({}), {
      logBucket: 'decisions',
      logKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/log',
      requests: { table: 'requests', dynamodb: new DynamoDBClient({}) },
      importBucket: 'import',
      importTargets: { raw: 'raw', models: 'models' },
    });
    // A forged invocation: the scanner passed the object, no reviewer saw it.
    const copy = (approval?: { requestId: string }) =>
      importer({
        action: 'copy',
        source: SOURCE,
        target: TARGET,
        tags: {},
        requireTags: { GuardDutyMalwareScanStatus: 'NO_THREATS_FOUND' },
        ...(approval ? { approval } : {}),
      });
    const recorded = (change: Record<string, { S: string }> = {}) =>
      recordedRequest({
        kind: { S: 'import' },
        requesterId: { S: 'AROAEXAMPLEIMPORTER1:alice' },
        targetZone: { S: 'models' },
        targetKey: { S: TARGET.key },
        ...change,
      });
    await expect(copy()).rejects.toThrow('a copy out of the import zone needs its request');
    dynamodb.on(GetItemCommand).resolves({});
    await expect(copy({ requestId: 'r1' })).rejects.toThrow('there is no such request');
    recorded({ state: { S: 'awaiting-review' } });
    await expect(copy({ requestId: 'r1' })).rejects.toThrow('it is awaiting-review, not an approved import');
    recorded({ kind: { S: 'export' } });
    await expect(copy({ requestId: 'r1' })).rejects.toThrow('not an approved import');
    recorded({ versionId: { S: 'v0' } });
    await expect(copy({ requestId: 'r1' })).rejects.toThrow('the object is not the one reviewed');
    recorded({ targetKey: { S: 'imported/other/model.safetensors' } });
    await expect(copy({ requestId: 'r1' })).rejects.toThrow('the target is not the one reviewed');
    // Approved into raw, asked into models at the same key.
    recorded({ targetZone: { S: 'raw' } });
    await expect(copy({ requestId: 'r1' })).rejects.toThrow('the target is not the one reviewed');
    recorded({ reviewerId: { S: 'AROAEXAMPLEIMPORTER1:alice' } });
    await expect(copy({ requestId: 'r1' })).rejects.toThrow('the same principal may not request and approve');
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
    recorded();
    await expect(copy({ requestId: 'r1' })).resolves.toMatchObject({ bucket: 'models', key: TARGET.key });
    expect(dynamodb.commandCalls(GetItemCommand).at(-1)!.args[0].input).toMatchObject({
      TableName: 'requests',
      Key: { requestId: { S: 'r1' } },
      ConsistentRead: true,
    });
  });

  test('copies to a bucket outside only if the expected account owns it, encrypted as that bucket says', async () => {
    source(10);
    approvedRequest();
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: 'o1', ChecksumCRC64NVME: 'crc==' });
    await worker()({
      action: 'copy',
      source: SOURCE,
      target: OUTSIDE,
      tags: {},
      approval: { requestId: 'r1' },
    });
    expect(dynamodb.commandCalls(GetItemCommand)[0].args[0].input).toMatchObject({
      TableName: 'requests',
      Key: { requestId: { S: 'r1' } },
      ConsistentRead: true,
    });
    const create = s3.commandCalls(CreateMultipartUploadCommand)[0].args[0].input;
    expect(create.ExpectedBucketOwner).toBe('210987654321');
    expect(create.SSEKMSKeyId).toBeUndefined();
    expect(s3.commandCalls(UploadPartCopyCommand)[0].args[0].input.ExpectedBucketOwner).toBe('210987654321');
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input.ExpectedBucketOwner).toBe(
      '210987654321',
    );
  });

  test('copies the version it looked at when the caller names none (an export from its source zone)', async () => {
    s3.on(HeadObjectCommand, { Bucket: 'curated' }).resolves({
      ContentLength: 4,
      ETag: '"c"',
      VersionId: 'cv7',
      ChecksumCRC64NVME: 'crc==',
    });
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: 's1', ChecksumCRC64NVME: 'crc==' });
    const result = await worker()({
      action: 'copy',
      source: { bucket: 'curated', key: 'cohort/a b.csv' },
      target: { bucket: 'export', key: 'outgoing/r1/cohort/a b.csv', kmsKeyArn: 'arn:aws:kms:::key/e' },
      tags: {},
    });
    const part = s3.commandCalls(UploadPartCopyCommand)[0].args[0].input;
    expect(part.CopySource).toBe('curated/cohort%2Fa%20b.csv?versionId=cv7');
    expect(part.CopySourceIfMatch).toBe('"c"');
    expect(result).toMatchObject({ sourceVersionId: 'cv7', versionId: 's1' });
  });

  test("copies an object written with another checksum (the stage's SHA-256): S3's CRC-64/NVME of the copy is recorded", async () => {
    s3.on(HeadObjectCommand, { Bucket: 'curated' }).resolves({
      ContentLength: 4,
      ETag: '"c"',
      VersionId: 'cv7',
      ChecksumSHA256: 'sha==',
    });
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: 's1', ChecksumCRC64NVME: 'made==' });
    const result = await worker()({
      action: 'copy',
      source: { bucket: 'curated', key: 'cohort/a.csv' },
      target: { bucket: 'export', key: 'outgoing/r1/cohort/a.csv', kmsKeyArn: 'arn:aws:kms:::key/e' },
      tags: {},
    });
    expect(
      s3.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input.ChecksumCRC64NVME,
    ).toBeUndefined();
    expect(s3.commandCalls(UploadPartCopyCommand)[0].args[0].input.CopySourceIfMatch).toBe('"c"');
    expect(result).toMatchObject({ checksum: { crc64nvme: 'made==' }, sourceChecksum: { sha256: 'sha==' } });
  });

  test('copies a large object in parts, and aborts the upload when a part fails', async () => {
    source(25);
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: 't2', ChecksumCRC64NVME: 'crc==' });
    const result = await worker({ part: 10 })({ action: 'copy', source: SOURCE, target: TARGET, tags: {} });
    expect(result).toMatchObject({ versionId: 't2' });
    expect(s3.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input.CopySourceRange)).toEqual([
      'bytes=0-9',
      'bytes=10-19',
      'bytes=20-24',
    ]);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input.MultipartUpload?.Parts).toEqual([
      { PartNumber: 1, ETag: '"p"' },
      { PartNumber: 2, ETag: '"p"' },
      { PartNumber: 3, ETag: '"p"' },
    ]);

    s3.on(UploadPartCopyCommand).rejects(new Error('SlowDown'));
    await expect(
      worker({ part: 10 })({ action: 'copy', source: SOURCE, target: TARGET, tags: {} }),
    ).rejects.toThrow('SlowDown');
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });

  test('records a decision once, with a checksum, under the log key', async () => {
    s3.on(PutObjectCommand).resolves({});
    const result = await worker()({
      action: 'record',
      requestId: 'req-1',
      event: 'approved',
      record: { reviewerArn: 'arn:aws:sts::123456789012:assumed-role/aiseg-airlock-reviewer/bob' },
    });
    expect(result).toEqual({ recorded: 'decisions/2026/12/01/req-1/2026-12-01T10:00:00.000Z-approved.json' });
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({
      Bucket: 'decisions',
      IfNoneMatch: '*',
      ChecksumAlgorithm: 'SHA256',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/log',
    });
    expect(JSON.parse(put.Body as string)).toMatchObject({
      requestId: 'req-1',
      event: 'approved',
      at: '2026-12-01T10:00:00.000Z',
    });
  });
});
