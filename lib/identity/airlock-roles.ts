import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import {
  IMPORTED_PREFIX,
  IMPORTER_PREFIX,
  INCOMING_PREFIX,
  MALWARE_SCAN_RULE,
  MALWARE_SCAN_VALIDATION_KEY,
  OUTGOING_PREFIX,
  RECORD_PREFIXES,
} from '../airlock';
import type { DataZone } from '../constructs/data-zone';
import { airlockFunctionName, airlockWorkflowName } from '../names';
import {
  AIRLOCK_DESK_ROLE,
  AIRLOCK_EVENTS_ROLE,
  AIRLOCK_EXPORTER_ROLE,
  AIRLOCK_IMPORTER_ROLE,
  AIRLOCK_REVIEWER_ROLE,
  AIRLOCK_SCANNER_ROLE,
  AIRLOCK_WORKER_ROLE,
  AIRLOCK_WORKFLOW_ROLE,
} from './actors';
import { BlueprintRole, type PeopleTrust } from './blueprint-role';
import {
  functionLogs,
  unscoped,
  WORKFLOW_LOG_DELIVERY_ACTIONS,
  WORKFLOW_TRACING_ACTIONS,
} from './statements';

export { WORKFLOW_LOG_DELIVERY_ACTIONS, WORKFLOW_TRACING_ACTIONS } from './statements';

/** The airlock's resources its roles are given rights on. */
export interface AirlockResources {
  readonly namePrefix: string;
  readonly importZone: DataZone;
  readonly requests: dynamodb.ITable;
  readonly log: s3.IBucket;
  readonly key: kms.IKey;
}

