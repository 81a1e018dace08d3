import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { GenerateMacCommand } from '@aws-sdk/client-kms';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { StageConfig } from '../../../lib/functions/pseudonymize/stage';
import type { RangeSettings } from '../../../lib/functions/pseudonymize/stage-ranges';

export const HMAC_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/hmac';

/** The stage's configuration in the tests: zone buckets and keys, and the datasets under test. */
export function stageConfig(datasets: StageConfig['datasets'], singlePassBytes: number): StageConfig {
  return {
    rawBucket: 'raw',
    curatedBucket: 'curated',
    quarantineBucket: 'quarantine',
    curatedKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/pii',
    quarantineKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/phi',
    hmacKeyId: HMAC_KEY,
    datasets,
    singlePassBytes,
  };
}

/** A stage's range workflow in the tests: it stages in a bucket of its own, under its own key. */
export const RANGES: RangeSettings = {
  staging: { bucket: 'staging', prefix: 'runs/', keyArn: 'arn:aws:kms:eu-west-1:123456789012:key/staging' },
  rangeBytes: 64 * 1024,
  maxRangeBytes: 1024 * 1024,
  workflowArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:ai-seg-pseudonymize-large',
};

/** When every raw object was received (its last-modified time): ages are computed on this day. */
export const RECEIVED = new Date('2026-11-25T09:30:00Z');

interface Version {
  readonly id: string;
  readonly body: Buffer;
  readonly params: Record<string, unknown>;
}

export class S3Error extends Error {
  constructor(
    name: string,
    readonly $metadata: { httpStatusCode: number },
  ) {
    super(name);
    this.name = name;
  }
}

/**
 * Versioned buckets in memory. Uploads to the curated and quarantine zones must name the zone's
 * key, as the zones' bucket policies require; checksums are checked as S3 checks them.
 */
export class FakeS3 {
  /**
   * `zoneKeys`: the key each bucket's policy requires uploads to name. `listable`: where given,
   * the buckets the caller may list; as S3 does, it answers a missing key elsewhere with 403
   * (AccessDenied), not 404.
   */
  constructor(
    private readonly zoneKeys: Readonly<Record<string, string>>,
    private readonly listable?: readonly string[],
  ) {}
  readonly objects = new Map<string, Version[]>();
  readonly uploads = new Map<
    string,
    { params: Record<string, unknown>; parts: Map<number, Buffer>; sizes: Map<number, number> }
  >();
  readonly calls: string[] = [];
  /** What each GetObject read: `bucket/key`. */
  readonly gets: string[] = [];
  private counter = 0;
  failGets = false;
  failDeletes = false;

  put(bucket: string, key: string, body: string | Buffer, params: Record<string, unknown> = {}): string {
    const id = `v${++this.counter}`;
    const at = `${bucket}/${key}`;
    this.objects.set(at, [...(this.objects.get(at) ?? []), { id, body: Buffer.from(body), params }]);
    return id;
  }

  latest(bucket: string, key: string): Version | undefined {
    return this.objects.get(`${bucket}/${key}`)?.at(-1);
  }

  text(bucket: string, key: string): string {
    const version = this.latest(bucket, key);
    if (!version) throw new Error(`no object ${bucket}/${key}`);
    return version.body.toString('utf8');
  }

  keys(bucket: string): string[] {
    return [...this.objects.keys()]
      .filter((k) => k.startsWith(`${bucket}/`))
      .map((k) => k.slice(bucket.length + 1));
  }

  private find(bucket: string, key: string, versionId?: string): Version {
    const versions = this.objects.get(`${bucket}/${key}`) ?? [];
    const version = versionId ? versions.find((v) => v.id === versionId) : versions.at(-1);
    if (!version) {
      if (this.listable && !this.listable.includes(bucket)) {
        throw new S3Error('AccessDenied', { httpStatusCode: 403 });
      }
      throw new S3Error('NotFound', { httpStatusCode: 404 });
    }
    return version;
  }

  private checkEncryption(bucket: string, input: Record<string, unknown>): void {
    const expected = this.zoneKeys[bucket];
    if (input.ServerSideEncryption !== 'aws:kms' || input.SSEKMSKeyId !== expected) {
      throw new S3Error('AccessDenied', { httpStatusCode: 403 });
    }
  }

