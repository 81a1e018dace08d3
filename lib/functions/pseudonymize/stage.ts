import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { buildManifest, manifestKey, reasonKey, rejectedKey, type Manifest } from './manifest';
import { datasetFor, type DatasetRules } from './rules';
import { Tokenizer } from './tokenizer';
import { pseudonymize, type TransformResult } from './transform';

/** The minimal surface of the AWS SDK's S3 client the stage uses. */
export interface S3Like {
  send(command: unknown): Promise<unknown>;
}

export interface StageConfig {
  readonly rawBucket: string;
  readonly curatedBucket: string;
  readonly quarantineBucket: string;
  /** The zone keys uploads must name (the zones' bucket policies refuse any other). */
  readonly curatedKeyArn: string;
  readonly quarantineKeyArn: string;
  /** The HMAC key's id, recorded in manifests. */
  readonly hmacKeyId: string;
  /** A name for the key (HMAC_KEY_NAME), recorded in manifests beside its id. */
  readonly hmacKeyName?: string;
  readonly datasets: readonly DatasetRules[];
  /**
   * The largest object one invocation transforms. A larger one goes to the range workflow (see
   * stage-ranges.ts) where the stage has one, or is set aside whole where it has none.
   */
  readonly singlePassBytes: number;
  /** Where outputs are staged; the function's ephemeral storage. */
  readonly workDir?: string;
}

export interface RawObject {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly size?: number;
}

/** What happened to one raw object; `keyToken` stands for its key (which may name a patient). */
export type Outcome = { readonly keyToken: string } & (
  | { readonly status: 'pseudonymized'; readonly manifest: Manifest }
  | { readonly status: 'quarantined'; readonly reason: string; readonly dataset?: string }
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'routed'; readonly dataset: string; readonly run: string }
);

/** A raw object's version too large for one invocation, with what names it. */
export interface LargeObject {
  readonly key: string;
  readonly versionId: string;
  readonly keyToken: string;
  readonly size: number;
}

/** Hands a large object to the range workflow; the run's name. */
export type RouteLarge = (object: LargeObject) => Promise<string>;

/**
 * The token domain of raw object keys. It holds a colon, which no rule's domain may (they are
 * field names), so a key's token never equals an identifier's.
 */
export const OBJECT_KEY_DOMAIN = 'ai-segmentation:object-key';

/** The keyed hash of a raw object's key: an HMAC under the stage's key, never a bare hash that file-name guessing would reverse. */
export async function objectKeyToken(tokenizer: Tokenizer, key: string): Promise<string> {
  const input = Tokenizer.input(OBJECT_KEY_DOMAIN, key);
  return (await tokenizer.resolve([input])).get(input)!;
}

/**
 * The curated key of a raw object: its dataset's prefix, the key's token, and the extension of
 * the dataset's format (`.csv`, `.jsonl`): nothing of the raw key (whose "extension" may be a
 * birth date or a name) reaches the curated zone but what the config names.
 */
export function curatedKey(dataset: DatasetRules, keyToken: string): string {
  return `${dataset.prefix}${keyToken}.${dataset.format}`;
}

/**
 * Processes one new raw object: pseudonymizes it into the curated zone with a manifest, sets its
 * bad records aside in the quarantine zone, or sets the whole file aside with the reason. Every
 * write is a function of the source version, the rules and the key, so a retry writes the same
 * bytes again: the stage is idempotent. Errors it cannot handle (S3 or KMS unavailable) are
 * thrown, for the function's retries and then its dead-letter queue.
 */
