import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as guardduty from 'aws-cdk-lib/aws-guardduty';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { CLEAN_SCAN, INCOMING_PREFIX, RECORD_PREFIXES } from '../airlock';
import { ZONE_CONTROLS } from '../classification';
import type { AirlockConfig } from '../config/schema';
import { alertAlarm } from '../constructs/alert-alarm';
import type { DataZone } from '../constructs/data-zone';
import { SegmentFunction } from '../constructs/segment-function';
import { acknowledge } from '../gate/acknowledge';
import { AIRLOCK_IMPORTER_ROLE, AIRLOCK_REVIEWER_ROLE, exportRequesters } from '../identity/actors';
import type { DataZone as DataZoneName } from '../contract/classification';
import { airlockFunctionName, airlockScanRuleName, airlockWorkflowName, roleName } from '../names';
import type { AirlockState } from './data-stack';
import type { AirlockRoles } from './identity-stack';
import {
  exportWorkflow,
  importWorkflow,
  sourceBucketSubstitution,
  type ExportSubstitution,
  type WorkflowSubstitution,
} from './airlock-workflow';

export interface AirlockStackProps extends StackProps {
  readonly namePrefix: string;
  readonly airlock: AirlockConfig;
  /** The import zone, requests, log, dead letters and key (data stack). */
  readonly state: AirlockState;
  /** The data zones: approved imports are copied into raw and models, exports asked out of their sources. */
  readonly zones: Readonly<Record<DataZoneName, DataZone>>;
  /** The roles the desk, the worker, the workflow, the scanner and the rule run as (identity stack). */
  readonly roles: AirlockRoles;
  /** The log groups of the functions and the workflow (audit stack). */
  readonly logs: {
    readonly desk: logs.ILogGroup;
    readonly worker: logs.ILogGroup;
    /** With an export. */
    readonly exporter?: logs.ILogGroup;
    /** Both workflows' execution logs. */
    readonly workflow: logs.ILogGroup;
  };
  readonly alertTopic: sns.ITopic;
}

/** Why the airlock's functions run in no segment. */
const OUTSIDE_SEGMENTS =
  "The airlock's functions serve people and a workflow outside every segment: the desk answers importers and reviewers through its IAM-authorised URL, " +
  'and the worker touches the import zone, raw and models as a named off-network role that their bucket policies admit; no segment endpoint is on their path.';

/**
 * The airlock's import path: GuardDuty Malware Protection for S3 on the import zone, the rule that
 * starts the import workflow for each scan result, the workflow (Step Functions, standard), the
 * worker it calls, the desk people call (an IAM-authorised function URL), and the alarms that tell
 * the alert topic of what it holds or fails at. Everything stateful is in the data stack.
 */