  /** The version a CopySource (`bucket/key?versionId=`) names. */
  private source(copySource: string): Version {
    const [path, query] = copySource.split('?versionId=');
    const slash = path.indexOf('/');
    return this.find(
      path.slice(0, slash),
      decodeURIComponent(path.slice(slash + 1)),
      query ? decodeURIComponent(query) : undefined,
    );
  }

  async send(command: unknown): Promise<unknown> {
    if (command instanceof HeadObjectCommand) {
      this.calls.push('HeadObject');
      const v = this.find(command.input.Bucket!, command.input.Key!, command.input.VersionId);
      return { VersionId: v.id, ContentLength: v.body.length, LastModified: RECEIVED };
    }
    if (command instanceof GetObjectCommand) {
      this.calls.push('GetObject');
      this.gets.push(`${command.input.Bucket}/${command.input.Key}`);
      if (this.failGets) throw new S3Error('SlowDown', { httpStatusCode: 503 });
      const v = this.find(command.input.Bucket!, command.input.Key!, command.input.VersionId);
      const range = /^bytes=(\d+)-(\d+)$/.exec(command.input.Range ?? '');
      const body = range ? v.body.subarray(Number(range[1]), Number(range[2]) + 1) : v.body;
      if (range) this.calls.push(`GetObject range ${range[1]}-${range[2]}`);
      // In chunks, as S3 streams it.
      const chunks = Array.from({ length: Math.ceil(body.length / 4096) }, (_, i) =>
        body.subarray(i * 4096, (i + 1) * 4096),
      );
      return { VersionId: v.id, Body: Readable.from(chunks) };
    }
    if (command instanceof PutObjectCommand) {
      const input = command.input as unknown as Record<string, unknown>;
      this.calls.push(`PutObject ${String(input.Bucket)}/${String(input.Key)}`);
      this.checkEncryption(String(input.Bucket), input);
      const body = await bytesOf(input.Body);
      if (input.ContentLength !== undefined && input.ContentLength !== body.length) {
        throw new S3Error('IncompleteBody', { httpStatusCode: 400 });
      }
      if (
        input.ChecksumSHA256 &&
        createHash('sha256').update(body).digest('base64') !== input.ChecksumSHA256
      ) {
        throw new S3Error('BadDigest', { httpStatusCode: 400 });
      }
      const params = Object.fromEntries(Object.entries(input).filter(([name]) => name !== 'Body'));
      return { VersionId: this.put(String(input.Bucket), String(input.Key), body, params) };
    }
    if (command instanceof CreateMultipartUploadCommand) {
      const input = command.input as unknown as Record<string, unknown>;
      this.calls.push(`CreateMultipartUpload ${String(input.Bucket)}/${String(input.Key)}`);
      this.checkEncryption(String(input.Bucket), input);
      const id = `upload-${++this.counter}`;
      this.uploads.set(id, { params: input, parts: new Map(), sizes: new Map() });
      return { UploadId: id };
    }
    if (command instanceof UploadPartCommand) {
      const input = command.input;
      const upload = this.uploads.get(input.UploadId!);
      if (!upload) throw new S3Error('NoSuchUpload', { httpStatusCode: 404 });
      const body = await bytesOf(input.Body);
      if (
        input.ChecksumSHA256 &&
        createHash('sha256').update(body).digest('base64') !== input.ChecksumSHA256
      ) {
        throw new S3Error('BadDigest', { httpStatusCode: 400 });
      }
      upload.parts.set(input.PartNumber!, body);
      upload.sizes.set(input.PartNumber!, body.length);
      return { ETag: `"${input.PartNumber}"` };
    }
    if (command instanceof UploadPartCopyCommand) {
      const input = command.input;
      const upload = this.uploads.get(input.UploadId!);
      if (!upload) throw new S3Error('NoSuchUpload', { httpStatusCode: 404 });
      const range = /^bytes=(\d+)-(\d+)$/.exec(input.CopySourceRange ?? '');
      if (!range) throw new S3Error('InvalidArgument', { httpStatusCode: 400 });
      const [start, end] = [Number(range[1]), Number(range[2])];
      // S3 copies at most 5 GiB a part.
      if (end - start + 1 > 5 * 1024 ** 3) throw new S3Error('InvalidRequest', { httpStatusCode: 400 });
      this.calls.push(`UploadPartCopy ${input.Bucket}/${input.Key} ${input.PartNumber} ${start}-${end}`);
      const source = this.source(input.CopySource!);
      upload.parts.set(input.PartNumber!, source.body.subarray(start, end + 1));
      // The size the part declares (the source may be a stand-in shorter than the size it claims).
      upload.sizes.set(input.PartNumber!, end - start + 1);
      return { CopyPartResult: { ETag: `"${input.PartNumber}"` } };
    }
    if (command instanceof CompleteMultipartUploadCommand) {
      const input = command.input;
      const upload = this.uploads.get(input.UploadId!);
      if (!upload) throw new S3Error('NoSuchUpload', { httpStatusCode: 404 });
      const numbers = (input.MultipartUpload?.Parts ?? []).map((p) => p.PartNumber!);
      const bodies = numbers.map((n) => upload.parts.get(n)!);
      // Every part but the last is at least 5 MiB, as S3 requires.
      if (numbers.slice(0, -1).some((n) => upload.sizes.get(n)! < 5 * 1024 * 1024)) {
        throw new S3Error('EntityTooSmall', { httpStatusCode: 400 });
      }
      this.uploads.delete(input.UploadId!);
      this.calls.push(`CompleteMultipartUpload ${input.Bucket}/${input.Key}`);
      return { VersionId: this.put(input.Bucket!, input.Key!, Buffer.concat(bodies), upload.params) };
    }
    if (command instanceof AbortMultipartUploadCommand) {
      this.uploads.delete(command.input.UploadId!);
      return {};
    }
    if (command instanceof DeleteObjectCommand) {
      if (this.failDeletes) throw new S3Error('SlowDown', { httpStatusCode: 503 });
      this.calls.push(`DeleteObject ${command.input.Bucket}/${command.input.Key}`);
      this.objects.delete(`${command.input.Bucket}/${command.input.Key}`);
      return {};
    }
    if (command instanceof CopyObjectCommand) {
      const input = command.input;
      this.calls.push(`CopyObject ${input.Bucket}/${input.Key}`);
      this.checkEncryption(input.Bucket!, input as unknown as Record<string, unknown>);
      const source = this.source(input.CopySource!);
      return { VersionId: this.put(input.Bucket!, input.Key!, source.body, { ...input }) };
    }
    throw new Error(`unexpected S3 command ${String((command as object).constructor.name)}`);
  }
}