export async function processObject(
  s3: S3Like,
  tokenizer: Tokenizer,
  config: StageConfig,
  object: RawObject,
  routeLarge?: RouteLarge,
): Promise<Outcome> {
  if (object.bucket !== config.rawBucket) {
    throw new Error(`event for bucket ${object.bucket}; the stage reads only ${config.rawBucket}`);
  }
  const keyToken = await objectKeyToken(tokenizer, object.key);
  if (object.key.endsWith('/')) return { keyToken, status: 'skipped', reason: 'folder marker' };

  // A retried event for a version that has since been replaced must not overwrite newer output.
  const current = await headObject(s3, config.rawBucket, object.key);
  if (!current) return { keyToken, status: 'skipped', reason: 'object no longer exists' };
  if (object.versionId && current.VersionId && current.VersionId !== object.versionId) {
    return { keyToken, status: 'skipped', reason: 'superseded by a newer version' };
  }
  const versionId = object.versionId ?? current.VersionId;
  const source = { bucket: config.rawBucket, key: object.key, ...(versionId ? { versionId } : {}) };

  const dataset = datasetFor(config.datasets, object.key);
  if (!dataset) {
    return quarantineWhole(s3, config, source, keyToken, `no dataset's prefix matches the key`);
  }
  const size = current.ContentLength ?? object.size ?? 0;
  if (size > config.singlePassBytes) {
    if (routeLarge && versionId) {
      const run = await routeLarge({ key: object.key, versionId, keyToken, size });
      return { keyToken, status: 'routed', dataset: dataset.name, run };
    }
    return quarantineWhole(
      s3,
      config,
      source,
      keyToken,
      `larger than the ${config.singlePassBytes} bytes one invocation processes, and no range workflow`,
      dataset,
      size,
    );
  }
  const outputKey = curatedKey(dataset, keyToken);

  const work = await mkdtemp(join(config.workDir ?? tmpdir(), 'pseudonymize-'));
  try {
    const curatedPath = join(work, 'curated');
    const rejectedPath = join(work, 'rejected');
    const got = (await s3.send(
      new GetObjectCommand({ Bucket: config.rawBucket, Key: object.key, VersionId: versionId }),
    )) as { Body?: Readable };
    if (!got.Body) throw new Error(`GetObject of the raw object ${keyToken} returned no body`);
    const curated = createWriteStream(curatedPath);
    const rejected = createWriteStream(rejectedPath);
    // Ages are computed on the day the object was received: a retry computes the same.
    const result = await pseudonymize(
      got.Body,
      dataset,
      tokenizer,
      { curated, rejected },
      current.LastModified ? { asOf: current.LastModified } : {},
    );
    curated.end();
    rejected.end();
    await Promise.all([finished(curated), finished(rejected)]);

    if (result.fileRejection) {
      return quarantineWhole(s3, config, source, keyToken, result.fileRejection, dataset, size);
    }
    const quarantine = { bucket: config.quarantineBucket, key: rejectedKey(object.key) };
    if (result.quarantined.records > 0) {
      await putFile(s3, rejectedPath, {
        Bucket: quarantine.bucket,
        Key: quarantine.key,
        ContentType: 'application/x-ndjson',
        ...kms(config.quarantineKeyArn),
      });
    }
    await putFile(s3, curatedPath, {
      Bucket: config.curatedBucket,
      Key: outputKey,
      ContentType: dataset.format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      ChecksumSHA256: Buffer.from(result.output.sha256, 'hex').toString('base64'),
      Metadata: { dataset: dataset.name, 'rule-version': result.ruleVersion },
      ...kms(config.curatedKeyArn),
    });
    // Written last: a manifest exists only for a file completely written.
    const manifest = await writeManifest(s3, config, result, { outputKey, keyToken, versionId });
    return { keyToken, status: 'pseudonymized', manifest };
  } finally {
    // The staged files hold patient data: never left behind for the next invocation.
    await rm(work, { recursive: true, force: true });
  }
}

/** The encryption headers the zones' bucket policies require of an upload. */
export function kms(keyArn: string): { ServerSideEncryption: 'aws:kms'; SSEKMSKeyId: string } {
  return { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn };
}

/**
 * Writes the manifest of a curated file beside it, in the curated zone, where it names the raw
 * object and its quarantine by token, never by key.
 */
export async function writeManifest(
  s3: S3Like,
  config: StageConfig,
  result: TransformResult,
  where: { readonly outputKey: string; readonly keyToken: string; readonly versionId?: string },
): Promise<Manifest> {
  const { outputKey, keyToken, versionId } = where;
  const manifest = buildManifest(result, {
    source: { bucket: config.rawBucket, keyToken, ...(versionId ? { versionId } : {}) },
    output: { bucket: config.curatedBucket, key: outputKey },
    quarantine: { bucket: config.quarantineBucket, keyToken },
    hmacKeyId: config.hmacKeyId,
    ...(config.hmacKeyName ? { hmacKeyName: config.hmacKeyName } : {}),
  });
  await s3.send(
    new PutObjectCommand({
      Bucket: config.curatedBucket,
      Key: manifestKey(outputKey),
      Body: `${JSON.stringify(manifest, null, 2)}\n`,
      ContentType: 'application/json',
      ...kms(config.curatedKeyArn),
    }),
  );
  return manifest;
}

