import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { rejectedKey, type Manifest } from './manifest';
import { combineResults, planRanges, type RangeItem, type RangePlan } from './ranges';
import { datasetFor, ruleVersion, type DatasetRules } from './rules';
import {
  curatedKey,
  kms,
  objectKeyToken,
  writeManifest,
  type RawObject,
  type S3Like,
  type StageConfig,
} from './stage';
import type { Tokenizer } from './tokenizer';
import { pseudonymize, type TransformResult } from './transform';

/**
 * The stage's path for objects too large for one invocation: plan (read the object once and cut
 * it at record boundaries), transform each range apart (a ranged GetObject, the same transform,
 * the parts staged), assemble (the curated parts streamed into one curated object, the
 * quarantined parts into one quarantine object, then the manifest, then the staged parts
 * deleted). The parts concatenated are what one pass writes, so the curated object, the
 * quarantine object and the manifest are the single pass's.
 */

/** Where ranges stage their parts: a prefix of a phi store only the stage (and break-glass) reads. */
export interface Staging {
  readonly bucket: string;
  readonly prefix: string;
  readonly keyArn: string;
}

/** What the planner hands the ranges and the assembler (small: the map's items are in it). */
export interface RangeJob {
  readonly key: string;
  readonly versionId: string;
  readonly keyToken: string;
  readonly dataset: string;
  readonly asOf: string;
  readonly header?: readonly string[];
  readonly input: RangePlan['input'];
  readonly items: readonly RangeItem[];
}

/** Parts of at least this size are uploaded as they fill (S3's minimum part is 5 MiB). */
const PART_BYTES = 8 * 1024 * 1024;

function datasetOf(config: StageConfig, name: string): DatasetRules {
  const dataset = config.datasets.find((d) => d.name === name);
  if (!dataset) throw new Error(`no dataset ${name} in the stage's configuration`);
  return dataset;
}

const partKey = (
  staging: Staging,
  job: Pick<RangeJob, 'keyToken' | 'versionId'>,
  index: number,
  kind: string,
) => `${staging.prefix}${job.keyToken}/${job.versionId}/${String(index).padStart(5, '0')}.${kind}`;

/**
 * Reads the raw object's version once and cuts it into ranges of at least `rangeBytes`; a file
 * that cannot be cut (no dataset, a header that cannot be read) is left to the single-pass
 * path, which sets it aside whole with the reason.
 */
export async function planObject(
  s3: S3Like,
  tokenizer: Tokenizer,
  config: StageConfig,
  object: RawObject & { readonly versionId: string },
  ranges: { readonly rangeBytes: number; readonly maxRangeBytes: number },
): Promise<RangeJob | { readonly fileRejection: string }> {
  const dataset = datasetFor(config.datasets, object.key);
  if (!dataset) return { fileRejection: `no dataset's prefix matches the key` };
  // The version's own last-modified date, as the single pass takes it: ages agree.
  const head = (await s3.send(
    new HeadObjectCommand({ Bucket: config.rawBucket, Key: object.key, VersionId: object.versionId }),
  )) as { LastModified?: Date };
  if (!head.LastModified) throw new Error('HeadObject of the raw version returned no LastModified');
  const got = (await s3.send(
    new GetObjectCommand({ Bucket: config.rawBucket, Key: object.key, VersionId: object.versionId }),
  )) as { Body?: Readable };
  if (!got.Body) throw new Error('GetObject of the raw object returned no body');
  const plan = await planRanges(got.Body, dataset, ranges.rangeBytes);
  if (plan.fileRejection) return { fileRejection: plan.fileRejection };
  // A range is cut only where a record starts: an unclosed quote can make one range of the rest
  // of the file, more than one invocation transforms.
  const longest = Math.max(...plan.items.map((i) => i.end - i.start));
  if (longest > ranges.maxRangeBytes) {
    return {
      fileRejection: `a record boundary more than ${ranges.maxRangeBytes} bytes from the last (an unclosed quote?)`,
    };
  }
  return {
    key: object.key,
    versionId: object.versionId,
    keyToken: await objectKeyToken(tokenizer, object.key),
    dataset: dataset.name,
    asOf: head.LastModified.toISOString().slice(0, 10),
    ...(plan.header ? { header: plan.header } : {}),
    input: plan.input,
    items: plan.items,
  };
}