/** The desk function's ARN, by its fixed name (the desk is built in the airlock stack, after the roles). */
function deskArn(scope: Construct, prefix: string): string {
  return Stack.of(scope).formatArn({
    service: 'lambda',
    resource: 'function',
    resourceName: airlockFunctionName(prefix, 'desk'),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * Calling the desk through its IAM-authorised URL, and only through it: Lambda requires both
 * actions of a URL's caller, and the second is bound to the URL so that no one invokes the desk
 * directly with a request context of their own making.
 */
export function callTheDesk(scope: Construct, prefix: string): iam.PolicyStatement[] {
  const desk = deskArn(scope, prefix);
  return [
    new iam.PolicyStatement({
      sid: 'CallTheAirlockDesk',
      actions: ['lambda:InvokeFunctionUrl'],
      resources: [desk],
      conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
    }),
    new iam.PolicyStatement({
      sid: 'CallTheAirlockDeskThroughItsUrlOnly',
      actions: ['lambda:InvokeFunction'],
      resources: [desk],
      conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
    }),
  ];
}

function useTheKeyThroughDynamoDb(scope: Construct, key: kms.IKey): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'UseTheAirlockKeyThroughDynamoDb',
    actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(scope).region}.amazonaws.com` } },
  });
}

export interface AirlockPeopleProps extends AirlockResources {
  readonly trust: PeopleTrust;
}

/** Uploads datasets and models into the import zone, under its session's own id; reads nothing. */
export class AirlockImporterRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: AirlockPeopleProps) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: AIRLOCK_IMPORTER_ROLE,
      description: "Uploads datasets and models into the airlock's import zone for scanning and review",
      trust: props.trust,
    });
    props.importZone.grantWrite(this, { prefix: IMPORTER_PREFIX });
    for (const statement of callTheDesk(this, props.namePrefix)) this.addToPrincipalPolicy(statement);
  }
}

/** Reads what waits in the import zone (and the export zone) and decides through the desk; writes nothing. */
export class AirlockReviewerRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: AirlockPeopleProps & { readonly exportZone?: DataZone }) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: AIRLOCK_REVIEWER_ROLE,
      description: "Reviews the airlock's imports and exports and approves or rejects them through its desk",
      trust: props.trust,
    });
    props.importZone.grantRead(this);
    props.exportZone?.grantRead(this);
    for (const statement of callTheDesk(this, props.namePrefix)) this.addToPrincipalPolicy(statement);
  }
}

export interface AirlockFunctionRoleProps extends AirlockResources {
  /** The function's log group (audit stack). */
  readonly logGroup?: logs.ILogGroup;
}

/**
 * The desk's role: reads and decides requests, hands a decision to the waiting workflow, and (with
 * an export) starts the export workflow for a requester's request.
 */
export class AirlockDeskRole extends BlueprintRole {
  constructor(
    scope: Construct,
    id: string,
    props: AirlockFunctionRoleProps & { readonly exports?: boolean },
  ) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: AIRLOCK_DESK_ROLE,
      description: "The airlock desk's function: shows requests, records decisions, resumes the workflow",
      trust: { kind: 'service', service: 'lambda.amazonaws.com' },
    });
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAndDecideRequests',
        actions: ['dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
        resources: [props.requests.tableArn],
      }),
    );
    this.addToPrincipalPolicy(useTheKeyThroughDynamoDb(this, props.key));
    // SendTaskSuccess names no resource (IAM can scope it to none): the task token, which only the
    // workflow writes and only this role reads, is what picks the execution.
    this.addToPrincipalPolicy(unscoped('ResumeTheWorkflow', ['states:SendTaskSuccess']));
    if (props.exports)
      this.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'StartTheExportWorkflow',
          actions: ['states:StartExecution'],
          resources: [workflowArn(this, props.namePrefix, 'export')],
        }),
      );
    for (const statement of functionLogs(props.logGroup)) this.addToPrincipalPolicy(statement);
  }
}

export interface AirlockWorkerRoleProps extends AirlockFunctionRoleProps {
  /** The zones approved imports land in: datasets in raw, models under `imported/` in models. */
  readonly raw: DataZone;
  readonly models: DataZone;
}

/**
 * The worker's role: reads the import zone (to inspect and copy), tags what it holds, copies
 * approved imports into raw or models, and writes the decision log. It reads no zone but the
 * import zone.
 */
export class AirlockWorkerRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: AirlockWorkerRoleProps) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: AIRLOCK_WORKER_ROLE,
      description: "The airlock's worker function: inspects, holds and copies imports, logs decisions",
      trust: { kind: 'service', service: 'lambda.amazonaws.com' },
    });
    props.importZone.grantRead(this);
    props.raw.grantWrite(this);
    props.models.grantWrite(this, { prefix: IMPORTED_PREFIX });
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagHeldImportsAndCopies',
        actions: ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'],
        resources: [
          props.importZone.bucket.arnForObjects(`${INCOMING_PREFIX}*`),
          props.raw.bucket.arnForObjects('*'),
          props.models.bucket.arnForObjects(`${IMPORTED_PREFIX}*`),
        ],
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // A hold adds to the tags GuardDuty set, and a copy checks its scan status on the version.
        sid: 'ReadTheTagsOfImports',
        actions: ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'],
        resources: [props.importZone.bucket.arnForObjects(`${INCOMING_PREFIX}*`)],
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AbortFailedCopies',
        actions: ['s3:AbortMultipartUpload'],
        resources: [
          props.raw.bucket.arnForObjects('*'),
          props.models.bucket.arnForObjects(`${IMPORTED_PREFIX}*`),
        ],
      }),
    );
    // Nothing is copied out of the import zone unless its request, as the desk recorded it, was approved.
    for (const statement of readTheDecisions(this, props)) this.addToPrincipalPolicy(statement);
    for (const statement of writeTheLog(this, props, RECORD_PREFIXES.import))
      this.addToPrincipalPolicy(statement);
    for (const statement of functionLogs(props.logGroup)) this.addToPrincipalPolicy(statement);
  }
}

/** Writing records under one prefix of the decision log, encrypted with the airlock's key. */
/** Reading one request as the desk recorded it (its decision), through DynamoDB with the airlock's key. */
function readTheDecisions(scope: Construct, props: AirlockResources): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'ReadTheDecisions',
      actions: ['dynamodb:GetItem'],
      resources: [props.requests.tableArn],
    }),
    useTheKeyThroughDynamoDb(scope, props.key),
  ];
}

function writeTheLog(scope: Construct, props: AirlockResources, prefix: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'WriteTheDecisionLog',
      actions: ['s3:PutObject'],
      resources: [props.log.arnForObjects(`${prefix}*`)],
    }),
    new iam.PolicyStatement({
      sid: 'EncryptTheDecisionLog',
      actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [props.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(scope).region}.amazonaws.com` } },
    }),
  ];
}

export interface AirlockExporterRoleProps extends AirlockFunctionRoleProps {
  /** The zones requesters may ask objects out of (never a phi zone: config refuses one). */
  readonly sources: readonly DataZone[];
  /** The export zone, where requests are staged for review. */
  readonly exportZone: DataZone;
  /** The bucket outside approved exports are copied into: its name, owner and prefix. */
  readonly destination: { readonly bucket: string; readonly account: string; readonly prefix: string };
}

/**
 * The exporter's role: reads the source zones (to stage what was asked for), writes and tags the
 * export zone's `outgoing/`, writes approved exports into the destination (that bucket, that
 * prefix, in the account that owns it), and records exports in the decision log. It reads no
 * phi zone and no import: it is not the worker.
 */
