import {
  GetItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCopyCommand,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { importKey } from '../../../lib/airlock';
import { makeDesk, type UrlEvent } from '../../../lib/functions/airlock-desk/handler';
import { makeWorker, type WorkerEvent } from '../../../lib/functions/airlock-worker/handler';
import { importWorkflow } from '../../../lib/stacks/airlock-workflow';
import { execute, substitute, TaskError, type TaskCall } from '../../support/states';

/*
 * The import workflow's definition run with the real JSONata engine against the real worker and
 * desk, over an in-memory S3 and requests table: what the workflow writes is what the desk reads,
 * and what the desk hands back is what the workflow checks.
 */

const ACCOUNT = '123456789012';
const IMPORT = 'aiseg-airlock-import';
const IMPORTER = { role: 'aiseg-airlock-importer', id: 'AROAEXAMPLEIMPORTER1' };
const REVIEWER = { role: 'aiseg-airlock-reviewer', id: 'AROAEXAMPLEREVIEWER1' };
const session = (who: { role: string; id: string }, name: string) => ({
  userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${who.role}/${name}`,
  userId: `${who.id}:${name}`,
});
const DEFINITION = substitute(importWorkflow({ reviewDays: 14 }), {
  Worker: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:aiseg-airlock-worker`,
  Requests: 'requests',
  RawBucket: 'aiseg-raw',
  RawKey: 'arn:aws:kms:eu-west-1:123456789012:key/raw',
  RawClass: 'phi',
  ModelsBucket: 'aiseg-models',
  ModelsKey: 'arn:aws:kms:eu-west-1:123456789012:key/models',
  ModelsClass: 'proprietary',
});

// ---- an in-memory S3 ----
interface StoredObject {
  body: Uint8Array;
  versionId: string;
  crc: string;
  tags: Record<string, string>;
  sse?: string;
}
const s3 = mockClient(S3Client);
let buckets: Map<string, Map<string, StoredObject>>;
let versions = 0;
const bucket = (name: string) => {
  let b = buckets.get(name);
  if (!b) buckets.set(name, (b = new Map<string, StoredObject>()));
  return b;
};
function store(name: string, key: string, body: Uint8Array): StoredObject {
  const object = {
    body,
    versionId: `v${++versions}`,
    crc: `crc-${Buffer.from(body).toString('hex')}`,
    tags: {},
  };
  bucket(name).set(key, object);
  return object;
}
const notFound = () => Object.assign(new Error('NotFound'), { name: 'NotFound' });

function fakeS3(): void {
  s3.on(HeadObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    const o = bucket(input.Bucket).get(input.Key);
    if (!o) throw notFound();
    return {
      ContentLength: o.body.length,
      VersionId: o.versionId,
      ETag: `"${o.versionId}"`,
      ChecksumCRC64NVME: o.crc,
    };
  });
  s3.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string; Range?: string }) => {
    const o = bucket(input.Bucket).get(input.Key);
    if (!o) throw notFound();
    const [, from, to] = /bytes=(\d+)-(\d+)/.exec(input.Range ?? '') ?? [];
    const bytes = from === undefined ? o.body : o.body.slice(Number(from), Number(to) + 1);
    return {
      Body: {
        transformToByteArray: () => Promise.resolve(bytes),
      } as unknown as GetObjectCommandOutput['Body'],
    };
  });
  s3.on(PutObjectTaggingCommand).callsFake(
    (input: { Bucket: string; Key: string; Tagging: { TagSet: { Key: string; Value: string }[] } }) => {
      const o = bucket(input.Bucket).get(input.Key);
      if (!o) throw notFound();
      o.tags = Object.fromEntries(input.Tagging.TagSet.map((t) => [t.Key, t.Value]));
      return {};
    },
  );
  s3.on(GetObjectTaggingCommand).callsFake((input: { Bucket: string; Key: string }) => {
    const o = bucket(input.Bucket).get(input.Key);
    if (!o) throw notFound();
    return { TagSet: Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value })) };
  });
  // Multipart copies: the source version read by each part, the copy made on completion, never over an object.
  const uploads = new Map<string, { tags: string; sse?: string; source?: StoredObject }>();
  s3.on(CreateMultipartUploadCommand).callsFake((input: { Tagging: string; SSEKMSKeyId?: string }) => {
    const id = `u${uploads.size + 1}`;
    uploads.set(id, { tags: input.Tagging, sse: input.SSEKMSKeyId });
    return { UploadId: id };
  });
  s3.on(UploadPartCopyCommand).callsFake((input: { UploadId: string; CopySource: string }) => {
    const [source, query] = input.CopySource.split('?');
    const slash = source.indexOf('/');
    const from = bucket(source.slice(0, slash)).get(decodeURIComponent(source.slice(slash + 1)));
    if (!from || !query.includes(from.versionId)) throw notFound();
    uploads.get(input.UploadId)!.source = from;
    return { CopyPartResult: { ETag: '"p"' } };
  });
  s3.on(CompleteMultipartUploadCommand).callsFake(
    (input: {
      Bucket: string;
      Key: string;
      UploadId: string;
      IfNoneMatch?: string;
      ChecksumCRC64NVME: string;
    }) => {
      const upload = uploads.get(input.UploadId)!;
      if (input.IfNoneMatch === '*' && bucket(input.Bucket).has(input.Key))
        throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
          name: 'PreconditionFailed',
        });
      if (input.ChecksumCRC64NVME !== upload.source!.crc) throw new Error('BadDigest');
      const copy = store(input.Bucket, input.Key, upload.source!.body);
      copy.tags = Object.fromEntries(new URLSearchParams(upload.tags));
      copy.sse = upload.sse;
      return { VersionId: copy.versionId, ChecksumCRC64NVME: copy.crc };
    },
  );
  s3.on(AbortMultipartUploadCommand).resolves({});
  s3.on(PutObjectCommand).callsFake(
    (input: { Bucket: string; Key: string; Body: string; IfNoneMatch?: string }) => {
      if (input.IfNoneMatch === '*' && bucket(input.Bucket).has(input.Key))
        throw new Error('PreconditionFailed');
      store(input.Bucket, input.Key, new TextEncoder().encode(input.Body));
      return {};
    },
  );
}