async function headObject(
  s3: S3Like,
  bucket: string,
  key: string,
): Promise<{ VersionId?: string; ContentLength?: number; LastModified?: Date } | undefined> {
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))) as {
      VersionId?: string;
      ContentLength?: number;
      LastModified?: Date;
    };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}

export async function putFile(
  s3: S3Like,
  path: string,
  input: Omit<PutObjectCommandInput, 'Body' | 'ContentLength'>,
): Promise<void> {
  const { size } = await stat(path);
  // Small files are sent from memory; larger ones streamed from the staged file.
  const body = size < 1024 * 1024 ? await readFile(path) : createReadStream(path);
  await s3.send(new PutObjectCommand({ ...input, Body: body, ContentLength: size }));
}

/** S3 copies at most this much in one CopyObject; larger objects are copied in parts. */
export const COPY_OBJECT_LIMIT = 5 * 1024 ** 3;
/** The part size of a copy in parts (S3 copies at most 5 GiB a part); larger where 10,000 would not hold the object. */
const COPY_PART_BYTES = 1024 ** 3;

/**
 * Copies the whole source version into quarantine, with the reason beside it. An object over
 * CopyObject's 5 GiB limit is copied in parts (UploadPartCopy), server-side.
 */
export async function quarantineWhole(
  s3: S3Like,
  config: StageConfig,
  source: { bucket: string; key: string; versionId?: string },
  keyToken: string,
  reason: string,
  dataset?: DatasetRules,
  size = 0,
): Promise<Outcome> {
  const copySource = `${source.bucket}/${encodeURIComponent(source.key).replace(/%2F/g, '/')}${
    source.versionId ? `?versionId=${encodeURIComponent(source.versionId)}` : ''
  }`;
  const target = { Bucket: config.quarantineBucket, Key: source.key };
  if (size <= COPY_OBJECT_LIMIT) {
    await s3.send(
      new CopyObjectCommand({ ...target, CopySource: copySource, ...kms(config.quarantineKeyArn) }),
    );
  } else {
    await copyInParts(s3, target, copySource, size, config.quarantineKeyArn);
  }
  await s3.send(
    new PutObjectCommand({
      Bucket: config.quarantineBucket,
      Key: reasonKey(source.key),
      // The quarantine is a phi zone, read only as raw is: here the raw key and its token meet.
      Body: `${JSON.stringify({ reason, dataset: dataset?.name ?? null, source, keyToken }, null, 2)}\n`,
      ContentType: 'application/json',
      ...kms(config.quarantineKeyArn),
    }),
  );
  return { keyToken, status: 'quarantined', reason, ...(dataset ? { dataset: dataset.name } : {}) };
}

/** A server-side copy in parts of `size` bytes, aborted (no part left behind) when a part fails. */
async function copyInParts(
  s3: S3Like,
  target: { readonly Bucket: string; readonly Key: string },
  copySource: string,
  size: number,
  keyArn: string,
): Promise<void> {
  // At most 10,000 parts: a part size that fits the object in them.
  const partBytes = Math.max(COPY_PART_BYTES, Math.ceil(size / 10_000));
  const created = (await s3.send(new CreateMultipartUploadCommand({ ...target, ...kms(keyArn) }))) as {
    UploadId?: string;
  };
  if (!created.UploadId) throw new Error('CreateMultipartUpload for a copy in parts returned no upload id');
  const UploadId = created.UploadId;
  try {
    const parts: { PartNumber: number; ETag?: string }[] = [];
    for (let start = 0, PartNumber = 1; start < size; start += partBytes, PartNumber++) {
      const end = Math.min(start + partBytes, size) - 1;
      const copied = (await s3.send(
        new UploadPartCopyCommand({
          ...target,
          UploadId,
          PartNumber,
          CopySource: copySource,
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      )) as { CopyPartResult?: { ETag?: string } };
      parts.push({ PartNumber, ETag: copied.CopyPartResult?.ETag });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: parts } }),
    );
  } catch (err) {
    await s3.send(new AbortMultipartUploadCommand({ ...target, UploadId })).catch(() => undefined);
    throw err;
  }
}
