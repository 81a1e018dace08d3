import { ArnFormat, Duration, Size, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { PseudonymizationConfig } from '../config/schema';
import { alertAlarm } from '../constructs/alert-alarm';
import { SegmentFunction } from '../constructs/segment-function';
import { acknowledge } from '../gate/acknowledge';
import { pseudonymizationRuleName, pseudonymizationWorkflowName } from '../names';
import type { DatasetRules } from '../functions/pseudonymize/rules';
import type { DataZone } from '../constructs/data-zone';
import type { SegmentVpc } from '../constructs/segment-vpc';
import type { DataZone as DataZoneName } from '../contract/classification';
import type { PseudonymizationState } from './data-stack';
import { rangeWorkflow, type RANGE_WORKFLOW_SUBSTITUTIONS } from './pseudonymization-workflow';

/**
 * The largest raw object one invocation transforms; a larger one goes to the range workflow. At
 * the stage's measured rate with KMS (docs/benchmark.md) it is minutes of a 15-minute invocation,
 * and its outputs (several times its size) fit the function's ephemeral storage.
 */
export const SINGLE_PASS_BYTES = 256 * 1024 ** 2;
/** The range workflow cuts a file at the first record boundary after this many bytes. */
export const RANGE_BYTES = 64 * 1024 ** 2;
/** A range longer than one invocation transforms (no record boundary for that long) sets the file aside. */
export const MAX_RANGE_BYTES = SINGLE_PASS_BYTES;

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
  /** The range workflow's role (identity stack) and execution log (audit stack). */
  readonly workflowRole: iam.IRole;
  readonly workflowLogGroup: logs.ILogGroup;
  readonly alertTopic: sns.ITopic;
}

/**
 * The pseudonymization stage: a function in the pipeline segment's workload subnets (no internet
 * path; S3 through the gateway endpoint, KMS and Step Functions through interface endpoints) that
 * the raw zone's "Object Created" events invoke through EventBridge. Events it fails on after its
 * retries go to the encrypted dead-letter queue of the data stack. An object too large for one
 * invocation is handed to the range workflow (Step Functions), which runs the same function on
 * its byte ranges side by side. Alarms tell the alert topic.
 */
export class PipelineStack extends Stack {
  readonly function: lambda.Function;
  readonly rule: events.Rule;
  readonly workflow: sfn.StateMachine;
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
        SINGLE_PASS_BYTES: String(SINGLE_PASS_BYTES),
        STAGING_BUCKET: stage.staging.bucketName,
        STAGING_KEY_ARN: stage.stagingKey.key.keyArn,
        // By its fixed name: the workflow names the function, so the function cannot name it by reference.
        RANGE_WORKFLOW_ARN: this.formatArn({
          service: 'states',
          resource: 'stateMachine',
          resourceName: pseudonymizationWorkflowName(props.namePrefix),
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
        RANGE_BYTES: String(RANGE_BYTES),
        MAX_RANGE_BYTES: String(MAX_RANGE_BYTES),
      },
    }).function;

    // One slot of the reserved concurrency stays for new objects' events and other runs' steps.
    const concurrency = props.pseudonymization.concurrency;
    this.workflow = new sfn.StateMachine(this, 'RangeWorkflow', {
      stateMachineName: pseudonymizationWorkflowName(props.namePrefix),
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(
        JSON.stringify(rangeWorkflow({ maxConcurrency: Math.max(1, concurrency - 1) })),
      ),
      definitionSubstitutions: {
        Partition: this.partition,
        Stage: this.function.functionArn,
      } satisfies Record<(typeof RANGE_WORKFLOW_SUBSTITUTIONS)[number], string>,
      role: iam.Role.fromRoleArn(this, 'WorkflowRole', props.workflowRole.roleArn, { mutable: false }),
      logs: { destination: props.workflowLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    acknowledge(this.workflow, {
      pack: 'cdk-validator-cfnguard',
      rule: 'step_functions_state_machine_logging_enabled_check',
      reason:
        'The workflow logs ALL events to its log group in the audit stack, imported from that stack; the rule accepts only literal or same-template log group ARNs, and the Control Tower hook, which sees the resolved ARN at deploy time, passes.',
    });

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
      'RangeRunFailedAlarm',
      'A run of the range workflow failed (a large raw object was not pseudonymized; it stays in the raw zone): see the execution, fix the cause and redrive it within 14 days',
      this.workflow.metricFailed({ period, statistic: 'Sum' }),
    );
    alarm(
      'RangeRunTimedOutAlarm',
      'A run of the range workflow did not finish within 24 hours (a large raw object was not pseudonymized; it stays in the raw zone)',
      this.workflow.metricTimedOut({ period, statistic: 'Sum' }),
    );
    alarm(
      'DroppedEventsAlarm',
      'Lambda dropped events for the pseudonymization function before it could run them',
      this.function.metric('AsyncEventsDropped', { period, statistic: 'Sum' }),
    );
  }
}