// ---- an in-memory requests table, for the expressions the workflow and the desk write ----
type Item = Record<string, AttributeValue>;
let table: Map<string, Item>;
interface Expression {
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}
const nameOf = (x: string, e: Expression) => (x.startsWith('#') ? e.ExpressionAttributeNames![x] : x);
function holds(item: Item | undefined, condition: string | undefined, e: Expression): boolean {
  if (!condition) return true;
  return condition.split(' AND ').every((part) => {
    const exists = /^attribute_not_exists\((\w+)\)$/.exec(part.trim());
    if (exists) return item?.[exists[1]] === undefined;
    const [left, right] = part.split(' = ').map((s) => s.trim());
    return JSON.stringify(item?.[nameOf(left, e)]) === JSON.stringify(e.ExpressionAttributeValues![right]);
  });
}
function update(
  input: {
    Key: { requestId: AttributeValue };
    UpdateExpression: string;
    ConditionExpression?: string;
  } & Expression,
): void {
  const id = input.Key.requestId.S!;
  const existing = table.get(id);
  if (!holds(existing, input.ConditionExpression, input))
    throw Object.assign(new Error('condition'), { name: 'ConditionalCheckFailedException' });
  const item: Item = { ...(existing ?? { requestId: { S: id } }) };
  const [set, remove] = input.UpdateExpression.replace(/^SET /, '').split(' REMOVE ');
  for (const assignment of set.split(', ')) {
    const [left, right] = assignment.split(' = ');
    item[nameOf(left.trim(), input)] = input.ExpressionAttributeValues![right.trim()];
  }
  for (const name of remove?.split(', ') ?? []) delete item[nameOf(name.trim(), input)];
  table.set(id, item);
}
const dynamodb = {
  send: (command: unknown) => {
    if (command instanceof GetItemCommand)
      return Promise.resolve({ Item: table.get(command.input.Key!.requestId.S!) });
    if (command instanceof ScanCommand) return Promise.resolve({ Items: [...table.values()] });
    if (command instanceof UpdateItemCommand) {
      update(command.input as unknown as Parameters<typeof update>[0]);
      return Promise.resolve({});
    }
    throw new Error(`unexpected ${String(command)}`);
  },
} as unknown as Pick<DynamoDBClient, 'send'>;

