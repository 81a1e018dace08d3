import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
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
  putFile,
  quarantineWhole,
  writeManifest,
  type LargeObject,
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

/** The range workflow of a stage: where it stages, how it cuts, which state machine runs it. */
export interface RangeSettings {
  readonly staging: Staging;
  /** Ranges are cut at the first record boundary after this many bytes. */
  readonly rangeBytes: number;
  /** A range longer than this (no record boundary for that long) sets the file aside. */
  readonly maxRangeBytes: number;
  readonly workflowArn: string;
}

/** The minimal surface of the AWS SDK's Step Functions client the stage uses. */
export interface SfnLike {
  send(command: unknown): Promise<unknown>;
}

/** A step of a run, as the workflow invokes the stage's function: tokens and indexes, never a raw key. */
export type RunStep =
  | { readonly phase: 'plan'; readonly keyToken: string; readonly versionId: string }
  | { readonly phase: 'range'; readonly keyToken: string; readonly versionId: string; readonly index: number }
  | { readonly phase: 'assemble'; readonly keyToken: string; readonly versionId: string };

/**
 * How a run ended. Kept in the staging store as `done.json` (it names no raw key) until the
 * lifecycle expires it, so that a retried or redriven step, or an event delivered again, finds
 * the run over and only finishes the clean-up.
 */
export type RunEnd =
  | { readonly outcome: 'pseudonymized'; readonly manifest: Manifest }
  | { readonly outcome: 'quarantined'; readonly reason: string }
  | { readonly outcome: 'superseded' };

/** What the plan step answers: the ranges' indexes (the map's items), or that the run is over. */
export type PlanAnswer =
  | { readonly outcome: 'planned'; readonly items: readonly number[] }
  | { readonly outcome: 'quarantined'; readonly items: readonly []; readonly reason: string }
  | { readonly outcome: 'superseded' | 'pseudonymized'; readonly items: readonly [] };

/** The shape of a step's fields: a key's token (HMAC-SHA-256, base64url) and an S3 version id. */
const KEY_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const VERSION_ID = /^[A-Za-z0-9._-]{1,1024}$/;

/** A step as the workflow sends it, or an error that names what is wrong (never trusted as it comes). */
export function runStepFrom(event: Record<string, unknown>): RunStep {
  const { phase, keyToken, versionId, index } = event;
  if (phase !== 'plan' && phase !== 'range' && phase !== 'assemble') {
    throw new Error(`not a step of a run: phase ${JSON.stringify(phase)}; expected plan, range or assemble`);
  }
  if (typeof keyToken !== 'string' || !KEY_TOKEN.test(keyToken)) {
    throw new Error('not a step of a run: keyToken is not a key token');
  }
  if (typeof versionId !== 'string' || !VERSION_ID.test(versionId)) {
    throw new Error('not a step of a run: versionId is not an S3 version id');
  }
  if (phase !== 'range') return { phase, keyToken, versionId };
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
    throw new Error('not a step of a run: a range step needs a whole index of 0 or more');
  }
  return { phase, keyToken, versionId, index };
}

/**
 * A run's name: one per raw object version (a hash of its key's token and the version id), so a
 * retried event starts no second run, and the name says nothing of the key.
 */
export function runName(keyToken: string, versionId: string): string {
  return createHash('sha256').update(`${keyToken}/${versionId}`).digest('hex');
}

const runKey = (staging: Staging, run: Pick<RangeJob, 'keyToken' | 'versionId'>, name: string) =>
  `${staging.prefix}${run.keyToken}/${run.versionId}/${name}`;

/**
 * Hands a large object to the range workflow: its key (which may name a patient) goes into the
 * staging store, and the run is started with the key's token and the version only, so neither
 * the execution's input nor its history holds the key. Starting a run of the same name again
 * (an event delivered twice) starts nothing.
 */
