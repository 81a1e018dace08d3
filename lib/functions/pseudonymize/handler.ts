import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import type { DatasetRules } from './rules';
import { processObject, type Outcome, type RawObject, type S3Like, type StageConfig } from './stage';
import { KmsMac, Tokenizer } from './tokenizer';

/** The environment the blueprint gives the function. */
export const ENVIRONMENT_VARIABLES = [
  'RAW_BUCKET',
  'CURATED_BUCKET',
  'QUARANTINE_BUCKET',
  'CURATED_KEY_ARN',
  'QUARANTINE_KEY_ARN',
  'HMAC_KEY_ARN',
  'MAX_OBJECT_BYTES',
] as const;

/** An S3 "Object Created" event as EventBridge delivers it. */
export interface ObjectCreatedEvent {
  readonly 'detail-type'?: string;
  readonly detail?: {
    readonly bucket?: { readonly name?: string };
    readonly object?: { readonly key?: string; readonly size?: number; readonly 'version-id'?: string };
  };
}

/**
 * The stage's configuration. The datasets' rules are compiled into the bundle (the blueprint
 * defines `process.env.PSEUDONYMIZATION_DATASETS` at bundling time), so they are part of the
 * code's hash and not limited by the size of the function's environment.
 */
export function stageConfigFrom(
  env: NodeJS.ProcessEnv,
  datasets: string | undefined = process.env.PSEUDONYMIZATION_DATASETS,
): StageConfig {
  const missing = ENVIRONMENT_VARIABLES.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`missing environment variable(s) ${missing.join(', ')}`);
  if (!datasets) throw new Error('no datasets: the bundle defines none');
  return {
    rawBucket: env.RAW_BUCKET!,
    curatedBucket: env.CURATED_BUCKET!,
    quarantineBucket: env.QUARANTINE_BUCKET!,
    curatedKeyArn: env.CURATED_KEY_ARN!,
    quarantineKeyArn: env.QUARANTINE_KEY_ARN!,
    hmacKeyId: env.HMAC_KEY_ARN!,
    ...(env.HMAC_KEY_NAME ? { hmacKeyName: env.HMAC_KEY_NAME } : {}),
    maxObjectBytes: Number(env.MAX_OBJECT_BYTES),
    datasets: JSON.parse(datasets) as DatasetRules[],
  };
}

export function objectFrom(event: ObjectCreatedEvent): RawObject {
  const bucket = event.detail?.bucket?.name;
  const object = event.detail?.object;
  if (!bucket || !object?.key) {
    throw new Error(`not an S3 Object Created event (detail-type ${event['detail-type'] ?? 'missing'})`);
  }
  return {
    bucket,
    key: object.key,
    ...(object['version-id'] ? { versionId: object['version-id'] } : {}),
    ...(object.size !== undefined ? { size: object.size } : {}),
  };
}

/** Builds the handler around its clients; the module's `handler` uses the real ones. */
export function makeHandler(s3: S3Like, tokenizer: Tokenizer, config: StageConfig) {
  return async (event: ObjectCreatedEvent): Promise<Outcome> => {
    const object = objectFrom(event);
    const outcome = await processObject(s3, tokenizer, config, object);
    // Structured, and without values: the key's token (never the raw key, which may name a
    // patient), counts, hashes and reasons only.
    console.log(
      JSON.stringify({
        message: 'pseudonymization',
        keyToken: outcome.keyToken,
        versionId: object.versionId,
        status: outcome.status,
        ...(outcome.status === 'pseudonymized'
          ? {
              dataset: outcome.manifest.dataset,
              records: outcome.manifest.output.records,
              quarantined: outcome.manifest.quarantine.records,
              macCalls: tokenizer.provider.calls,
            }
          : { reason: outcome.reason }),
      }),
    );
    return outcome;
  };
}

let live: ((event: ObjectCreatedEvent) => Promise<Outcome>) | undefined;

/** The Lambda entry point. Clients and the token cache live as long as the execution environment. */
export async function handler(event: ObjectCreatedEvent): Promise<Outcome> {
  if (!live) {
    const config = stageConfigFrom(process.env);
    const kms = new KMSClient({});
    const mac = new KmsMac(kms, config.hmacKeyId, (input) => new GenerateMacCommand(input));
    live = makeHandler(new S3Client({}), new Tokenizer(mac), config);
  }
  return live(event);
}
