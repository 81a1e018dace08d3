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
import { SendTaskSuccessCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { importKey } from '../../../lib/airlock';
import { makeDesk, type UrlEvent } from '../../../lib/functions/airlock-desk/handler';
import { makeWorker, type WorkerEvent } from '../../../lib/functions/airlock-worker/handler';
import { exportWorkflow, importWorkflow } from '../../../lib/stacks/airlock-workflow';
import { execute, substitute, TaskError, type Execution, type TaskCall } from '../../support/states';

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
  Partition: 'aws',
  Worker: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:aiseg-airlock-worker`,
  Requests: 'requests',
  RawBucket: 'aiseg-raw',
  RawKey: 'arn:aws:kms:eu-west-1:123456789012:key/raw',
  RawClass: 'phi',
  ModelsBucket: 'aiseg-models',
  ModelsKey: 'arn:aws:kms:eu-west-1:123456789012:key/models',
  ModelsClass: 'proprietary',
});

/** The export: data scientists ask out of curated (pii), ML engineers out of models; raw is no source. */
const SCIENTIST = { role: 'aiseg-data-scientist', id: 'AROAEXAMPLESCIENCE01' };
const ENGINEER = { role: 'aiseg-ml-engineer', id: 'AROAEXAMPLEENGINEER1' };
const EXPORTER_ARN = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:aiseg-airlock-exporter`;
const EXPORT_DEFINITION = substitute(
  exportWorkflow({
    reviewDays: 14,
    sources: [
      { zone: 'curated', classification: 'pii' },
      { zone: 'models', classification: 'proprietary' },
    ],
  }),
  {
    Partition: 'aws',
    Exporter: EXPORTER_ARN,
    Requests: 'requests',
    ExportBucket: 'aiseg-airlock-export',
    ExportKey: 'arn:aws:kms:eu-west-1:123456789012:key/export',
    DestinationBucket: 'partner-results',
    DestinationPrefix: 'aiseg/',
    DestinationAccount: '210987654321',
    SourceBucketCurated: 'aiseg-curated',
    SourceBucketModels: 'aiseg-models',
  },
);

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
  s3.on(CreateMultipartUploadCommand).callsFake(
    (input: { Bucket: string; Tagging: string; SSEKMSKeyId?: string; ExpectedBucketOwner?: string }) => {
      // The destination outside belongs to the partner's account: any other expected owner is refused.
      if (input.Bucket === 'partner-results' && input.ExpectedBucketOwner !== '210987654321')
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      const id = `u${uploads.size + 1}`;
      uploads.set(id, { tags: input.Tagging, sse: input.SSEKMSKeyId });
      return { UploadId: id };
    },
  );
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
/** The export executions the desk started, by name. */
let started: Map<string, { arn: string; input: unknown; execution: Promise<Execution> }>;
const sfn = {
  send: (command: unknown) => {
    if (command instanceof StartExecutionCommand) {
      const { name, stateMachineArn, input } = command.input;
      if (started.has(name!)) return Promise.reject(new Error('ExecutionAlreadyExists'));
      const parsed: unknown = JSON.parse(input!);
      started.set(name!, {
        arn: stateMachineArn!,
        input: parsed,
        execution: execute(EXPORT_DEFINITION, parsed, task, { executionName: name }),
      });
      return Promise.resolve({ executionArn: `${stateMachineArn}:${name}` });
    }
    if (!(command instanceof SendTaskSuccessCommand)) throw new Error('unexpected');
    const waiter = waiting.get(command.input.taskToken!);
    if (!waiter) return Promise.reject(Object.assign(new Error('gone'), { name: 'TaskTimedOut' }));
    waiting.delete(command.input.taskToken!);
    waiter.resolve(JSON.parse(command.input.output!));
    return Promise.resolve({});
  },
} as unknown as Pick<SFNClient, 'send'>;

const worker = makeWorker(new S3Client({}), {
  logBucket: 'aiseg-airlock-log',
  logKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/airlock',
  now: () => new Date('2026-12-01T10:00:00Z'),
});
const exporter = makeWorker(new S3Client({}), {
  logBucket: 'aiseg-airlock-log',
  logKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/airlock',
  recordPrefix: 'exports/',
  requests: { table: 'requests', dynamodb },
  now: () => new Date('2026-12-01T10:00:00Z'),
});
const calls: TaskCall[] = [];
async function task(call: TaskCall): Promise<unknown> {
  calls.push(call);
  const args = call.args as Record<string, unknown>;
  if (call.resource === 'arn:aws:states:::lambda:invoke') {
    const fn = args.FunctionName === EXPORTER_ARN ? exporter : worker;
    if (fn === worker)
      expect(args.FunctionName).toBe(`arn:aws:lambda:eu-west-1:${ACCOUNT}:function:aiseg-airlock-worker`);
    try {
      return { Payload: await fn(args.Payload as WorkerEvent) };
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
  {
    table: 'requests',
    importBucket: IMPORT,
    importerRole: IMPORTER.role,
    reviewerRole: REVIEWER.role,
    exportWorkflowArn: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:aiseg-airlock-export`,
    requesters: { [SCIENTIST.role]: ['curated'], [ENGINEER.role]: ['models'] },
    newId: () => `00000000-0000-4000-8000-00000000000${++requests}`,
  },
  () => undefined,
);
let requests = 0;
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
  started = new Map();
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

describe('the export workflow', () => {
  const COHORT = new TextEncoder().encode('token,age_band\nq81x,40-49\n');
  /** An export workflow started past the desk (by an administrator), as execution `name`. */
  const pastTheDesk = (source: string, key: string, name: string) =>
    execute(
      EXPORT_DEFINITION,
      { requesterArn: 'x', requesterId: 'AROAX:admin', source, key, reason: 'r' },
      task,
      { executionName: name },
    );
  const ask = (who: { userArn: string; userId: string }, body: unknown) =>
    desk({
      rawPath: '/exports',
      body: JSON.stringify(body),
      requestContext: { http: { method: 'POST' }, authorizer: { iam: who } },
    } satisfies UrlEvent);
  /** Asks, as `who`, for `key` of `source`; returns the request id and its execution. */
  async function request(
    who: { userArn: string; userId: string },
    source: string,
    key: string,
  ): Promise<{ id: string; execution: Promise<Execution> }> {
    const answer = await ask(who, { source, key, reason: 'Results for the partner study PS-7' });
    expect(answer.statusCode).toBe(202);
    const { requestId } = JSON.parse(answer.body) as { requestId: string };
    await settle();
    return { id: requestId, execution: started.get(requestId)!.execution };
  }

  test('a data scientist asks for a curated object: staged with the class of curated, approved, sent to the partner, recorded', async () => {
    const source = store('aiseg-curated', 'cohorts/c7/summary.csv', COHORT);
    const alice = session(SCIENTIST, 'alice');
    const { id, execution } = await request(alice, 'curated', 'cohorts/c7/summary.csv');
    expect(started.get(id)!.input).toMatchObject({ requesterArn: alice.userArn, requesterId: alice.userId });
    const staged = bucket('aiseg-airlock-export').get(`outgoing/${id}/cohorts/c7/summary.csv`)!;
    // Its class is curated's, set by the workflow from the configuration: pii.
    expect(staged.tags).toEqual({
      'airlock-request': id,
      DataClassification: 'pii',
      'airlock-source': 'curated',
    });
    expect(staged.sse).toBe('arn:aws:kms:eu-west-1:123456789012:key/export');
    expect(table.get(id)).toMatchObject({
      kind: { S: 'export' },
      state: { S: 'awaiting-review' },
      requesterId: { S: alice.userId },
      source: { S: 'curated' },
      sourceVersionId: { S: source.versionId },
      classification: { S: 'pii' },
      destination: { S: `s3://partner-results/aiseg/${id}/cohorts/c7/summary.csv` },
    });
    expect(
      (
        await decide(session(REVIEWER, 'carol'), id, {
          decision: 'approve',
          reason: 'Aggregates only, k>=10',
        })
      ).statusCode,
    ).toBe(200);
    const done = await execution;
    expect(done.status).toBe('SUCCEEDED');
    expect(done.path.slice(-4)).toEqual(['HoldSent', 'RecordSent', 'MarkSent', 'Exported']);
    const sent = bucket('partner-results').get(`aiseg/${id}/cohorts/c7/summary.csv`)!;
    expect(new TextDecoder().decode(sent.body)).toBe(new TextDecoder().decode(COHORT));
    expect(sent.tags).toEqual({ 'airlock-request': id, DataClassification: 'pii' });
    expect(sent.sse).toBeUndefined();
    expect(staged.tags['airlock-state']).toBe('sent');
    expect(table.get(id)).toMatchObject({ state: { S: 'sent' }, requesterId: { S: alice.userId } });
    const [record] = logRecords();
    expect(record).toMatchObject({
      key: `exports/2026/12/01/${id}/2026-12-01T10:00:00.000Z-sent.json`,
      event: 'sent',
      request: { source: 'curated', key: 'cohorts/c7/summary.csv', requesterArn: alice.userArn },
      decision: { decision: 'approve', reviewerArn: session(REVIEWER, 'carol').userArn },
      sent: { bucket: 'partner-results', key: `aiseg/${id}/cohorts/c7/summary.csv` },
    });
  });

  test('phi is refused: no role may ask out of raw, and a request that names it anyway stages nothing', async () => {
    store('aiseg-raw', 'ehr/patients/2026-12.csv', CSV);
    const refused = await ask(session(SCIENTIST, 'alice'), {
      source: 'raw',
      key: 'ehr/patients/2026-12.csv',
      reason: 'Please send the patients file',
    });
    expect(refused.statusCode).toBe(403);
    expect(started.size).toBe(0);
    // Started past the desk (by an administrator), the workflow knows no source of that name.
    const done = await pastTheDesk('raw', 'ehr/patients/2026-12.csv', 'past-the-desk');
    expect(done.path).toEqual(['Received', 'Known', 'RecordUnstaged', 'MarkUnstaged', 'NotStaged']);
    expect(bucket('aiseg-airlock-export').size).toBe(0);
    expect(bucket('partner-results').size).toBe(0);
    expect(table.get('past-the-desk')).toMatchObject({
      state: { S: 'refused' },
      reason: { S: 'the source raw is not a zone the airlock exports from, or the key not one it exports' },
    });
    // Nor a key outside the layout, whoever starts it.
    const traversal = await pastTheDesk('curated', '../raw/a.csv', 'traversal');
    expect(traversal.path).toEqual(['Received', 'Known', 'RecordUnstaged', 'MarkUnstaged', 'NotStaged']);
    expect(logRecords()[0]).toMatchObject({
      event: 'refused',
      key: expect.stringMatching(/^exports\//) as unknown,
    });
  });

  test('each requester asks out of their own zone only; a key outside the layout, or under a prefix never exported, is refused', async () => {
    store('aiseg-models', 'release/llm/model.safetensors', CSV);
    expect(
      (
        await ask(session(SCIENTIST, 'alice'), {
          source: 'models',
          key: 'release/llm/model.safetensors',
          reason: 'the model please',
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await ask(session(IMPORTER, 'dora'), {
          source: 'curated',
          key: 'a.csv',
          reason: 'an importer asking',
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await ask(session(SCIENTIST, 'alice'), {
          source: 'curated',
          key: '../raw/a.csv',
          reason: 'a key outside',
        })
      ).statusCode,
    ).toBe(400);
    // What inference endpoints capture, and what the airlock imported, never leave.
    for (const key of [
      'data-capture/acme-ai-risk-model/2026/12/01/x.jsonl',
      'imported/llm/model.safetensors',
    ])
      expect(
        (await ask(session(ENGINEER, 'erin'), { source: 'models', key, reason: 'the capture please' }))
          .statusCode,
      ).toBe(403);
    expect(started.size).toBe(0);
    // Nor does the workflow stage them, whoever starts it.
    const capture = await pastTheDesk('models', 'data-capture/x.jsonl', 'capture');
    expect(capture.path).toEqual(['Received', 'Known', 'RecordUnstaged', 'MarkUnstaged', 'NotStaged']);
    const { execution } = await request(session(ENGINEER, 'erin'), 'models', 'release/llm/model.safetensors');
    expect(
      bucket('aiseg-airlock-export').get(`outgoing/${[...started.keys()][0]}/release/llm/model.safetensors`)!
        .tags.DataClassification,
    ).toBe('proprietary');
    void execution;
  });

  test('the requester cannot approve; a forged decision is refused by the workflow; nothing is sent', async () => {
    store('aiseg-curated', 'cohorts/c7/summary.csv', COHORT);
    const alice = session(SCIENTIST, 'alice');
    const { id, execution } = await request(alice, 'curated', 'cohorts/c7/summary.csv');
    expect((await decide(alice, id, { decision: 'approve', reason: 'my own results' })).statusCode).toBe(403);
    // A reviewer session named as the requester's: the same person.
    expect(
      (await decide(session(REVIEWER, 'alice'), id, { decision: 'approve', reason: 'my own results' }))
        .statusCode,
    ).toBe(403);
    // A token sent past the desk, naming a reviewer: the table does not hold that decision.
    const token = table.get(id)!.taskToken.S!;
    await sfn.send(
      new SendTaskSuccessCommand({
        taskToken: token,
        output: JSON.stringify({
          decision: 'approve',
          reason: 'forged',
          reviewerArn: 'x',
          reviewerId: `${REVIEWER.id}:carol`,
          decidedAt: '2026-12-01T10:00:00.000Z',
        }),
      }),
    );
    const done = await execution;
    expect(done.path.slice(-5)).toEqual([
      'AsRecorded',
      'HoldRefused',
      'RecordRefused',
      'MarkRefused',
      'Held',
    ]);
    expect(bucket('partner-results').size).toBe(0);
    expect(table.get(id)).toMatchObject({ state: { S: 'refused' } });
  });

  test('a rejection keeps the staged copy with the reason; a send the destination refuses fails the execution, recorded', async () => {
    store('aiseg-curated', 'cohorts/c7/summary.csv', COHORT);
    const first = await request(session(SCIENTIST, 'alice'), 'curated', 'cohorts/c7/summary.csv');
    await decide(session(REVIEWER, 'carol'), first.id, {
      decision: 'reject',
      reason: 'Row-level tokens; aggregates only',
    });
    expect((await first.execution).path.slice(-1)).toEqual(['NotSent']);
    expect(
      bucket('aiseg-airlock-export').get(`outgoing/${first.id}/cohorts/c7/summary.csv`)!.tags[
        'airlock-state'
      ],
    ).toBe('rejected');
    expect(bucket('partner-results').size).toBe(0);
    // The destination already holds the request's key (it is never written over).
    const second = await request(session(SCIENTIST, 'alice'), 'curated', 'cohorts/c7/summary.csv');
    store('partner-results', `aiseg/${second.id}/cohorts/c7/summary.csv`, CSV);
    await decide(session(REVIEWER, 'carol'), second.id, {
      decision: 'approve',
      reason: 'Aggregates only, k>=10',
    });
    const done = await second.execution;
    expect(done.status).toBe('FAILED');
    expect(table.get(second.id)).toMatchObject({ state: { S: 'send-failed' } });
    expect(logRecords().map((r) => (r as { event?: string }).event)).toEqual(['rejected', 'send-failed']);
  });

  test("the record is the desk's: a token's sender who matches the decision cannot write another reviewer or reason into the log", async () => {
    store('aiseg-curated', 'cohorts/c7/summary.csv', COHORT);
    const { id, execution } = await request(session(SCIENTIST, 'alice'), 'curated', 'cohorts/c7/summary.csv');
    const token = table.get(id)!.taskToken.S!;
    // The desk's record of an approval, as it writes it before it resumes the workflow.
    const carol = session(REVIEWER, 'carol');
    update({
      Key: { requestId: { S: id } },
      UpdateExpression:
        'SET #state = :state, reviewerArn = :arn, reviewerId = :id, reviewReason = :reason, decidedAt = :at',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':state': { S: 'approved' },
        ':arn': { S: carol.userArn },
        ':id': { S: carol.userId },
        ':reason': { S: 'Aggregates only, k>=10' },
        ':at': { S: '2026-12-01T10:00:00.000Z' },
      },
    });
    // Someone who read the token resumes the workflow first, with the same decision and another story.
    await sfn.send(
      new SendTaskSuccessCommand({
        taskToken: token,
        output: JSON.stringify({
          decision: 'approve',
          reason: 'forged reason',
          reviewerArn: 'arn:aws:sts::123456789012:assumed-role/someone/else',
          reviewerId: carol.userId,
          decidedAt: '2026-12-01T10:00:00.000Z',
        }),
      }),
    );
    expect((await execution).status).toBe('SUCCEEDED');
    expect(logRecords()[0]).toMatchObject({
      event: 'sent',
      decision: { reason: 'Aggregates only, k>=10', reviewerArn: carol.userArn },
    });
  });
});
