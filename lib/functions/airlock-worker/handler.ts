import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCopyCommand,
  AbortMultipartUploadCommand,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  codeExecution,
  parseImportKey,
  recordKey,
  REASON_TAG,
  sameRequester,
  STATE_TAG,
} from '../../airlock';

/**
 * The airlock workflows' hands: a state machine calls it to inspect an object it was told of,
 * to hold one (tag it with its state and the reason), to copy one (an approved import into its
 * target zone; an export's object into the export zone, and an approved one to its destination
 * outside), and to write a record into the Object-Lock decision log. People never call it. The
 * import worker and the exporter run this code as two functions, each with its own role.
 */

export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

export type WorkerEvent =
  | { readonly action: 'inspect'; readonly object: ObjectRef }
  | { readonly action: 'hold'; readonly object: ObjectRef; readonly state: string; readonly reason: string }
  | {
      readonly action: 'copy';
      readonly source: ObjectRef;
      readonly target: CopyTarget;
      /** Tags of the copy: its request and the class of data it holds (from its source, never from a writer). */
      readonly tags: Readonly<Record<string, string>>;
      /** Tags the source version must carry to be copied at all (an import: GuardDuty's clean scan). */
      readonly requireTags?: Readonly<Record<string, string>>;
      /** The request whose recorded approval a copy to a bucket outside needs. */
      readonly approval?: { readonly requestId: string };
    }
  | {
      readonly action: 'record';
      readonly requestId: string;
      readonly event: string;
      readonly record: Readonly<Record<string, unknown>>;
    };

/**
 * Where a copy goes: a zone of the blueprint (encrypted with the zone's key, never over an object
 * it has), or a bucket outside (`expectedOwner`: the copy goes nowhere if another account owns a
 * bucket of that name; encrypted as that bucket's default says; the key names the request, so
 * nothing there is written over).
 */
export type CopyTarget =
  | { readonly bucket: string; readonly key: string; readonly kmsKeyArn: string }
  | { readonly bucket: string; readonly key: string; readonly expectedOwner: string };

export interface WorkerConfig {
  /** The Object-Lock bucket of decisions, its key, and the prefix this function records under. */
  readonly logBucket: string;
  readonly logKeyArn: string;
  readonly recordPrefix?: string;
  /** Objects up to this size are copied in one part; larger ones in parts of it. */
  readonly partBytes?: number;
  /**
   * The requests table, which the exporter reads a decision from before it sends anything out, and
   * the worker before it copies anything out of the import zone.
   */
  readonly requests?: { readonly table: string; readonly dynamodb: Pick<DynamoDBClient, 'send'> };
  /** The import zone: a copy out of it needs its request's recorded approval. */
  readonly importBucket?: string;
  /** The bucket of each zone an import may be approved into (`raw`, `models`). */
  readonly importTargets?: Readonly<Record<string, string>>;
  readonly now?: () => Date;
}

/** Where a copy is written: with a zone's key, or into a bucket that must be the expected account's. */
interface Placement {
  readonly ServerSideEncryption?: 'aws:kms';
  readonly SSEKMSKeyId?: string;
  readonly BucketKeyEnabled?: boolean;
  readonly ExpectedBucketOwner?: string;
}

/** A part of a multipart copy is at most 5 GiB: objects up to that go in one part, larger ones in parts of it. */
const PART_BYTES = 5 * 1024 ** 3;
/** Parts copied at once: a 100 GiB model copies in about the time of five parts. */
const PARTS_AT_ONCE = 4;
/** Bytes read from the start of an object to tell what it holds. */
const HEAD_BYTES = 4096;

/** A tag value S3 accepts: at most 256 of letters, digits, spaces and + - = . _ : / @. */
export function tagValue(text: string): string {
  return text.replace(/[^\p{L}\p{N} +\-=._:/@]/gu, ' ').slice(0, 256);
}