/** Transforms one range of the job's object and stages its curated part, quarantined part and result. */
export async function transformRange(
  s3: S3Like,
  tokenizer: Tokenizer,
  config: StageConfig,
  staging: Staging,
  job: RangeJob,
  item: RangeItem,
): Promise<{ readonly index: number; readonly records: number }> {
  const dataset = datasetOf(config, job.dataset);
  const got = (await s3.send(
    new GetObjectCommand({
      Bucket: config.rawBucket,
      Key: job.key,
      VersionId: job.versionId,
      Range: `bytes=${item.start}-${item.end - 1}`,
    }),
  )) as { Body?: Readable };
  if (!got.Body) throw new Error('ranged GetObject of the raw object returned no body');
  const curated = collect();
  const rejected = collect();
  const result = await pseudonymize(
    got.Body,
    dataset,
    tokenizer,
    { curated: curated.stream, rejected: rejected.stream },
    {
      asOf: new Date(`${job.asOf}T00:00:00Z`),
      start: { offset: item.start, line: item.line },
      ...(item.index > 0 && job.header ? { header: job.header } : {}),
    },
  );
  const put = (kind: string, body: Buffer | string) =>
    s3.send(
      new PutObjectCommand({
        Bucket: staging.bucket,
        Key: partKey(staging, job, item.index, kind),
        Body: body,
        ...kms(staging.keyArn),
      }),
    );
  await put('curated', curated.bytes());
  await put('rejected', rejected.bytes());
  // Written last: a result exists only for a range whose parts are staged.
  await put('result.json', JSON.stringify(result));
  return { index: item.index, records: result.input.records };
}

/**
 * Streams the staged parts, in order, into the curated object and the quarantine object, hashing
 * what it writes; writes the manifest of the whole; deletes the staged parts.
 */
export async function assembleObject(
  s3: S3Like,
  config: StageConfig,
  staging: Staging,
  job: RangeJob,
): Promise<Manifest> {
  const dataset = datasetOf(config, job.dataset);
  const results: TransformResult[] = [];
  for (const item of job.items) {
    results.push(
      JSON.parse(
        (await read(s3, staging.bucket, partKey(staging, job, item.index, 'result.json'))).toString('utf8'),
      ) as TransformResult,
    );
  }
  // One rule version across the ranges: a deploy during the run would mix rules in one file.
  const versions = new Set(results.map((r) => r.ruleVersion));
  if (versions.size !== 1 || !versions.has(ruleVersion(dataset))) {
    throw new Error(
      `ranges made with rule versions ${[...versions].join(', ')}; the stage's are ${ruleVersion(dataset)}`,
    );
  }
  const outputKey = curatedKey(dataset, job.keyToken);
  const curated = new MultipartWriter(s3, {
    Bucket: config.curatedBucket,
    Key: outputKey,
    ContentType: dataset.format === 'csv' ? 'text/csv' : 'application/x-ndjson',
    Metadata: { dataset: dataset.name, 'rule-version': results[0].ruleVersion },
    ...kms(config.curatedKeyArn),
  });
  const quarantine = { bucket: config.quarantineBucket, key: rejectedKey(job.key) };
  const rejected = new MultipartWriter(s3, {
    Bucket: quarantine.bucket,
    Key: quarantine.key,
    ContentType: 'application/x-ndjson',
    ...kms(config.quarantineKeyArn),
  });
  try {
    for (const item of job.items) {
      await curated.write(await read(s3, staging.bucket, partKey(staging, job, item.index, 'curated')));
      await rejected.write(await read(s3, staging.bucket, partKey(staging, job, item.index, 'rejected')));
    }
    // A newer version of the raw object has its own run: this one must not overwrite its output.
    const current = (await s3.send(new HeadObjectCommand({ Bucket: config.rawBucket, Key: job.key }))) as {
      VersionId?: string;
    };
    if (current.VersionId !== job.versionId) {
      throw new Error('the raw object has a newer version: its own run writes the curated file');
    }
    const output = await curated.complete();
    const combined = combineResults({ items: job.items, input: job.input }, results, output);
    if (combined.quarantined.records > 0) await rejected.complete();
    else await rejected.abort();
    const manifest = await writeManifest(s3, config, combined, {
      outputKey,
      keyToken: job.keyToken,
      versionId: job.versionId,
    });
    for (const item of job.items) {
      for (const kind of ['curated', 'rejected', 'result.json']) {
        await s3.send(
          new DeleteObjectCommand({ Bucket: staging.bucket, Key: partKey(staging, job, item.index, kind) }),
        );
      }
    }
    return manifest;
  } catch (err) {
    await Promise.allSettled([curated.abort(), rejected.abort()]);
    throw err;
  }
}