// ---- the workflow's task integrations, and the desk's way back to it ----
let waiting: Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>;
const sfn = {
  send: (command: unknown) => {
    if (!(command instanceof SendTaskSuccessCommand)) throw new Error('unexpected');
    const task = waiting.get(command.input.taskToken!);
    if (!task) return Promise.reject(Object.assign(new Error('gone'), { name: 'TaskTimedOut' }));
    waiting.delete(command.input.taskToken!);
    task.resolve(JSON.parse(command.input.output!));
    return Promise.resolve({});
  },
} as unknown as Pick<SFNClient, 'send'>;

const worker = makeWorker(new S3Client({}), {
  logBucket: 'aiseg-airlock-log',
  logKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/airlock',
  now: () => new Date('2026-12-01T10:00:00Z'),
});
const calls: TaskCall[] = [];
async function task(call: TaskCall): Promise<unknown> {
  calls.push(call);
  const args = call.args as Record<string, unknown>;
  if (call.resource === 'arn:aws:states:::lambda:invoke') {
    expect(args.FunctionName).toBe(`arn:aws:lambda:eu-west-1:${ACCOUNT}:function:aiseg-airlock-worker`);
    try {
      return { Payload: await worker(args.Payload as WorkerEvent) };
    } catch (err) {
      throw new TaskError('Error', String(err));
    }
  }
  if (call.resource === 'arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken') {
    const input = args as { Item: Item; ConditionExpression: string };
    const id = input.Item.requestId.S!;
    if (!holds(table.get(id), input.ConditionExpression, {}))
      throw new TaskError('DynamoDb.ConditionalCheckFailedException');
    for (const [name, value] of Object.entries(input.Item)) {
      // DynamoDB refuses an attribute without a value.
      if (Object.values(value)[0] === undefined) throw new TaskError('DynamoDb.ValidationException', name);
    }
    table.set(id, input.Item);
    expect(call.timeoutSeconds).toBe(14 * 24 * 3600);
    return new Promise((resolve, reject) => waiting.set(call.token!, { resolve, reject }));
  }
  if (call.resource === 'arn:aws:states:::aws-sdk:dynamodb:getItem') {
    const input = args as { Key: { requestId: AttributeValue }; ConsistentRead: boolean };
    expect(input.ConsistentRead).toBe(true);
    return { Item: table.get(input.Key.requestId.S!) };
  }
  if (call.resource === 'arn:aws:states:::aws-sdk:dynamodb:updateItem') {
    try {
      update(args as unknown as Parameters<typeof update>[0]);
    } catch (err) {
      throw new TaskError('DynamoDb.ConditionalCheckFailedException', String(err));
    }
    return {};
  }
  throw new Error(`unexpected resource ${call.resource}`);
}

const desk = makeDesk(
  { dynamodb, sfn },
  { table: 'requests', importBucket: IMPORT, importerRole: IMPORTER.role, reviewerRole: REVIEWER.role },
  () => undefined,
);
const decide = (
  who: { userArn: string; userId: string },
  requestId: string,
  body: unknown,
): Promise<{ statusCode: number; body: string }> =>
  desk({
    rawPath: `/requests/${requestId}/decision`,
    body: JSON.stringify(body),
    requestContext: { http: { method: 'POST' }, authorizer: { iam: who } },
  } satisfies UrlEvent);

/** A GuardDuty Malware Protection scan result for an object of the import zone. */
function scanResult(key: string, status: string, versionId?: string) {
  return {
    source: 'aws.guardduty',
    'detail-type': 'GuardDuty Malware Protection Object Scan Result',
    detail: {
      schemaVersion: '1.0',
      scanStatus: status === 'NO_THREATS_FOUND' || status === 'THREATS_FOUND' ? 'COMPLETED' : 'SKIPPED',
      resourceType: 'S3_OBJECT',
      s3ObjectDetails: { bucketName: IMPORT, objectKey: key, eTag: 'e', versionId, s3Throttled: false },
      scanResultDetails: {
        scanResultStatus: status,
        threats: status === 'THREATS_FOUND' ? [{ name: 'EICAR-Test-File' }] : null,
      },
    },
  };
}