export class AirlockStack extends Stack {
  readonly desk: lambda.Function;
  readonly deskUrl: lambda.FunctionUrl;
  readonly worker: lambda.Function;
  readonly workflow: sfn.StateMachine;
  /** The export path, when the config has one. */
  readonly exporter?: lambda.Function;
  readonly exportWorkflow?: sfn.StateMachine;
  readonly plan: guardduty.CfnMalwareProtectionPlan;
  readonly rule: events.Rule;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AirlockStackProps) {
    super(scope, id, props);
    const { state, roles } = props;
    const prefix = props.namePrefix;
    const importBucket = state.importZone.bucket;

    this.plan = new guardduty.CfnMalwareProtectionPlan(this, 'ImportScanning', {
      role: roles.scanner.roleArn,
      protectedResource: {
        s3Bucket: { bucketName: importBucket.bucketName, objectPrefixes: [INCOMING_PREFIX] },
      },
      // GuardDuty tags each scanned object with its result; the import zone refuses reads of what it found malware in.
      actions: { tagging: { status: 'ENABLED' } },
    });

    this.worker = this.workflowHands(props, {
      part: 'worker',
      role: roles.worker,
      logGroup: props.logs.worker,
      description:
        "The airlock workflow's worker: inspects, holds and copies imports, writes the decision log",
      direction: 'import',
      onFailure: 'holds the import',
      // The worker copies an import only when its request, as the desk recorded it, was approved.
      environment: {
        REQUESTS_TABLE: state.requests.tableName,
        IMPORT_BUCKET: state.importZone.bucket.bucketName,
        // The bucket of each zone an import may be approved into: the copy goes to the reviewed one.
        IMPORT_TARGET_RAW: props.zones.raw.bucket.bucketName,
        IMPORT_TARGET_MODELS: props.zones.models.bucket.bucketName,
      },
    });

    const substitutions: Record<WorkflowSubstitution, string> = {
      Partition: this.partition,
      Worker: this.worker.functionArn,
      Requests: state.requests.tableName,
      RawBucket: props.zones.raw.bucket.bucketName,
      RawKey: props.zones.raw.key.key.keyArn,
      RawClass: ZONE_CONTROLS.raw.classification,
      ModelsBucket: props.zones.models.bucket.bucketName,
      ModelsKey: props.zones.models.key.key.keyArn,
      ModelsClass: ZONE_CONTROLS.models.classification,
    };
    this.workflow = this.workflowMachine(
      props,
      'ImportWorkflow',
      'import',
      importWorkflow({ reviewDays: props.airlock.reviewDays }),
      substitutions,
    );

    if (props.airlock.export) {
      const built = this.exportPath(props, props.airlock.export);
      this.exporter = built.exporter;
      this.exportWorkflow = built.workflow;
    }

    this.desk = new SegmentFunction(this, 'Desk', {
      source: 'airlock-desk',
      segment: { none: OUTSIDE_SEGMENTS },
      role: roles.desk,
      logGroup: props.logs.desk,
      functionName: airlockFunctionName(prefix, 'desk'),
      description: "The airlock's desk: where importers upload, what waits for review, reviewers' decisions",
      memorySize: 256,
      timeout: Duration.seconds(30),
      reservedConcurrentExecutions: 5,
      environment: {
        REQUESTS_TABLE: state.requests.tableName,
        IMPORT_BUCKET: importBucket.bucketName,
        IMPORTER_ROLE: roleName(prefix, AIRLOCK_IMPORTER_ROLE),
        REVIEWER_ROLE: roleName(prefix, AIRLOCK_REVIEWER_ROLE),
        ...(this.exportWorkflow
          ? {
              EXPORT_WORKFLOW_ARN: this.exportWorkflow.stateMachineArn,
              EXPORT_REQUESTERS: JSON.stringify(
                exportRequesters({ namePrefix: prefix, airlock: props.airlock }),
              ),
            }
          : {}),
      },
    }).function;
    acknowledge(
      this.desk,
      ...(['HIPAA.Security', 'NIST.800.53.R5'] as const).map((pack) => ({
        pack,
        rule: 'LambdaDLQ',
        reason:
          'People call the desk synchronously through its URL: a failure returns to the caller at once; there is no event to keep aside.',
      })),
    );
    // Who calls is who AWS authenticated: the URL takes signed requests only, and the roles that
    // may call it are named by their own policies (importer, reviewer).
    this.deskUrl = this.desk.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    new CfnOutput(this, 'DeskUrl', {
      description: "The airlock desk's URL (npm run airlock -- --desk URL ...)",
      value: this.deskUrl.url,
    });

    // Each scan result of an upload starts the workflow; one it cannot start is kept aside.
    const deadLetters = sqs.Queue.fromQueueAttributes(this, 'DeadLetters', {
      queueArn: state.deadLetters.queueArn,
      keyArn: state.deadLetterKey.key.keyArn,
    });
    this.rule = new events.Rule(this, 'ScanResults', {
      ruleName: airlockScanRuleName(prefix),
      description:
        "GuardDuty's scan result of each upload to the airlock's import zone, to the import workflow",
      eventPattern: {
        source: ['aws.guardduty'],
        detailType: ['GuardDuty Malware Protection Object Scan Result'],
        detail: {
          s3ObjectDetails: {
            bucketName: [importBucket.bucketName],
            objectKey: [{ prefix: INCOMING_PREFIX }],
          },
        },
      },
      targets: [
        new targets.SfnStateMachine(this.workflow, {
          role: iam.Role.fromRoleArn(this, 'EventsRole', roles.events.roleArn, { mutable: false }),
          deadLetterQueue: deadLetters,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric) =>
      this.alarms.push(alertAlarm(this, alarmId, { description, metric, topic: props.alertTopic }));
    const period = Duration.minutes(5);
    // Every scan that is not clean is told to the alert topic at once, with the object and the
    // result. (An L1 rule: the topic is the audit stack's, whose policy already admits this
    // account's rules, and the L2 target would add a statement without that condition.)
    new events.CfnRule(this, 'HeldScans', {
      name: `${prefix}-airlock-held-scans`,
      description: "Scan results of the airlock's import zone that are not clean, to the alert topic",
      state: 'ENABLED',
      eventPattern: {
        source: ['aws.guardduty'],
        'detail-type': ['GuardDuty Malware Protection Object Scan Result'],
        detail: {
          s3ObjectDetails: {
            bucketName: [importBucket.bucketName],
            objectKey: [{ prefix: INCOMING_PREFIX }],
          },
          scanResultDetails: { scanResultStatus: [{ 'anything-but': CLEAN_SCAN }] },
        },
      },
      targets: [
        {
          id: 'AlertTopic',
          arn: props.alertTopic.topicArn,
          inputTransformer: {
            inputPathsMap: {
              key: '$.detail.s3ObjectDetails.objectKey',
              result: '$.detail.scanResultDetails.scanResultStatus',
            },
            inputTemplate:
              '"Airlock: the upload <key> was scanned <result>; it is held in the import zone, and the decision log records it."',
          },
        },
      ],
    });
    alarm(
      'WorkflowFailedAlarm',
      "An airlock import workflow failed (a copy or a decision-log write did not succeed): the import is held; see the workflow's execution",
      this.workflow.metricFailed({ period, statistic: 'Sum' }),
    );
    alarm(
      'WorkflowNotStartedAlarm',
      'EventBridge could not start the airlock import workflow for a scan result: the event is in the dead-letter queue, the object held',
      deadLetters.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
    );
    alarm(
      'WorkerErrorsAlarm',
      "The airlock's worker failed a call (the workflow retries, then holds the import)",
      this.worker.metricErrors({ period, statistic: 'Sum' }),
    );
    this.alarmRefusals(props);
  }

  /**
   * A workflow's hands (the worker, the exporter): the worker's code as its own function and role,
   * recording under its direction's prefix of the decision log, invoked by its workflow alone.
   */
  private workflowHands(
    props: AirlockStackProps,
    hands: {
      readonly part: 'worker' | 'exporter';
      readonly role: iam.IRole;
      readonly logGroup: logs.ILogGroup;
      readonly description: string;
      readonly direction: 'import' | 'export';
      /** What the workflow does when a call fails. */
      readonly onFailure: string;
      readonly environment?: Record<string, string>;
    },
  ): lambda.Function {
    const { state } = props;
    const fn = new SegmentFunction(this, hands.part === 'worker' ? 'Worker' : 'Exporter', {
      source: 'airlock-worker',
      segment: { none: OUTSIDE_SEGMENTS },
      role: hands.role,
      logGroup: hands.logGroup,
      functionName: airlockFunctionName(props.namePrefix, hands.part),
      description: hands.description,
      memorySize: 512,
      // Copies of large models go in parts, server-side.
      timeout: Duration.minutes(15),
      environment: {
        DECISION_LOG_BUCKET: state.log.bucketName,
        DECISION_LOG_KEY_ARN: state.key.key.keyArn,
        DECISION_LOG_PREFIX: RECORD_PREFIXES[hands.direction],
        ...hands.environment,
      },
    }).function;
    const workflow = hands.direction === 'import' ? 'The workflow' : 'The export workflow';
    acknowledge(
      fn,
      ...(['HIPAA.Security', 'NIST.800.53.R5'] as const).flatMap((pack) => [
        {
          pack,
          rule: 'LambdaDLQ',
          reason: `${workflow} invokes the ${hands.part} synchronously and retries; a failure is caught by the workflow, which ${hands.onFailure} and records why.`,
        },
        {
          pack,
          rule: 'LambdaConcurrency',
          reason: `Only the ${hands.direction} workflow invokes the ${hands.part}, one call per step of an execution; a reservation would take from the account's unreserved pool without a limit that matters.`,
        },
      ]),
    );
    return fn;
  }

  /** A workflow (standard, JSONata) as the workflow role, logging every event and tracing. */
  private workflowMachine(
    props: AirlockStackProps,
    id: 'ImportWorkflow' | 'ExportWorkflow',
    direction: 'import' | 'export',
    definition: Record<string, unknown>,
    substitutions: Record<string, string>,
  ): sfn.StateMachine {
    const machine = new sfn.StateMachine(this, id, {
      stateMachineName: airlockWorkflowName(props.namePrefix, direction),
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(definition)),
      definitionSubstitutions: substitutions,
      role: iam.Role.fromRoleArn(
        this,
        id === 'ImportWorkflow' ? 'WorkflowRole' : 'ExportWorkflowRole',
        props.roles.workflow.roleArn,
        {
          mutable: false,
        },
      ),
      logs: { destination: props.logs.workflow, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    acknowledge(machine, {
      pack: 'cdk-validator-cfnguard',
      rule: 'step_functions_state_machine_logging_enabled_check',
      reason:
        'The workflow logs ALL events to its log group in the audit stack, imported from that stack; the rule accepts only literal or same-template log group ARNs, and the Control Tower hook, which sees the resolved ARN at deploy time, passes.',
    });
    return machine;
  }

  /**
   * The export path: the exporter (the worker's code, as its own function and role), the export
   * workflow the desk starts, and every request's progress and outcome told to the alert topic.
   */
  private exportPath(
    props: AirlockStackProps,
    exp: NonNullable<AirlockConfig['export']>,
  ): { exporter: lambda.Function; workflow: sfn.StateMachine } {
    const { state, roles } = props;
    const prefix = props.namePrefix;
    const exportZone = state.exportZone;
    const exportKey = state.exportKey;
    if (!exportZone || !exportKey || !roles.exporter || !props.logs.exporter)
      throw new Error(
        'AirlockStack: an export needs the export zone, its key, the exporter role and its log group',
      );
    const exporter = this.workflowHands(props, {
      part: 'exporter',
      role: roles.exporter,
      logGroup: props.logs.exporter,
      description:
        "The airlock export workflow's hands: stages requested objects for review, sends approved ones, writes the decision log",
      direction: 'export',
      onFailure: 'refuses the request',
      // It reads a request's decision before it sends anything out.
      environment: { REQUESTS_TABLE: state.requests.tableName },
    });
    const substitutions: Record<string, string> = {
      Partition: this.partition,
      Exporter: exporter.functionArn,
      Requests: state.requests.tableName,
      ExportBucket: exportZone.bucket.bucketName,
      ExportKey: exportKey.key.keyArn,
      DestinationBucket: exp.destination.bucket,
      DestinationPrefix: exp.destination.prefix,
      DestinationAccount: exp.destination.account,
    } satisfies Record<ExportSubstitution, string>;
    for (const zone of exp.sources)
      substitutions[sourceBucketSubstitution(zone)] = props.zones[zone].bucket.bucketName;
    const workflow = this.workflowMachine(
      props,
      'ExportWorkflow',
      'export',
      exportWorkflow({
        reviewDays: props.airlock.reviewDays,
        sources: exp.sources.map((zone) => ({ zone, classification: ZONE_CONTROLS[zone].classification })),
      }),
      substitutions,
    );

    // Every request is told to the alert topic when it starts (asked for) and when it ends (sent,
    // rejected, refused, lapsed: the decision log and the desk say which), with its request id.
    new events.CfnRule(this, 'ExportRequests', {
      name: `${prefix}-airlock-export-requests`,
      description: "The airlock's export requests, as they start and end, to the alert topic",
      state: 'ENABLED',
      eventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [workflow.stateMachineArn] },
      },
      targets: [
        {
          id: 'AlertTopic',
          arn: props.alertTopic.topicArn,
          inputTransformer: {
            inputPathsMap: { request: '$.detail.name', status: '$.detail.status' },
            inputTemplate:
              '"Airlock export <request>: the export workflow is <status>. npm run airlock -- status <request> shows what was asked for and what was decided; the decision log records it."',
          },
        },
      ],
    });
    const period = Duration.minutes(5);
    this.alarms.push(
      alertAlarm(this, 'ExportWorkflowFailedAlarm', {
        description:
          "An airlock export workflow failed (an approved export could not be sent, or a decision-log write did not succeed): see the workflow's execution",
        metric: workflow.metricFailed({ period, statistic: 'Sum' }),
        topic: props.alertTopic,
      }),
      alertAlarm(this, 'ExporterErrorsAlarm', {
        description: "The airlock's exporter failed a call (the workflow retries, then refuses the request)",
        metric: exporter.metricErrors({ period, statistic: 'Sum' }),
        topic: props.alertTopic,
      }),
    );
    return { exporter, workflow };
  }

  /** Requests the desk refuses (a role or a source not allowed, a decision by the requester), alarmed. */
  private alarmRefusals(props: AirlockStackProps): void {
    const namespace = `${props.namePrefix}/airlock`;
    new logs.MetricFilter(this, 'DeskRefusals', {
      logGroup: props.logs.desk,
      // The desk logs an object, which the JSON log format keeps as the record's message.
      filterPattern: logs.FilterPattern.stringValue('$.message.message', '=', 'refused'),
      metricNamespace: namespace,
      metricName: 'DeskRefusals',
      metricValue: '1',
    });
    this.alarms.push(
      alertAlarm(this, 'DeskRefusalsAlarm', {
        description:
          "The airlock's desk refused a request: a caller asked for what their role may not (an export from a zone it may not ask out of), or decided on their own request; its log names who",
        metric: new cloudwatch.Metric({
          namespace,
          metricName: 'DeskRefusals',
          period: Duration.minutes(5),
          statistic: 'Sum',
        }),
        topic: props.alertTopic,
      }),
    );
  }
}