/** The object's full-object checksum, as S3 keeps it (CRC-64/NVME on every new object), with its kind. */
function checksumOf(head: HeadObjectCommandOutput): Record<string, string> {
  const all: Record<string, string | undefined> = {
    crc64nvme: head.ChecksumCRC64NVME,
    sha256: head.ChecksumSHA256,
    crc32: head.ChecksumCRC32,
    crc32c: head.ChecksumCRC32C,
    sha1: head.ChecksumSHA1,
  };
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) if (value) out[name] = value;
  return out;
}

export function makeWorker(s3: Pick<S3Client, 'send'>, config: WorkerConfig) {
  const now = config.now ?? (() => new Date());
  const head = (o: ObjectRef) =>
    s3.send(
      new HeadObjectCommand({
        Bucket: o.bucket,
        Key: o.key,
        VersionId: o.versionId,
        ChecksumMode: 'ENABLED',
      }),
    );

  async function inspect(object: ObjectRef) {
    const parsed = parseImportKey(object.key);
    const meta = await head(object);
    const size = meta.ContentLength ?? 0;
    let first: Uint8Array = new Uint8Array();
    if (size > 0) {
      const got = await s3.send(
        new GetObjectCommand({
          Bucket: object.bucket,
          Key: object.key,
          VersionId: object.versionId,
          Range: `bytes=0-${Math.min(size, HEAD_BYTES) - 1}`,
        }),
      );
      first = got.Body ? await got.Body.transformToByteArray() : new Uint8Array();
    }
    const runsCode = 'error' in parsed ? undefined : codeExecution(parsed.path, first);
    return {
      ...('error' in parsed ? { error: parsed.error } : { object: parsed }),
      size,
      versionId: meta.VersionId ?? object.versionId,
      etag: meta.ETag,
      checksum: checksumOf(meta),
      ...(runsCode ? { codeExecution: runsCode } : {}),
    };
  }

  /** The tags of one version of an object, by key. */
  async function tagsOf(o: ObjectRef): Promise<Record<string, string>> {
    const got = await s3.send(
      new GetObjectTaggingCommand({ Bucket: o.bucket, Key: o.key, VersionId: o.versionId }),
    );
    return Object.fromEntries((got.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  }

  async function hold(object: ObjectRef, state: string, reason: string) {
    // Added to the object's tags, never in place of them: GuardDuty's scan status stays, and with
    // it the bucket policy that keeps what malware was found in from every reader but the scanner.
    const tags = { ...(await tagsOf(object)), [STATE_TAG]: tagValue(state), [REASON_TAG]: tagValue(reason) };
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: object.bucket,
        Key: object.key,
        VersionId: object.versionId,
        Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      }),
    );
    return { held: state };
  }

  /**
   * Copies one version of an object, always as a multipart copy: its completion is a conditional
   * write (`If-None-Match: *`, so the copy never replaces an object), and S3 checks the full-object
   * CRC-64/NVME of the copy against the source's. Nothing is read back from the target, which the
   * copier may not read (raw, models, a bucket outside).
   */
  /**
   * Refuses a copy to a bucket outside unless its request, as the desk recorded it (a table only
   * the desk and the workflow write), was approved by someone other than its requester, for this
   * very staged version and this destination: whoever invokes this function, nothing else leaves.
   */
  async function recorded(event: Extract<WorkerEvent, { action: 'copy' }>, what: string) {
    const { approval } = event;
    if (!config.requests || !approval)
      throw new Error(`a copy ${what} needs its request and the requests table`);
    const { Item: item } = await config.requests.dynamodb.send(
      new GetItemCommand({
        TableName: config.requests.table,
        Key: { requestId: { S: approval.requestId } },
        ConsistentRead: true,
      }),
    );
    return { requestId: approval.requestId, item };
  }

  /**
   * Refuses a copy out of the import zone unless its request, as the desk recorded it, is an
   * approved import of this very version, to this very key, approved by someone other than its
   * uploader: whoever invokes this function with a request of their own making, nothing unreviewed
   * reaches raw or models (a clean scan alone is not a review).
   */
  async function importApproved(event: Extract<WorkerEvent, { action: 'copy' }>): Promise<void> {
    const { source, target } = event;
    const { requestId, item } = await recorded(event, 'out of the import zone');
    const why = !item
      ? 'there is no such request'
      : item.kind?.S !== 'import' || item.state?.S !== 'approved'
        ? `it is ${item.state?.S ?? 'in no state'}, not an approved import`
        : item.objectBucket?.S !== source.bucket ||
            item.objectKey?.S !== source.key ||
            item.versionId?.S !== source.versionId
          ? 'the object is not the one reviewed'
          : item.targetKey?.S !== target.key ||
              config.importTargets?.[item.targetZone?.S ?? ''] !== target.bucket
            ? 'the target is not the one reviewed'
            : sameRequester(item.requesterId?.S ?? '', item.reviewerId?.S ?? '');
    if (why) throw new Error(`request ${requestId} may not be copied: ${why}`);
  }

  async function approved(event: Extract<WorkerEvent, { action: 'copy' }>): Promise<void> {
    const { source, target } = event;
    const { requestId, item } = await recorded(event, 'out of the blueprint');
    const why = !item
      ? 'there is no such request'
      : item.kind?.S !== 'export' || item.state?.S !== 'approved'
        ? `it is ${item.state?.S ?? 'in no state'}, not an approved export`
        : item.objectBucket?.S !== source.bucket ||
            item.objectKey?.S !== source.key ||
            item.versionId?.S !== source.versionId
          ? 'the object is not the one staged for its review'
          : item.destination?.S !== `s3://${target.bucket}/${target.key}`
            ? 'the destination is not the one reviewed'
            : sameRequester(item.requesterId?.S ?? '', item.reviewerId?.S ?? '');
    if (why) throw new Error(`request ${requestId} may not be sent: ${why}`);
  }

  async function copy(event: Extract<WorkerEvent, { action: 'copy' }>) {
    const { source, target } = event;
    if ('expectedOwner' in target) await approved(event);
    else if (config.importBucket !== undefined && source.bucket === config.importBucket)
      await importApproved(event);
    const from = await head(source);
    for (const [tag, value] of Object.entries(event.requireTags ?? {})) {
      const tags = await tagsOf(source);
      if (tags[tag] !== value)
        throw new Error(
          `${source.bucket}/${source.key} is tagged ${tag}=${tags[tag] ?? '(none)'}, not ${value}`,
        );
    }
    // S3 keeps the checksum an object was written with: CRC-64/NVME unless the writer chose another
    // (the pseudonymization stage writes SHA-256). The copy's full-object CRC-64/NVME, which S3
    // computes from the parts, is checked against the source's when it has one; else the source
    // version is pinned by its ETag, and the copy's checksum is what the next copy checks.
    const want = from.ChecksumCRC64NVME;
    // The version looked at is the version copied, when the caller named none (an export's source).
    const versionId = source.versionId ?? from.VersionId;
    const copySource = `${source.bucket}/${encodeURIComponent(source.key)}${
      versionId ? `?versionId=${encodeURIComponent(versionId)}` : ''
    }`;
    const placement: Placement =
      'expectedOwner' in target
        ? { ExpectedBucketOwner: target.expectedOwner }
        : { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: target.kmsKeyArn, BucketKeyEnabled: true };
    const owner = placement.ExpectedBucketOwner ? { ExpectedBucketOwner: placement.ExpectedBucketOwner } : {};
    const size = from.ContentLength ?? 0;
    const partBytes = config.partBytes ?? PART_BYTES;
    const upload = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: target.bucket,
        Key: target.key,
        Tagging: new URLSearchParams(event.tags).toString(),
        ChecksumAlgorithm: 'CRC64NVME',
        ChecksumType: 'FULL_OBJECT',
        ...placement,
      }),
    );
    try {
      // One part up to the part size (an empty object too), else ranges of it, a few at a time.
      const ranges: (string | undefined)[] = [];
      if (size <= partBytes) ranges.push(undefined);
      else
        for (let start = 0; start < size; start += partBytes)
          ranges.push(`bytes=${start}-${Math.min(start + partBytes, size) - 1}`);
      const parts: { PartNumber: number; ETag?: string }[] = [];
      let next = 0;
      const copier = async () => {
        while (next < ranges.length) {
          const n = ++next;
          const range = ranges[n - 1];
          const part = await s3.send(
            new UploadPartCopyCommand({
              Bucket: target.bucket,
              Key: target.key,
              UploadId: upload.UploadId,
              PartNumber: n,
              CopySource: copySource,
              CopySourceIfMatch: from.ETag,
              ...(range ? { CopySourceRange: range } : {}),
              ...owner,
            }),
          );
          parts[n - 1] = { PartNumber: n, ETag: part.CopyPartResult?.ETag };
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARTS_AT_ONCE, ranges.length) }, copier));
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: target.bucket,
          Key: target.key,
          UploadId: upload.UploadId,
          MultipartUpload: { Parts: parts },
          IfNoneMatch: '*',
          ChecksumType: 'FULL_OBJECT',
          ...(want ? { ChecksumCRC64NVME: want } : {}),
          ...owner,
        }),
      );
      const got = done.ChecksumCRC64NVME;
      if (want ? got !== want : !got)
        throw new Error(`the copy's CRC-64/NVME (${got}) is not the reviewed object's (${want})`);
      return {
        bucket: target.bucket,
        key: target.key,
        versionId: done.VersionId,
        size,
        checksum: { crc64nvme: got },
        sourceChecksum: checksumOf(from),
        ...(versionId ? { sourceVersionId: versionId } : {}),
      };
    } catch (err) {
      try {
        await s3.send(
          new AbortMultipartUploadCommand({
            Bucket: target.bucket,
            Key: target.key,
            UploadId: upload.UploadId,
            ...owner,
          }),
        );
      } catch {
        // The upload's parts expire with the bucket's lifecycle rule for incomplete uploads.
      }
      throw err;
    }
  }

  async function record(event: Extract<WorkerEvent, { action: 'record' }>) {
    const at = now().toISOString();
    const key = recordKey(event.requestId, event.event, at, config.recordPrefix);
    await s3.send(
      new PutObjectCommand({
        Bucket: config.logBucket,
        Key: key,
        Body: JSON.stringify({ requestId: event.requestId, event: event.event, at, ...event.record }),
        ContentType: 'application/json',
        // Object Lock needs a checksum with each write; a record is never written over.
        ChecksumAlgorithm: 'SHA256',
        IfNoneMatch: '*',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: config.logKeyArn,
      }),
    );
    return { recorded: key };
  }

  return async (event: WorkerEvent) => {
    switch (event.action) {
      case 'inspect':
        return inspect(event.object);
      case 'hold':
        return hold(event.object, event.state, event.reason);
      case 'copy':
        return copy(event);
      case 'record':
        return record(event);
      default:
        throw new Error(`unknown action ${String((event as { action?: unknown }).action)}`);
    }
  };
}

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

let worker: ReturnType<typeof makeWorker> | undefined;

export const handler = async (event: WorkerEvent) => {
  worker ??= makeWorker(new S3Client({}), {
    logBucket: env('DECISION_LOG_BUCKET'),
    logKeyArn: env('DECISION_LOG_KEY_ARN'),
    recordPrefix: env('DECISION_LOG_PREFIX'),
    ...(process.env.REQUESTS_TABLE
      ? { requests: { table: process.env.REQUESTS_TABLE, dynamodb: new DynamoDBClient({}) } }
      : {}),
    ...(process.env.IMPORT_BUCKET
      ? {
          importBucket: process.env.IMPORT_BUCKET,
          importTargets: { raw: env('IMPORT_TARGET_RAW'), models: env('IMPORT_TARGET_MODELS') },
        }
      : {}),
  });
  return worker(event);
};
