import { Duration, Size, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { PseudonymizationConfig } from '../config/schema';
import { alertAlarm } from '../constructs/alert-alarm';
import { SegmentFunction } from '../constructs/segment-function';
import { pseudonymizationRuleName } from '../names';
import type { DatasetRules } from '../functions/pseudonymize/rules';
import type { DataZone } from '../constructs/data-zone';
import type { SegmentVpc } from '../constructs/segment-vpc';
import type { DataZone as DataZoneName } from '../contract/classification';
import type { PseudonymizationState } from './data-stack';

/** Raw objects larger than this are set aside whole (outputs are staged on ephemeral storage). */
export const MAX_OBJECT_BYTES = 4 * 1024 ** 3;

export interface PipelineStackProps extends StackProps {
  readonly namePrefix: string;
  readonly functionName: string;
  readonly pseudonymization: PseudonymizationConfig;
  /** The zones the stage reads (raw) and writes (curated, quarantine). */
  readonly zones: Pick<Readonly<Record<DataZoneName, DataZone>>, 'raw' | 'curated' | 'quarantine'>;
  /** Its HMAC key and dead-letter queue (data stack). */
  readonly state: PseudonymizationState;
  /** The pipeline segment's VPC, which the function runs in. */
  readonly vpc: SegmentVpc;
  /** The pseudonymization role (identity stack). */
  readonly role: iam.IRole;
  /** Its log group (audit stack): encrypted and retained. */
  readonly logGroup: logs.ILogGroup;
  readonly alertTopic: sns.ITopic;
}

/**
 * The pseudonymization stage: a function in the pipeline segment's workload subnets (no internet
 * path; S3 through the gateway endpoint, KMS through the interface endpoint) that the raw zone's
 * "Object Created" events invoke through EventBridge. Events it fails on after its retries go to
 * the encrypted dead-letter queue of the data stack; alarms tell the alert topic.
 */
export class PipelineStack extends Stack {
  readonly function: lambda.Function;
  readonly rule: events.Rule;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { zones, state: stage, vpc: segmentVpc } = props;
    const deadLetters = sqs.Queue.fromQueueAttributes(this, 'DeadLetters', {
      queueArn: stage.deadLetters.queueArn,
      keyArn: stage.deadLetterKey.key.keyArn,
    });
    const datasets = JSON.stringify(props.pseudonymization.datasets satisfies readonly DatasetRules[]);

    // The datasets' rules are compiled into the bundle: part of the code's hash, not of its
    // environment (whose size is limited).
    this.function = new SegmentFunction(this, 'Function', {
      source: 'pseudonymize',
      define: { 'process.env.PSEUDONYMIZATION_DATASETS': JSON.stringify(datasets) },
      segment: { name: props.pseudonymization.segment!, vpc: segmentVpc },
      role: props.role,
      logGroup: props.logGroup,
      functionName: props.functionName,
      description:
        'Pseudonymizes new raw-zone objects into the curated zone; sets aside what it cannot process',
      memorySize: 1024,
      timeout: Duration.minutes(15),
      ephemeralStorageSize: Size.gibibytes(10),
      reservedConcurrentExecutions: props.pseudonymization.concurrency,
      deadLetterQueue: deadLetters,
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      environment: {
        RAW_BUCKET: zones.raw.bucket.bucketName,
        CURATED_BUCKET: zones.curated.bucket.bucketName,
        QUARANTINE_BUCKET: zones.quarantine.bucket.bucketName,
        CURATED_KEY_ARN: zones.curated.key.key.keyArn,
        QUARANTINE_KEY_ARN: zones.quarantine.key.key.keyArn,
        HMAC_KEY_ARN: stage.hmacKey.key.keyArn,
        MAX_OBJECT_BYTES: String(MAX_OBJECT_BYTES),
      },
    }).function;

    this.rule = new events.Rule(this, 'RawObjectCreated', {
      ruleName: pseudonymizationRuleName(props.namePrefix),
      description: 'New objects in the raw zone, to the pseudonymization stage',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [zones.raw.bucket.bucketName] } },
      },
      targets: [
        new targets.LambdaFunction(this.function, {
          deadLetterQueue: deadLetters,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    const alarm = (id: string, description: string, metric: cloudwatch.IMetric) =>
      this.alarms.push(alertAlarm(this, id, { description, metric, topic: props.alertTopic }));
    const period = Duration.minutes(5);
    alarm(
      'DeadLettersAlarm',
      'The pseudonymization stage gave up on a raw object: its event is in the dead-letter queue (the object stays in the raw zone)',
      deadLetters.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
    );
    alarm(
      'DeadLetterErrorsAlarm',
      'The pseudonymization function could not write a failed event to its dead-letter queue',
      this.function.metric('DeadLetterErrors', { period, statistic: 'Sum' }),
    );
    alarm(
      'DroppedEventsAlarm',
      'Lambda dropped events for the pseudonymization function before it could run them',
      this.function.metric('AsyncEventsDropped', { period, statistic: 'Sum' }),
    );
  }
}