/** The request of an object version: one per version, however often its scan result comes. */
const requestOf = (key: string, versionId: string) =>
  createHash('sha256').update(`${IMPORT}/${key}?${versionId}`).digest('hex');

/**
 * Uploads as the importer, tags the object as GuardDuty does with `status` (or `tagged`, for a
 * scan result that does not match the object), and starts the workflow with the scan result.
 */
function upload(
  kind: 'dataset' | 'model',
  path: string,
  body: Uint8Array,
  status = 'NO_THREATS_FOUND',
  tagged = status,
) {
  const key = importKey(session(IMPORTER, 'alice').userId, kind, path);
  const object = store(IMPORT, key, body);
  object.tags = { GuardDutyMalwareScanStatus: tagged };
  const start = () =>
    execute(DEFINITION, scanResult(key, status, object.versionId), task, { executionName: 'execution-1' });
  return { key, object, id: requestOf(key, object.versionId), execution: start(), again: start };
}

/** Lets the execution run until it waits for a decision (or ends). */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
}
const logRecords = () =>
  [...bucket('aiseg-airlock-log').entries()].map(([key, o]) => ({
    key,
    ...(JSON.parse(new TextDecoder().decode(o.body)) as Record<string, unknown>),
  }));
const CSV = new TextEncoder().encode('patient_id,age\n1,44\n');

beforeEach(() => {
  s3.reset();
  fakeS3();
  buckets = new Map();
  table = new Map();
  waiting = new Map();
  calls.length = 0;
});