export async function routeToWorkflow(
  s3: S3Like,
  sfn: SfnLike,
  settings: RangeSettings,
  object: LargeObject,
): Promise<string> {
  const { staging } = settings;
  const name = runName(object.keyToken, object.versionId);
  // The event delivered again after its run ended: the key is not staged again.
  if (await readIfAny(s3, staging.bucket, runKey(staging, object, 'done.json'))) return name;
  await s3.send(
    new PutObjectCommand({
      Bucket: staging.bucket,
      Key: runKey(staging, object, 'request.json'),
      Body: JSON.stringify(object),
      ContentType: 'application/json',
      ...kms(staging.keyArn),
    }),
  );
  try {
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: settings.workflowArn,
        name,
        input: JSON.stringify({ keyToken: object.keyToken, versionId: object.versionId }),
      }),
    );
  } catch (err) {
    // The run exists already (started by an earlier delivery of the event): it is this version's.
    if ((err as { name?: string }).name !== 'ExecutionAlreadyExists') throw err;
  }
  return name;
}

/** Runs one step of a range workflow's run; a step of a run that is over finishes its clean-up only. */
export async function runStep(
  s3: S3Like,
  tokenizer: Tokenizer,
  config: StageConfig,
  settings: RangeSettings,
  step: RunStep,
): Promise<
  | PlanAnswer
  | { readonly index: number; readonly records: number }
  | { readonly outcome: RunEnd['outcome']; readonly records: number }
> {
  const { staging } = settings;
  const done = await readIfAny(s3, staging.bucket, runKey(staging, step, 'done.json'));
  const ended = done ? (JSON.parse(done.toString('utf8')) as RunEnd) : undefined;
  if (step.phase === 'plan') {
    if (ended) {
      return ended.outcome === 'quarantined'
        ? { outcome: 'quarantined', items: [], reason: ended.reason }
        : { outcome: ended.outcome, items: [] };
    }
    const request = JSON.parse(
      (await read(s3, staging.bucket, runKey(staging, step, 'request.json'))).toString('utf8'),
    ) as LargeObject;
    if (request.keyToken !== step.keyToken || request.versionId !== step.versionId) {
      throw new Error('the staged request is for another object version');
    }
    const source = { bucket: config.rawBucket, key: request.key, versionId: request.versionId };
    // A version replaced before its run began: the newer version has its own run.
    if ((await currentVersion(s3, config, request.key)) !== request.versionId) {
      await endRun(s3, staging, step, { outcome: 'superseded' }, []);
      return { outcome: 'superseded', items: [] };
    }
    const planned = await planObject(s3, tokenizer, config, source, settings);
    if ('fileRejection' in planned) {
      await quarantineWhole(
        s3,
        config,
        source,
        step.keyToken,
        planned.fileRejection,
        datasetFor(config.datasets, request.key),
        request.size,
      );
      await endRun(s3, staging, step, { outcome: 'quarantined', reason: planned.fileRejection }, []);
      return { outcome: 'quarantined', items: [], reason: planned.fileRejection };
    }
    await s3.send(
      new PutObjectCommand({
        Bucket: staging.bucket,
        Key: runKey(staging, step, 'job.json'),
        Body: JSON.stringify(planned),
        ContentType: 'application/json',
        ...kms(staging.keyArn),
      }),
    );
    return { outcome: 'planned', items: planned.items.map((i) => i.index) };
  }
  if (ended && step.phase === 'range') return { index: step.index, records: 0 };
  const job = ended
    ? await readJobIfAny(s3, staging, step)
    : (JSON.parse(
        (await read(s3, staging.bucket, runKey(staging, step, 'job.json'))).toString('utf8'),
      ) as RangeJob);
  if (step.phase === 'range') {
    const item = job!.items[step.index];
    if (item?.index !== step.index) throw new Error(`the run has no range ${step.index}`);
    return transformRange(s3, tokenizer, config, staging, job!, item);
  }
  if (ended) {
    // Over, its clean-up perhaps not: what is still staged goes (the job, last, says what that is).
    await deleteStaged(s3, staging, [
      ...(job ? stagedKeys(staging, job) : []),
      runKey(staging, step, 'request.json'),
    ]);
    return summary(ended);
  }
  return summary(await assembleObject(s3, tokenizer, config, staging, job!));
}

const summary = (end: RunEnd) => ({
  outcome: end.outcome,
  records: end.outcome === 'pseudonymized' ? end.manifest.output.records : 0,
});

async function readJobIfAny(
  s3: S3Like,
  staging: Staging,
  run: Pick<RangeJob, 'keyToken' | 'versionId'>,
): Promise<RangeJob | undefined> {
  const job = await readIfAny(s3, staging.bucket, runKey(staging, run, 'job.json'));
  return job ? (JSON.parse(job.toString('utf8')) as RangeJob) : undefined;
}

