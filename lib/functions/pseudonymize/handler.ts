import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DatasetRules } from './rules';
import { processObject, type Outcome, type RawObject, type S3Like, type StageConfig } from './stage';
import {
  routeToWorkflow,
  runStep,
  runStepFrom,
  type RangeSettings,
  type RunStep,
  type SfnLike,
} from './stage-ranges';
import { KmsMac, Tokenizer } from './tokenizer';

/** The environment the blueprint gives the function. */
export const ENVIRONMENT_VARIABLES = [
  'RAW_BUCKET',
  'CURATED_BUCKET',
  'QUARANTINE_BUCKET',
  'CURATED_KEY_ARN',
  'QUARANTINE_KEY_ARN',
  'HMAC_KEY_ARN',
  'SINGLE_PASS_BYTES',
  'STAGING_BUCKET',
  'STAGING_KEY_ARN',
  'RANGE_WORKFLOW_ARN',
  'RANGE_BYTES',
  'MAX_RANGE_BYTES',
] as const;

/** Where a range workflow's run stages its parts in the staging store. */
export const STAGING_PREFIX = 'runs/';

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
): StageConfig & { readonly ranges: RangeSettings } {
  const missing = ENVIRONMENT_VARIABLES.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`missing environment variable(s) ${missing.join(', ')}`);
  if (!datasets) throw new Error('no datasets: the bundle defines none');
  const bytes = (name: 'SINGLE_PASS_BYTES' | 'RANGE_BYTES' | 'MAX_RANGE_BYTES') => {
    const value = Number(env[name]);
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new Error(
        `environment variable ${name} is ${env[name]}; expected a positive whole number of bytes`,
      );
    }
    return value;
  };
  return {
    rawBucket: env.RAW_BUCKET!,
    curatedBucket: env.CURATED_BUCKET!,
    quarantineBucket: env.QUARANTINE_BUCKET!,
    curatedKeyArn: env.CURATED_KEY_ARN!,
    quarantineKeyArn: env.QUARANTINE_KEY_ARN!,
    hmacKeyId: env.HMAC_KEY_ARN!,
    ...(env.HMAC_KEY_NAME ? { hmacKeyName: env.HMAC_KEY_NAME } : {}),
    singlePassBytes: bytes('SINGLE_PASS_BYTES'),
    datasets: JSON.parse(datasets) as DatasetRules[],
    ranges: {
      staging: { bucket: env.STAGING_BUCKET!, prefix: STAGING_PREFIX, keyArn: env.STAGING_KEY_ARN! },
      rangeBytes: bytes('RANGE_BYTES'),
      maxRangeBytes: bytes('MAX_RANGE_BYTES'),
      workflowArn: env.RANGE_WORKFLOW_ARN!,
    },
  };
}

/** What the function is invoked with: a raw object's event, or a step of a range workflow's run. */
export type StageEvent = ObjectCreatedEvent | RunStep;

type StepAnswer = Awaited<ReturnType<typeof runStep>>;

/** An event with a `phase` is a step of a run (and is checked as one); any other, a raw object's. */
const isRunStep = (event: StageEvent): event is RunStep => 'phase' in event;

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
export function makeHandler(
  s3: S3Like,
  tokenizer: Tokenizer,
  config: StageConfig & { readonly ranges: RangeSettings },
  sfn: SfnLike,
) {
  return async (event: StageEvent): Promise<Outcome | StepAnswer> => {
    if (isRunStep(event)) {
      const step = runStepFrom(event);
      const answer = await runStep(s3, tokenizer, config, config.ranges, step);
      console.log(
        JSON.stringify({
          message: 'pseudonymization run step',
          phase: step.phase,
          keyToken: step.keyToken,
          versionId: step.versionId,
          ...(step.phase === 'range' ? { index: step.index } : {}),
          ...answer,
          ...('items' in answer ? { items: answer.items.length } : {}),
          macCalls: tokenizer.provider.calls,
        }),
      );
      return answer;
    }
    const object = objectFrom(event);
    const outcome = await processObject(s3, tokenizer, config, object, (large) =>
      routeToWorkflow(s3, sfn, config.ranges, large),
    );
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
          : outcome.status === 'routed'
            ? { dataset: outcome.dataset, run: outcome.run }
            : { reason: outcome.reason }),
      }),
    );
    return outcome;
  };
}

let live: ((event: StageEvent) => Promise<Outcome | StepAnswer>) | undefined;

/** The Lambda entry point. Clients and the token cache live as long as the execution environment. */
export async function handler(event: StageEvent): Promise<Outcome | StepAnswer> {
  if (!live) {
    const config = stageConfigFrom(process.env);
    const kms = new KMSClient({});
    const mac = new KmsMac(kms, config.hmacKeyId, (input) => new GenerateMacCommand(input));
    live = makeHandler(new S3Client({}), new Tokenizer(mac), config, new SFNClient({}));
  }
  return live(event);
}