async function read(s3: S3Like, bucket: string, key: string): Promise<Buffer> {
  const got = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))) as { Body?: Readable };
  if (!got.Body) throw new Error(`GetObject ${key} returned no body`);
  const chunks: Buffer[] = [];
  for await (const chunk of got.Body) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

function collect(): { stream: PassThrough; bytes: () => Buffer } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, bytes: () => Buffer.concat(chunks) };
}

/**
 * One object written in parts as its bytes arrive, hashed whole (SHA-256) as it goes: parts of
 * PART_BYTES are uploaded when full, the rest with the completion. An object under one part is
 * one PutObject, with S3's SHA-256 checksum of it.
 */
class MultipartWriter {
  private readonly hash = createHash('sha256');
  private buffered: Buffer[] = [];
  private size = 0;
  private total = 0;
  private uploadId?: string;
  private readonly parts: { PartNumber: number; ETag?: string; ChecksumSHA256?: string }[] = [];

  constructor(
    private readonly s3: S3Like,
    private readonly target: {
      Bucket: string;
      Key: string;
      ContentType: string;
      Metadata?: Record<string, string>;
      ServerSideEncryption: 'aws:kms';
      SSEKMSKeyId: string;
    },
  ) {}

  async write(bytes: Buffer): Promise<void> {
    this.hash.update(bytes);
    this.total += bytes.length;
    this.buffered.push(bytes);
    this.size += bytes.length;
    if (this.size >= PART_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.uploadId) {
      const created = (await this.s3.send(
        new CreateMultipartUploadCommand({ ...this.target, ChecksumAlgorithm: 'SHA256' }),
      )) as { UploadId?: string };
      if (!created.UploadId)
        throw new Error(`CreateMultipartUpload of ${this.target.Key} returned no upload id`);
      this.uploadId = created.UploadId;
    }
    const body = Buffer.concat(this.buffered);
    const PartNumber = this.parts.length + 1;
    const ChecksumSHA256 = createHash('sha256').update(body).digest('base64');
    const uploaded = (await this.s3.send(
      new UploadPartCommand({
        Bucket: this.target.Bucket,
        Key: this.target.Key,
        UploadId: this.uploadId,
        PartNumber,
        Body: body,
        ContentLength: body.length,
        ChecksumSHA256,
      }),
    )) as { ETag?: string };
    this.parts.push({ PartNumber, ETag: uploaded.ETag, ChecksumSHA256 });
    this.buffered = [];
    this.size = 0;
  }

  /** Completes the object; its SHA-256 and size. */
  async complete(): Promise<{ sha256: string; bytes: number }> {
    const sha256 = this.hash.digest('hex');
    if (!this.uploadId) {
      const body = Buffer.concat(this.buffered);
      await this.s3.send(
        new PutObjectCommand({
          ...this.target,
          Body: body,
          ContentLength: body.length,
          ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
        }),
      );
    } else {
      if (this.size > 0) await this.flush();
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.target.Bucket,
          Key: this.target.Key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.parts },
        }),
      );
    }
    return { sha256, bytes: this.total };
  }

  /** Gives up the object: an upload begun is aborted, so no part is left behind. */
  async abort(): Promise<void> {
    if (!this.uploadId) return;
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    await this.s3.send(
      new AbortMultipartUploadCommand({
        Bucket: this.target.Bucket,
        Key: this.target.Key,
        UploadId: uploadId,
      }),
    );
  }
}