async function bytesOf(body: unknown): Promise<Buffer> {
  if (typeof body === 'string' || Buffer.isBuffer(body)) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as Readable) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** KMS GenerateMac with a secret only it holds. */
export class FakeKms {
  constructor(private readonly keyId: string) {}
  calls = 0;
  private readonly secret = Buffer.alloc(32, 7);
  send(command: unknown): Promise<{ Mac?: Uint8Array }> {
    if (!(command instanceof GenerateMacCommand)) throw new Error('unexpected KMS command');
    if (command.input.KeyId !== this.keyId || command.input.MacAlgorithm !== 'HMAC_SHA_256') {
      throw new Error(`GenerateMac with key ${command.input.KeyId} and ${command.input.MacAlgorithm}`);
    }
    this.calls++;
    return Promise.resolve({
      Mac: createHmac('sha256', this.secret).update(command.input.Message!).digest(),
    });
  }
}

/** Step Functions' StartExecution: a name is a run, started once; the same name again is refused. */
export class FakeSfn {
  readonly started = new Map<string, { stateMachineArn: string; input: string }>();
  readonly calls: string[] = [];

  send(command: unknown): Promise<unknown> {
    if (!(command instanceof StartExecutionCommand)) {
      return Promise.reject(new Error('unexpected Step Functions command'));
    }
    const { name, stateMachineArn, input } = command.input;
    this.calls.push(`StartExecution ${name}`);
    if (this.started.has(name!)) {
      const err = new Error(`Execution Already Exists: ${name}`);
      err.name = 'ExecutionAlreadyExists';
      return Promise.reject(err);
    }
    this.started.set(name!, { stateMachineArn: stateMachineArn!, input: input! });
    return Promise.resolve({ executionArn: `${stateMachineArn}:${name}` });
  }
}
