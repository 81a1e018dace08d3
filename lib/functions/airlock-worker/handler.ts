import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCopyCommand,
  AbortMultipartUploadCommand,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { codeExecution, parseImportKey, recordKey, REASON_TAG, STATE_TAG } from '../../airlock';

/**
 * The airlock workflow's hands: the state machine calls it to inspect an object it was told of,
 * to hold one (tag it with its state and the reason), to copy an approved one into its target
 * zone, and to write a record into the Object-Lock decision log. People never call it.
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
      readonly target: { readonly bucket: string; readonly key: string; readonly kmsKeyArn: string };
      /** Tags of the copy: its request and the class of data it holds (from its source, never from a writer). */
      readonly tags: Readonly<Record<string, string>>;
    }
  | {
      readonly action: 'record';
      readonly requestId: string;
      readonly event: string;
      readonly record: Readonly<Record<string, unknown>>;
    };

export interface WorkerConfig {
  /** The Object-Lock bucket of decisions, and its key. */
  readonly logBucket: string;
  readonly logKeyArn: string;
  /** Objects up to this size are copied in one request; larger ones in parts. */
  readonly singleCopyBytes?: number;
  readonly partBytes?: number;
  readonly now?: () => Date;
}

/** S3 copies up to 5 GiB in one request. */
const SINGLE_COPY_BYTES = 5 * 1024 ** 3;
const PART_BYTES = 512 * 1024 ** 2;
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

  async function hold(object: ObjectRef, state: string, reason: string) {
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: object.bucket,
        Key: object.key,
        VersionId: object.versionId,
        Tagging: {
          TagSet: [
            { Key: STATE_TAG, Value: tagValue(state) },
            { Key: REASON_TAG, Value: tagValue(reason) },
          ],
        },
      }),
    );
    return { held: state };
  }

  async function copy(event: Extract<WorkerEvent, { action: 'copy' }>) {
    const { source, target } = event;
    const from = await head(source);
    // Never over what is there: an import does not stand in for an object a zone already has.
    let existing: HeadObjectCommandOutput | undefined;
    try {
      existing = await head({ bucket: target.bucket, key: target.key });
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name !== 'NotFound' && name !== 'NoSuchKey') throw err;
    }
    if (existing)
      throw new Error(`${target.bucket}/${target.key} exists: an import does not replace an object`);
    const copySource = `${source.bucket}/${encodeURIComponent(source.key)}${
      source.versionId ? `?versionId=${encodeURIComponent(source.versionId)}` : ''
    }`;
    const tagging = new URLSearchParams(event.tags).toString();
    const encryption = {
      ServerSideEncryption: 'aws:kms' as const,
      SSEKMSKeyId: target.kmsKeyArn,
      BucketKeyEnabled: true,
    };
    const size = from.ContentLength ?? 0;
    let versionId: string | undefined;
    if (size <= (config.singleCopyBytes ?? SINGLE_COPY_BYTES)) {
      const copied = await s3.send(
        new CopyObjectCommand({
          Bucket: target.bucket,
          Key: target.key,
          CopySource: copySource,
          CopySourceIfMatch: from.ETag,
          TaggingDirective: 'REPLACE',
          Tagging: tagging,
          ChecksumAlgorithm: 'CRC64NVME',
          ...encryption,
        }),
      );
      versionId = copied.VersionId;
    } else {
      versionId = await copyInParts(copySource, from, target, tagging, encryption);
    }
    // The copy must hold what was reviewed: S3's full-object checksums of both sides agree.
    const to = await head({ bucket: target.bucket, key: target.key, versionId });
    const [want, got] = [from.ChecksumCRC64NVME, to.ChecksumCRC64NVME];
    if (!want || !got || want !== got)
      throw new Error(`the copy's CRC-64/NVME (${got}) is not the reviewed object's (${want})`);
    return { bucket: target.bucket, key: target.key, versionId, checksum: { crc64nvme: got } };
  }

  async function copyInParts(
    copySource: string,
    from: HeadObjectCommandOutput,
    target: { readonly bucket: string; readonly key: string },
    tagging: string,
    encryption: { ServerSideEncryption: 'aws:kms'; SSEKMSKeyId: string; BucketKeyEnabled: boolean },
  ): Promise<string | undefined> {
    const size = from.ContentLength ?? 0;
    const partBytes = config.partBytes ?? PART_BYTES;
    const upload = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: target.bucket,
        Key: target.key,
        Tagging: tagging,
        ChecksumAlgorithm: 'CRC64NVME',
        ChecksumType: 'FULL_OBJECT',
        ...encryption,
      }),
    );
    try {
      const parts = [];
      for (let start = 0, n = 1; start < size; start += partBytes, n++) {
        const end = Math.min(start + partBytes, size) - 1;
        const part = await s3.send(
          new UploadPartCopyCommand({
            Bucket: target.bucket,
            Key: target.key,
            UploadId: upload.UploadId,
            PartNumber: n,
            CopySource: copySource,
            CopySourceIfMatch: from.ETag,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({ PartNumber: n, ETag: part.CopyPartResult?.ETag });
      }
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: target.bucket,
          Key: target.key,
          UploadId: upload.UploadId,
          MultipartUpload: { Parts: parts },
          ChecksumType: 'FULL_OBJECT',
          ChecksumCRC64NVME: from.ChecksumCRC64NVME,
        }),
      );
      return done.VersionId;
    } catch (err) {
      await s3.send(
        new AbortMultipartUploadCommand({
          Bucket: target.bucket,
          Key: target.key,
          UploadId: upload.UploadId,
        }),
      );
      throw err;
    }
  }

  async function record(event: Extract<WorkerEvent, { action: 'record' }>) {
    const at = now().toISOString();
    const key = recordKey(event.requestId, event.event, at);
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
  });
  return worker(event);
};