export class AirlockExporterRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: AirlockExporterRoleProps) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: AIRLOCK_EXPORTER_ROLE,
      description:
        "The airlock's exporter function: stages requested exports for review and sends approved ones",
      trust: { kind: 'service', service: 'lambda.amazonaws.com' },
    });
    for (const zone of props.sources) zone.grantRead(this);
    const zone = props.exportZone;
    zone.grantRead(this);
    zone.grantWrite(this, { prefix: OUTGOING_PREFIX });
    const staged = zone.bucket.arnForObjects(`${OUTGOING_PREFIX}*`);
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagStagedExports',
        actions: [
          's3:GetObjectTagging',
          's3:GetObjectVersionTagging',
          's3:PutObjectTagging',
          's3:PutObjectVersionTagging',
        ],
        resources: [staged],
      }),
    );
    const { bucket, account, prefix } = props.destination;
    const sent = `arn:${this.stack.partition}:s3:::${bucket}/${prefix}*`;
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AbortFailedCopies',
        actions: ['s3:AbortMultipartUpload'],
        resources: [staged, sent],
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SendApprovedExports',
        actions: ['s3:PutObject', 's3:PutObjectTagging'],
        resources: [sent],
        conditions: { StringEquals: { 's3:ResourceAccount': account } },
      }),
    );
    // Nothing goes out unless its request, as the desk recorded it, says it was approved.
    for (const statement of readTheDecisions(this, props)) this.addToPrincipalPolicy(statement);
    for (const statement of writeTheLog(this, props, RECORD_PREFIXES.export))
      this.addToPrincipalPolicy(statement);
    for (const statement of functionLogs(props.logGroup)) this.addToPrincipalPolicy(statement);
  }
}

/**
 * The workflows' role: calls the worker (and, with an export, the exporter), records requests and
 * reads back the desk's decisions, delivers its logs and traces.
 */
export class AirlockWorkflowRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: AirlockResources & { readonly exports?: boolean }) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: AIRLOCK_WORKFLOW_ROLE,
      description: "The airlock's import and export workflows (Step Functions)",
      trust: { kind: 'service', service: 'states.amazonaws.com' },
    });
    const functions: ('worker' | 'exporter')[] = props.exports ? ['worker', 'exporter'] : ['worker'];
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CallTheWorker',
        actions: ['lambda:InvokeFunction'],
        resources: functions.map((part) =>
          this.stack.formatArn({
            service: 'lambda',
            resource: 'function',
            resourceName: airlockFunctionName(props.namePrefix, part),
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RecordRequests',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [props.requests.tableArn],
      }),
    );
    this.addToPrincipalPolicy(useTheKeyThroughDynamoDb(this, props.key));
    this.addToPrincipalPolicy(unscoped('DeliverTheWorkflowsLogs', WORKFLOW_LOG_DELIVERY_ACTIONS));
    this.addToPrincipalPolicy(unscoped('TraceTheWorkflow', WORKFLOW_TRACING_ACTIONS));
  }
}

/** A workflow's ARN, by its fixed name. */
function workflowArn(scope: Construct, prefix: string, direction: 'import' | 'export' = 'import'): string {
  return Stack.of(scope).formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: airlockWorkflowName(prefix, direction),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** EventBridge's role for the scan-result rule: starts the import workflow, nothing else. */
export class AirlockEventsRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: { readonly namePrefix: string }) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: AIRLOCK_EVENTS_ROLE,
      description: "Starts the airlock's import workflow for each scan result of its import zone",
      trust: { kind: 'service', service: 'events.amazonaws.com' },
    });
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StartTheImportWorkflow',
        actions: ['states:StartExecution'],
        resources: [workflowArn(this, props.namePrefix)],
      }),
    );
  }
}

/**
 * GuardDuty Malware Protection for S3's role on the import zone: the permissions its user guide
 * lists, on that bucket and GuardDuty's managed rule only.
 */
export class AirlockScannerRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: AirlockResources) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: AIRLOCK_SCANNER_ROLE,
      description: "GuardDuty Malware Protection for S3's role on the airlock's import zone",
      trust: {
        kind: 'service',
        service: 'malware-protection-plan.guardduty.amazonaws.com',
        sourceAccount: 'when-given',
      },
    });
    const zone = props.importZone;
    const rule = this.stack.formatArn({
      service: 'events',
      resource: 'rule',
      resourceName: MALWARE_SCAN_RULE,
    });
    const statements = [
      new iam.PolicyStatement({
        sid: 'ManageTheScanRule',
        actions: ['events:DeleteRule', 'events:PutRule', 'events:PutTargets', 'events:RemoveTargets'],
        resources: [rule],
        conditions: { StringLike: { 'events:ManagedBy': 'malware-protection-plan.guardduty.amazonaws.com' } },
      }),
      new iam.PolicyStatement({
        sid: 'WatchTheScanRule',
        actions: ['events:DescribeRule', 'events:ListTargetsByRule'],
        resources: [rule],
      }),
      new iam.PolicyStatement({
        sid: 'TagScannedObjects',
        actions: [
          's3:GetObjectTagging',
          's3:GetObjectVersionTagging',
          's3:PutObjectTagging',
          's3:PutObjectVersionTagging',
        ],
        resources: [zone.bucket.arnForObjects('*')],
      }),
      new iam.PolicyStatement({
        sid: 'SendTheBucketsEventsToEventBridge',
        actions: ['s3:GetBucketNotification', 's3:PutBucketNotification'],
        resources: [zone.bucket.bucketArn],
      }),
    ];
    for (const statement of statements) this.addToPrincipalPolicy(statement);
    // Reading to scan (and listing, which is how GuardDuty checks the bucket is the account's),
    // and its validation object.
    zone.grantRead(this);
    zone.grantWrite(this, { prefix: MALWARE_SCAN_VALIDATION_KEY });
  }
}