/** The raw key's current version id; undefined where the key is gone (its current version deleted). */
async function currentVersion(s3: S3Like, config: StageConfig, key: string): Promise<string | undefined> {
  try {
    const head = (await s3.send(new HeadObjectCommand({ Bucket: config.rawBucket, Key: key }))) as {
      VersionId?: string;
    };
    return head.VersionId;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Records how the run ended, then deletes what it staged (the job last: it lists the parts). */
async function endRun(
  s3: S3Like,
  staging: Staging,
  run: Pick<RangeJob, 'keyToken' | 'versionId'>,
  end: RunEnd,
  staged: readonly string[],
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: staging.bucket,
      Key: runKey(staging, run, 'done.json'),
      Body: JSON.stringify(end),
      ContentType: 'application/json',
      ...kms(staging.keyArn),
    }),
  );
  await deleteStaged(s3, staging, [...staged, runKey(staging, run, 'request.json')]);
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
/** Parts of one object uploading at once: the function holds at most this many (plus one filling). */
const PARTS_IN_FLIGHT = 4;

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
  // The parts are spooled to the function's ephemeral storage: a range's curated output can be
  // several times its input (tokens are longer than the values they stand for).
  const work = await mkdtemp(join(config.workDir ?? tmpdir(), 'pseudonymize-range-'));
  try {
    const paths = { curated: join(work, 'curated'), rejected: join(work, 'rejected') };
    const curated = createWriteStream(paths.curated);
    const rejected = createWriteStream(paths.rejected);
    const result = await pseudonymize(
      got.Body,
      dataset,
      tokenizer,
      { curated, rejected },
      {
        asOf: new Date(`${job.asOf}T00:00:00Z`),
        start: { offset: item.start, line: item.line },
        ...(item.index > 0 && job.header ? { header: job.header } : {}),
      },
    );
    curated.end();
    rejected.end();
    await Promise.all([finished(curated), finished(rejected)]);
    const target = (kind: string) => ({
      Bucket: staging.bucket,
      Key: partKey(staging, job, item.index, kind),
      ...kms(staging.keyArn),
    });
    await putFile(s3, paths.curated, target('curated'));
    await putFile(s3, paths.rejected, target('rejected'));
    // Written last: a result exists only for a range whose parts are staged.
    await s3.send(new PutObjectCommand({ ...target('result.json'), Body: JSON.stringify(result) }));
    return { index: item.index, records: result.input.records };
  } finally {
    // The spooled parts hold patient data: never left behind for the next invocation.
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Streams the staged parts, in order, into the curated object and the quarantine object, checking
 * each curated part against the hash its range recorded; writes the manifest of the whole; records
 * the run's end; deletes the staged parts. Nothing is written where the raw object has since had a
 * newer version (or was deleted): the newer version's own run writes its file.
 */
export async function assembleObject(
  s3: S3Like,
  tokenizer: Tokenizer,
  config: StageConfig,
  staging: Staging,
  job: RangeJob,
): Promise<RunEnd> {
  const dataset = datasetOf(config, job.dataset);
  // The job names the raw key, the token that names the output and the dataset whose rules apply:
  // each must be what the stage itself derives from the key.
  if ((await objectKeyToken(tokenizer, job.key)) !== job.keyToken) {
    throw new Error("the job's key token is not its key's");
  }
  if (datasetFor(config.datasets, job.key)?.name !== dataset.name) {
    throw new Error("the job's dataset is not its key's");
  }
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
    for (const [i, item] of job.items.entries()) {
      const written = await streamInto(
        s3,
        staging.bucket,
        partKey(staging, job, item.index, 'curated'),
        curated,
      );
      if (written !== results[i].output.sha256) {
        throw new Error(`the curated part of range ${item.index} is not the one its range wrote`);
      }
      await streamInto(s3, staging.bucket, partKey(staging, job, item.index, 'rejected'), rejected);
    }
    // A newer version of the raw object has its own run: this one must not overwrite its output.
    if ((await currentVersion(s3, config, job.key)) !== job.versionId) {
      await Promise.all([curated.abort(), rejected.abort()]);
      const end: RunEnd = { outcome: 'superseded' };
      await endRun(s3, staging, job, end, stagedKeys(staging, job));
      return end;
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
    const end: RunEnd = { outcome: 'pseudonymized', manifest };
    await endRun(s3, staging, job, end, stagedKeys(staging, job));
    return end;
  } catch (err) {
    await Promise.allSettled([curated.abort(), rejected.abort()]);
    throw err;
  }
}

/** Streams a staged object into a writer, a chunk at a time; the SHA-256 (hex) of what it streamed. */
async function streamInto(s3: S3Like, bucket: string, key: string, writer: MultipartWriter): Promise<string> {
  const got = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))) as { Body?: Readable };
  if (!got.Body) throw new Error(`GetObject ${key} returned no body`);
  const hash = createHash('sha256');
  for await (const chunk of got.Body) {
    const bytes = Buffer.from(chunk as Buffer);
    hash.update(bytes);
    await writer.write(bytes);
  }
  return hash.digest('hex');
}