describe('the import workflow', () => {
  test('a clean dataset waits for review, and an approval copies it into raw at its path, recorded', async () => {
    const { key, object, execution, id } = upload('dataset', 'ehr/patients/2026-12.csv', CSV);
    await settle();
    const item = table.get(id)!;
    expect(item).toMatchObject({
      state: { S: 'awaiting-review' },
      requesterId: { S: 'AROAEXAMPLEIMPORTER1:alice' },
      targetZone: { S: 'raw' },
      targetKey: { S: 'ehr/patients/2026-12.csv' },
      versionId: { S: object.versionId },
      size: { N: String(CSV.length) },
    });
    expect(item.codeExecution).toBeUndefined();
    const approval = await decide(session(REVIEWER, 'bob'), id, {
      decision: 'approve',
      reason: 'Agreed extract under DSA-2026-14',
    });
    expect(approval.statusCode).toBe(200);
    const done = await execution;
    expect(done.status).toBe('SUCCEEDED');
    expect(done.path.slice(-4)).toEqual(['HoldCopied', 'RecordCopied', 'MarkCopied', 'Imported']);
    // Copied by the workflow, with the target zone's key and the class of its zone (not a writer's tag).
    const copy = bucket('aiseg-raw').get('ehr/patients/2026-12.csv')!;
    expect(new TextDecoder().decode(copy.body)).toBe(new TextDecoder().decode(CSV));
    expect(copy.sse).toBe('arn:aws:kms:eu-west-1:123456789012:key/raw');
    expect(copy.tags).toEqual({ 'airlock-request': id, DataClassification: 'phi' });
    expect(bucket(IMPORT).get(key)!.tags['airlock-state']).toBe('copied');
    expect(table.get(id)).toMatchObject({ state: { S: 'copied' } });
    expect(table.get(id)!.taskToken).toBeUndefined();
    const [record] = logRecords();
    expect(record).toMatchObject({
      key: `decisions/2026/12/01/${id}/2026-12-01T10:00:00.000Z-copied.json`,
      event: 'copied',
      decision: { decision: 'approve', reviewerArn: session(REVIEWER, 'bob').userArn },
      inspected: { checksum: { crc64nvme: object.crc } },
      copied: { bucket: 'aiseg-raw', key: 'ehr/patients/2026-12.csv' },
    });
  });

  test.each(['THREATS_FOUND', 'UNSUPPORTED', 'ACCESS_DENIED', 'FAILED'])(
    'a scan result of %s is quarantined: held with the finding, recorded, never inspected or offered for review',
    async (status) => {
      const { key, execution, id } = upload('dataset', 'ehr/patients/x.csv', CSV, status);
      const done = await execution;
      expect(done.status).toBe('SUCCEEDED');
      expect(done.path).toEqual([
        'Received',
        'Scanned',
        'HoldQuarantined',
        'RecordQuarantined',
        'MarkQuarantined',
        'Held',
      ]);
      expect(
        calls.some((c) => (c.args as { Payload?: { action?: string } }).Payload?.action === 'inspect'),
      ).toBe(false);
      // Added to GuardDuty's tag, never in place of it: the bucket policy keyed on it still holds.
      expect(bucket(IMPORT).get(key)!.tags).toEqual({
        GuardDutyMalwareScanStatus: status,
        'airlock-state': 'quarantined',
        'airlock-reason': expect.stringContaining(status),
      });
      expect(table.get(id)).toMatchObject({
        state: { S: 'quarantined' },
        requesterId: { S: 'AROAEXAMPLEIMPORTER1:alice' },
        scan: { S: status },
      });
      expect(logRecords()[0]).toMatchObject({ event: 'quarantined', scan: status });
      expect(bucket('aiseg-raw').size).toBe(0);
    },
  );

  test('a pickle model is held until the reviewer accepts that it runs code, then lands under imported/', async () => {
    const pickle = Uint8Array.from([0x80, 0x04, 0x95, 0x10, 0x00]);
    const { execution, id } = upload('model', 'vendor/llm/model.safetensors', pickle);
    await settle();
    expect(table.get(id)!.codeExecution).toEqual({
      S: 'its content is a Python pickle, whatever its name',
    });
    const plain = await decide(session(REVIEWER, 'bob'), id, {
      decision: 'approve',
      reason: 'needed for eval',
    });
    expect(plain.statusCode).toBe(422);
    expect(table.get(id)).toMatchObject({ state: { S: 'awaiting-review' } });
    const accepted = await decide(session(REVIEWER, 'bob'), id, {
      decision: 'approve',
      reason: 'needed for eval',
      codeExecutionAccepted: 'Vendor checkpoint, loaded only in a training segment without internet',
    });
    expect(accepted.statusCode).toBe(200);
    expect((await execution).status).toBe('SUCCEEDED');
    expect(bucket('aiseg-models').get('imported/vendor/llm/model.safetensors')!.tags).toEqual({
      'airlock-request': id,
      DataClassification: 'proprietary',
    });
  });

  test('the requester cannot approve; a decision sent past the desk is refused by the workflow', async () => {
    const { key, execution, id } = upload('dataset', 'ehr/patients/y.csv', CSV);
    await settle();
    // The importer's person in the reviewer role: refused at the desk.
    const self = await decide(session(REVIEWER, 'alice'), id, {
      decision: 'approve',
      reason: 'my own upload',
    });
    expect(self.statusCode).toBe(403);
    expect(table.get(id)).toMatchObject({ state: { S: 'awaiting-review' } });
    // Someone who got hold of the token (an execution's history shows it) hands back an approval
    // in a reviewer's name: the desk recorded no such decision, and the workflow reads the record.
    await sfn.send(
      new SendTaskSuccessCommand({
        taskToken: table.get(id)!.taskToken.S,
        output: JSON.stringify({
          decision: 'approve',
          reason: 'forged',
          reviewerArn: session(REVIEWER, 'bob').userArn,
          reviewerId: session(REVIEWER, 'bob').userId,
          decidedAt: '2026-12-01T10:00:00Z',
        }),
      }),
    );
    const done = await execution;
    expect(done.path).toEqual(expect.arrayContaining(['Recorded', 'AsRecorded', 'HoldQuarantined']));
    expect(bucket(IMPORT).get(key)!.tags['airlock-reason']).toContain('a decision the desk did not record');
    expect(bucket('aiseg-raw').size).toBe(0);
  });

  test('the same scan result delivered twice opens one request; the second execution ends at once', async () => {
    const { again, id } = upload('dataset', 'ehr/patients/twice.csv', CSV);
    await settle();
    const second = await again();
    expect(second.path.slice(-2)).toEqual(['AwaitReview', 'Duplicate']);
    expect(table.get(id)).toMatchObject({ state: { S: 'awaiting-review' } });
    expect(waiting.size).toBe(1);
  });

  test('a clean scan result for an object GuardDuty did not find clean: the copy refuses it', async () => {
    // Started with a result that says clean, for an object whose own tag says otherwise.
    const { key, execution, id } = upload(
      'dataset',
      'ehr/patients/forged.csv',
      CSV,
      'NO_THREATS_FOUND',
      'FAILED',
    );
    await settle();
    await decide(session(REVIEWER, 'bob'), id, {
      decision: 'approve',
      reason: 'looks like the agreed extract',
    });
    const done = await execution;
    expect(done.error).toBe('Airlock.CopyFailed');
    expect(bucket(IMPORT).get(key)!.tags['airlock-reason']).toContain('GuardDutyMalwareScanStatus=FAILED');
    expect(bucket('aiseg-raw').size).toBe(0);
  });

  test('a rejection holds the object with the reason; nothing is copied', async () => {
    const { key, execution, id } = upload('dataset', 'ehr/patients/z.csv', CSV);
    await settle();
    expect(
      (
        await decide(session(REVIEWER, 'bob'), id, {
          decision: 'reject',
          reason: 'no agreement covers it',
        })
      ).statusCode,
    ).toBe(200);
    const done = await execution;
    expect(done.path.slice(-4)).toEqual(['HoldRejected', 'RecordRejected', 'MarkRejected', 'Refused']);
    expect(bucket(IMPORT).get(key)!.tags['airlock-state']).toBe('rejected');
    expect(bucket('aiseg-raw').size).toBe(0);
    expect(logRecords()[0]).toMatchObject({
      event: 'rejected',
      reason: expect.stringContaining('no agreement covers it'),
    });
  });

  test('no decision in time: the request expires and the object stays held', async () => {
    const { key, execution, id } = upload('dataset', 'ehr/patients/late.csv', CSV);
    await settle();
    const [token] = [...waiting.keys()];
    waiting.get(token)!.reject(new TaskError('States.Timeout'));
    const done = await execution;
    expect(done.path.slice(-4)).toEqual(['HoldExpired', 'RecordExpired', 'MarkExpired', 'Lapsed']);
    expect(bucket(IMPORT).get(key)!.tags['airlock-state']).toBe('expired');
    // The desk can no longer decide it.
    const late = await decide(session(REVIEWER, 'bob'), id, {
      decision: 'approve',
      reason: 'sorry, late',
    });
    expect(late.statusCode).toBe(409);
  });

  test('an object outside the key layout is quarantined with the reason', async () => {
    const key = 'incoming/not-a-session/dataset/x.csv';
    const object = store(IMPORT, key, CSV);
    const done = await execute(DEFINITION, scanResult(key, 'NO_THREATS_FOUND', object.versionId), task);
    expect(done.path).toContain('HoldQuarantined');
    expect(table.get(requestOf(key, object.versionId))).toMatchObject({
      state: { S: 'quarantined' },
      reason: { S: expect.stringContaining('names no role session') },
    });
  });

  test('a copy that cannot be made (the target exists) fails the execution, held and recorded', async () => {
    store('aiseg-raw', 'ehr/patients/dup.csv', CSV);
    const { key, execution, id } = upload('dataset', 'ehr/patients/dup.csv', CSV);
    await settle();
    await decide(session(REVIEWER, 'bob'), id, { decision: 'approve', reason: 'second extract of it' });
    const done = await execution;
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Airlock.CopyFailed');
    expect(bucket(IMPORT).get(key)!.tags['airlock-state']).toBe('copy-failed');
    expect(logRecords()[0]).toMatchObject({
      event: 'copy-failed',
      reason: expect.stringContaining('PreconditionFailed'),
    });
  });
});
