import { createReadStream, statSync } from 'node:fs';
import { Sha256 } from '@aws-crypto/sha256-js';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { SignatureV4 } from '@smithy/signature-v4';
import { IMPORT_KINDS, invalidPath, type ImportKind } from '../../airlock';

/**
 * The airlock as the people who use it reach it: requests to its desk, signed with their own
 * credentials (the desk takes signed requests only and reads who signed), and uploads into the
 * import zone at the key the desk gives.
 */

export interface DeskAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface AirlockClientOptions {
  /** The desk's function URL. */
  readonly desk: string;
  /** The caller's credentials (or a provider of them), as the signer takes them. */
  readonly credentials: ConstructorParameters<typeof SignatureV4>[0]['credentials'];
  readonly fetch?: typeof fetch;
  readonly s3: S3Client;
}

/** The region of a function URL (`https://<id>.lambda-url.<region>.on.aws/`). */
export function regionOfDesk(url: string): string {
  const match = /^https:\/\/[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws\/?$/.exec(url);
  if (!match)
    throw new Error(
      `--desk ${url}: expected a function URL such as https://abc123.lambda-url.eu-west-1.on.aws/`,
    );
  return match[1];
}

/** The desk's URL, from the airlock stack's `DeskUrl` output. */
export async function deskFromStack(
  cloudformation: Pick<CloudFormationClient, 'send'>,
  stackName: string,
): Promise<string> {
  const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
  const url = Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'DeskUrl')?.OutputValue;
  if (!url)
    throw new Error(
      `stack ${stackName} has no DeskUrl output: is the airlock deployed (the config's airlock)?`,
    );
  return url;
}

export class AirlockClient {
  private readonly url: URL;
  private readonly signer: SignatureV4;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: AirlockClientOptions) {
    this.url = new URL(options.desk);
    this.signer = new SignatureV4({
      service: 'lambda',
      region: regionOfDesk(options.desk),
      credentials: options.credentials,
      sha256: Sha256,
    });
    this.fetch = options.fetch ?? fetch;
  }

  /** A signed request to the desk. */
  async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<DeskAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const signed = await this.signer.sign({
      method,
      protocol: 'https:',
      hostname: this.url.hostname,
      path,
      headers: {
        host: this.url.hostname,
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(payload !== undefined ? { body: payload } : {}),
    });
    const response = await this.fetch(`https://${this.url.hostname}${path}`, {
      method,
      headers: signed.headers,
      ...(payload !== undefined ? { body: payload } : {}),
    });
    const text = await response.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { error: text };
    }
    return { status: response.status, body: parsed };
  }

  /**
   * Asks the desk where to upload, then uploads the file there (in parts when large) with a
   * full-object CRC-64/NVME checksum, which S3 checks on arrival and the workflow's copy checks
   * again; never over an upload already at that key.
   */
  async requestImport(kind: string, path: string, file: string): Promise<{ bucket: string; key: string }> {
    if (!(IMPORT_KINDS as string[]).includes(kind))
      throw new Error(`--kind ${kind}: expected one of ${IMPORT_KINDS.join(', ')}`);
    const bad = invalidPath(path);
    if (bad) throw new Error(`--path: ${bad}`);
    const size = statSync(file).size;
    const answer = await this.call('POST', '/imports', { kind: kind as ImportKind, path });
    if (answer.status !== 200)
      throw new Error(`the desk refused: ${String(answer.body.error)} (${answer.status})`);
    const { bucket, key } = answer.body as { bucket: string; key: string };
    await new Upload({
      client: this.options.s3,
      params: {
        Bucket: bucket,
        Key: key,
        Body: createReadStream(file),
        ContentLength: size,
        ChecksumAlgorithm: 'CRC64NVME',
        ChecksumType: 'FULL_OBJECT',
        IfNoneMatch: '*',
      },
    })
      .done()
      .catch((err: Error) => {
        if (err.name === 'PreconditionFailed')
          throw new Error(
            `--path ${path}: you uploaded a ${kind} at this path already (s3://${bucket}/${key}); it has its own request. Name another --path`,
          );
        throw err;
      });
    return { bucket, key };
  }

  /** Asks for one object of a source zone to be sent out; the workflow stages it for a reviewer. */
  async requestExport(source: string, key: string, reason: string): Promise<DeskAnswer> {
    const bad = invalidPath(key);
    if (bad) throw new Error(`--key: ${bad}`);
    return this.call('POST', '/exports', { source, key, reason });
  }

  status(requestId?: string): Promise<DeskAnswer> {
    return this.call('GET', requestId ? `/requests/${encodeURIComponent(requestId)}` : '/requests');
  }

  decide(
    requestId: string,
    decision: 'approve' | 'reject',
    reason: string,
    codeExecutionAccepted?: string,
  ): Promise<DeskAnswer> {
    return this.call('POST', `/requests/${encodeURIComponent(requestId)}/decision`, {
      decision,
      reason,
      ...(codeExecutionAccepted !== undefined ? { codeExecutionAccepted } : {}),
    });
  }
}