async function read(s3: S3Like, bucket: string, key: string): Promise<Buffer> {
  const got = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))) as { Body?: Readable };
  if (!got.Body) throw new Error(`GetObject ${key} returned no body`);
  const chunks: Buffer[] = [];
  for await (const chunk of got.Body) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/**
 * A staged object, or undefined where there is none. S3 says "none" (404) only to a caller that may
 * list the bucket; the stage's role may, so a 403 is an error, never taken for "none".
 */
async function readIfAny(s3: S3Like, bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    return await read(s3, bucket, key);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/** What a run staged besides its request and its end: each range's parts and result, then the job (which lists them). */
function stagedKeys(staging: Staging, job: RangeJob): string[] {
  return [
    ...job.items.flatMap((item) =>
      ['curated', 'rejected', 'result.json'].map((kind) => partKey(staging, job, item.index, kind)),
    ),
    runKey(staging, job, 'job.json'),
  ];
}

/** Deletes staged objects (deleting one already gone succeeds: a retry can run it again). */
async function deleteStaged(s3: S3Like, staging: Staging, keys: readonly string[]): Promise<void> {
  for (const Key of keys) await s3.send(new DeleteObjectCommand({ Bucket: staging.bucket, Key }));
}

/**
 * One object written in parts as its bytes arrive, hashed whole (SHA-256) as it goes: parts of
 * PART_BYTES are uploaded when full (PARTS_IN_FLIGHT at once, each with its SHA-256 checksum), the
 * rest with the completion. An object under one part is one PutObject, with S3's SHA-256 checksum.
 */
class MultipartWriter {
  private readonly hash = createHash('sha256');
  private buffered: Buffer[] = [];
  private size = 0;
  private total = 0;
  private uploadId?: string;
  private readonly parts: { PartNumber: number; ETag?: string; ChecksumSHA256?: string }[] = [];
  private inFlight: Promise<void>[] = [];

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

  /** Uploads what is buffered as the next part; at most PARTS_IN_FLIGHT parts go up at once. */
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
    this.buffered = [];
    this.size = 0;
    const PartNumber = this.parts.length + 1;
    const ChecksumSHA256 = createHash('sha256').update(body).digest('base64');
    const part: { PartNumber: number; ETag?: string; ChecksumSHA256: string } = {
      PartNumber,
      ChecksumSHA256,
    };
    this.parts.push(part);
    const upload = (
      this.s3.send(
        new UploadPartCommand({
          Bucket: this.target.Bucket,
          Key: this.target.Key,
          UploadId: this.uploadId,
          PartNumber,
          Body: body,
          ContentLength: body.length,
          ChecksumSHA256,
        }),
      ) as Promise<{ ETag?: string }>
    ).then((uploaded) => {
      part.ETag = uploaded.ETag;
    });
    // Handled here too, so that a part failing while another is awaited is no unhandled rejection;
    // it is still thrown where it is awaited.
    upload.catch(() => undefined);
    this.inFlight.push(upload);
    if (this.inFlight.length >= PARTS_IN_FLIGHT) await this.inFlight.shift();
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
      await Promise.all(this.inFlight.splice(0));
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
    // Parts still going up would outlive the abort: S3 keeps a part uploaded after it.
    await Promise.allSettled(this.inFlight.splice(0));
    await this.s3.send(
      new AbortMultipartUploadCommand({
        Bucket: this.target.Bucket,
        Key: this.target.Key,
        UploadId: uploadId,
      }),
    );
  }
}
