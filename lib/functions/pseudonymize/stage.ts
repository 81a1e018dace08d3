import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { buildManifest, manifestKey, reasonKey, rejectedKey, type Manifest } from './manifest';
import { datasetFor, type DatasetRules } from './rules';
import type { Tokenizer } from './tokenizer';
import { pseudonymize } from './transform';

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
  readonly datasets: readonly DatasetRules[];
  /** Larger objects are set aside whole: the stage stages its outputs on local storage. */
  readonly maxObjectBytes: number;
  /** Where outputs are staged; the function's ephemeral storage. */
  readonly workDir?: string;
}

export interface RawObject {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly size?: number;
}

export type Outcome =
  | { readonly status: 'pseudonymized'; readonly manifest: Manifest }
  | { readonly status: 'quarantined'; readonly reason: string; readonly dataset?: string }
  | { readonly status: 'skipped'; readonly reason: string };

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
): Promise<Outcome> {
  if (object.bucket !== config.rawBucket) {
    throw new Error(`event for bucket ${object.bucket}; the stage reads only ${config.rawBucket}`);
  }
  if (object.key.endsWith('/')) return { status: 'skipped', reason: 'folder marker' };

  // A retried event for a version that has since been replaced must not overwrite newer output.
  const current = await headObject(s3, config.rawBucket, object.key);
  if (!current) return { status: 'skipped', reason: 'object no longer exists' };
  if (object.versionId && current.VersionId && current.VersionId !== object.versionId) {
    return { status: 'skipped', reason: 'superseded by a newer version' };
  }
  const versionId = object.versionId ?? current.VersionId;
  const source = { bucket: config.rawBucket, key: object.key, ...(versionId ? { versionId } : {}) };

  const dataset = datasetFor(config.datasets, object.key);
  if (!dataset) {
    return quarantineWhole(s3, config, source, `no dataset's prefix matches the key`);
  }
  const size = current.ContentLength ?? object.size ?? 0;
  if (size > config.maxObjectBytes) {
    return quarantineWhole(
      s3,
      config,
      source,
      `larger than the ${config.maxObjectBytes} bytes the stage processes`,
      dataset,
    );
  }

  const work = await mkdtemp(join(config.workDir ?? tmpdir(), 'pseudonymize-'));
  try {
    const curatedPath = join(work, 'curated');
    const rejectedPath = join(work, 'rejected');
    const got = (await s3.send(
      new GetObjectCommand({ Bucket: config.rawBucket, Key: object.key, VersionId: versionId }),
    )) as { Body?: Readable };
    if (!got.Body) throw new Error(`GetObject ${object.key} returned no body`);
    const curated = createWriteStream(curatedPath);
    const rejected = createWriteStream(rejectedPath);
    const result = await pseudonymize(got.Body, dataset, tokenizer, { curated, rejected });
    curated.end();
    rejected.end();
    await Promise.all([finished(curated), finished(rejected)]);

    if (result.fileRejection) {
      return quarantineWhole(s3, config, source, result.fileRejection, dataset);
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
      Key: object.key,
      ContentType: dataset.format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      ChecksumSHA256: Buffer.from(result.output.sha256, 'hex').toString('base64'),
      Metadata: { dataset: dataset.name, 'rule-version': result.ruleVersion },
      ...kms(config.curatedKeyArn),
    });
    const manifest = buildManifest(result, {
      source,
      output: { bucket: config.curatedBucket, key: object.key },
      quarantine,
      hmacKeyId: config.hmacKeyId,
    });
    // Written last: a manifest exists only for a file completely written.
    await s3.send(
      new PutObjectCommand({
        Bucket: config.curatedBucket,
        Key: manifestKey(object.key),
        Body: `${JSON.stringify(manifest, null, 2)}\n`,
        ContentType: 'application/json',
        ...kms(config.curatedKeyArn),
      }),
    );
    return { status: 'pseudonymized', manifest };
  } finally {
    // The staged files hold patient data: never left behind for the next invocation.
    await rm(work, { recursive: true, force: true });
  }
}

function kms(keyArn: string): Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> {
  return { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn };
}

async function headObject(
  s3: S3Like,
  bucket: string,
  key: string,
): Promise<{ VersionId?: string; ContentLength?: number } | undefined> {
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))) as {
      VersionId?: string;
      ContentLength?: number;
    };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}

async function putFile(
  s3: S3Like,
  path: string,
  input: Omit<PutObjectCommandInput, 'Body' | 'ContentLength'>,
): Promise<void> {
  const { size } = await stat(path);
  // Small files are sent from memory; larger ones streamed from the staged file.
  const body = size < 1024 * 1024 ? await readFile(path) : createReadStream(path);
  await s3.send(new PutObjectCommand({ ...input, Body: body, ContentLength: size }));
}

/** Copies the whole source version into quarantine, with the reason beside it. */
async function quarantineWhole(
  s3: S3Like,
  config: StageConfig,
  source: { bucket: string; key: string; versionId?: string },
  reason: string,
  dataset?: DatasetRules,
): Promise<Outcome> {
  const copySource = `${source.bucket}/${encodeURIComponent(source.key).replace(/%2F/g, '/')}${
    source.versionId ? `?versionId=${encodeURIComponent(source.versionId)}` : ''
  }`;
  await s3.send(
    new CopyObjectCommand({
      Bucket: config.quarantineBucket,
      Key: source.key,
      CopySource: copySource,
      ...kms(config.quarantineKeyArn),
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: config.quarantineBucket,
      Key: reasonKey(source.key),
      Body: `${JSON.stringify({ reason, dataset: dataset?.name ?? null, source }, null, 2)}\n`,
      ContentType: 'application/json',
      ...kms(config.quarantineKeyArn),
    }),
  );
  return { status: 'quarantined', reason, ...(dataset ? { dataset: dataset.name } : {}) };
}
