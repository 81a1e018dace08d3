import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { pseudonymizationFunctionName, pseudonymizationWorkflowName } from '../names';
import type { DataZone as ZoneName } from '../contract/classification';
import type { DataZone } from '../constructs/data-zone';
import type { SageMakerProfile, SegmentKind } from '../segment-kinds';
import {
  INFERENCE_API_ROLE,
  INGESTION_ROLE,
  PSEUDONYMIZATION_ROLE,
  PSEUDONYMIZATION_WORKFLOW_ROLE,
  SAGEMAKER_ROLE,
} from './actors';
import { BlueprintRole } from './blueprint-role';
import type { SageMakerSegment } from './human-roles';
import {
  functionInAVpc,
  functionLogs,
  networkInterfaces,
  passSageMakerRoles,
  sageMakerLogGroups,
  sageMakerVpcGuardrail,
  sagemakerArn,
  unscoped,
  readPackages,
  imageCacheRepositories,
  WORKFLOW_LOG_DELIVERY_ACTIONS,
  WORKFLOW_TRACING_ACTIONS,
} from './statements';

const LAMBDA = 'lambda.amazonaws.com';

export interface IngestionRoleProps {
  readonly namePrefix: string;
  /** The uploaders' principals (software, no MFA); none: the account's principals an admin allows. */
  readonly principals?: readonly string[];
  /** The external id the principals must present, when the config sets one. */
  readonly externalId?: string;
  /** The raw zone, which the role writes. */
  readonly raw: DataZone;
}

/** Uploads raw data into the raw zone; reads nothing. */
export class IngestionRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: IngestionRoleProps) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: INGESTION_ROLE,
      description: 'Uploads raw data into the raw zone',
      trust: {
        kind: 'machines',
        principals: props.principals,
        field: 'identities.ingestion',
        externalId: props.externalId,
      },
    });
    props.raw.grantWrite(this);
  }
}

/** The pseudonymization stage's own resources. */
export interface StageResources {
  /** The HMAC key whose MACs are the tokens; it never leaves KMS. */
  readonly hmacKey: kms.IKey;
  readonly deadLetters: sqs.IQueue;
  readonly deadLetterKey: kms.IKey;
  /** Where the range workflow's runs keep their parts, and its key. */
  readonly staging: s3.IBucket;
  readonly stagingKey: kms.IKey;
}

export interface PseudonymizationRoleProps {
  readonly namePrefix: string;
  readonly raw: DataZone;
  readonly curated: DataZone;
  readonly quarantine: DataZone;
  /** The stage's key and dead-letter queue; none where the config builds no stage. */
  readonly stage?: StageResources;
  /** The function's log group; none where it is not built. */
  readonly logGroup?: logs.ILogGroup;
  /** The VPC (ARN) of the segment the function runs in; none where the config builds no stage. */
  readonly vpcArn?: string;
}

/**
 * The stage's function role: reads raw, writes curated and quarantine, MACs identifiers with the
 * HMAC key (which never leaves KMS), sets aside the events it failed on, runs in the segment's VPC.
 */
export class PseudonymizationRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: PseudonymizationRoleProps) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: PSEUDONYMIZATION_ROLE,
      description: 'Pseudonymizes raw records into the curated zone; sets aside what it cannot process',
      trust: { kind: 'service', service: LAMBDA },
    });
    props.raw.grantRead(this);
    props.curated.grantWrite(this);
    props.quarantine.grantWrite(this);
    const stage = props.stage;
    if (stage) {
      this.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'TokeniseWithTheHmacKey',
          actions: ['kms:GenerateMac'],
          resources: [stage.hmacKey.keyArn],
        }),
      );
      this.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'SetAsideFailedEvents',
          actions: ['sqs:SendMessage'],
          resources: [stage.deadLetters.queueArn],
        }),
      );
      this.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'EncryptDeadLetters',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [stage.deadLetterKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `sqs.${this.stack.region}.amazonaws.com` } },
        }),
      );
      // Objects too large for one invocation: a run of the range workflow, whose parts wait in
      // the staging store until assembled, then are deleted.
      this.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'StartRangeRuns',
          actions: ['states:StartExecution'],
          resources: [workflowArn(this, props.namePrefix)],
        }),
      );
      this.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'StageRangeParts',
          actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
          resources: [stage.staging.arnForObjects('*')],
        }),
      );
      // Without it S3 answers a missing key with 403, not 404: a step could not tell "no run's
      // end recorded yet" from a refusal.
      this.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'TellMissingPartsFromRefusals',
          actions: ['s3:ListBucket'],
          resources: [stage.staging.bucketArn],
        }),
      );
      this.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'EncryptStagedParts',
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [stage.stagingKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${this.stack.region}.amazonaws.com` } },
        }),
      );
      // An assembly that fails gives up its uploads in parts, leaving no part behind.
      this.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'AbortItsUploadsInParts',
          actions: ['s3:AbortMultipartUpload'],
          resources: [props.curated.bucket.arnForObjects('*'), props.quarantine.bucket.arnForObjects('*')],
        }),
      );
    }
    for (const statement of [
      ...functionLogs(props.logGroup),
      ...(props.vpcArn ? functionInAVpc(this, props.vpcArn) : []),
    ]) {
      this.addToPrincipalPolicy(statement);
    }
  }
}

/** The range workflow's ARN, by its fixed name (the function's role and the workflow's name it). */
function workflowArn(scope: Construct, prefix: string): string {
  return Stack.of(scope).formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: pseudonymizationWorkflowName(prefix),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** The range workflow's executions (`:*` its runs, `/*` its Distributed Map's children), by its fixed name. */
function workflowExecutions(scope: Construct, prefix: string, suffix: ':*' | '/*'): string {
  return Stack.of(scope).formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${pseudonymizationWorkflowName(prefix)}${suffix}`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * The range workflow's role: invokes the stage's function for each step of a run, runs the
 * Distributed Map's child executions (of itself alone), delivers its logs and traces.
 */
export class PseudonymizationWorkflowRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: { readonly namePrefix: string }) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: PSEUDONYMIZATION_WORKFLOW_ROLE,
      description:
        "The pseudonymization stage's range workflow (Step Functions), for objects too large for one invocation",
      // Assumed for this state machine and its executions alone (aws:SourceArn): no other state
      // machine of the account, made by whoever may pass roles, runs as this role.
      trust: {
        kind: 'service',
        service: 'states.amazonaws.com',
        sourceArns: [
          workflowArn(scope, props.namePrefix),
          ...([':*', '/*'] as const).map((suffix) => workflowExecutions(scope, props.namePrefix, suffix)),
        ],
      },
    });
    const stack = Stack.of(this);
    const executions = (suffix: ':*' | '/*') => workflowExecutions(this, props.namePrefix, suffix);
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CallTheStage',
        actions: ['lambda:InvokeFunction'],
        resources: [
          stack.formatArn({
            service: 'lambda',
            resource: 'function',
            resourceName: pseudonymizationFunctionName(props.namePrefix),
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    // A Distributed Map runs each item as a child execution of this workflow, and redrives them.
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RunTheMapsChildExecutions',
        actions: ['states:StartExecution'],
        resources: [workflowArn(this, props.namePrefix)],
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FollowTheMapsChildExecutions',
        actions: ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'],
        resources: [executions(':*'), executions('/*')],
      }),
    );
    this.addToPrincipalPolicy(unscoped('DeliverTheWorkflowsLogs', WORKFLOW_LOG_DELIVERY_ACTIONS));
    this.addToPrincipalPolicy(unscoped('TraceTheWorkflow', WORKFLOW_TRACING_ACTIONS));
  }
}

export interface SageMakerExecutionRoleProps {
  readonly namePrefix: string;
  readonly segmentName: string;
  readonly kind: SegmentKind;
  /** What the kind's SageMaker work does: the zones it reads and writes, the work it launches. */
  readonly profile: SageMakerProfile;
  /** The segment's own key (its SageMaker volumes and storage). */
  readonly key: kms.IKey;
  /** The data zones, of which the role gets those its profile names. */
  readonly zones: Readonly<Record<ZoneName, DataZone>>;
  /**
   * The segments of the kind the profile launches jobs in, with their keys and VPCs; jobs write
   * their output to the models zone with its key. Empty: the role starts no jobs.
   * @default none
   */
  readonly jobSegments?: readonly SageMakerSegment[];
  /** The segment's VPC (ARN): the role's network interfaces are there and nowhere else. */
  readonly vpcArn: string;
}

/**
 * The execution role of a segment's SageMaker work: the segment key, the organisation's images,
 * SageMaker's logs and metrics, network interfaces; then what the kind's profile says: the zones
 * it reads and writes, and the work it may start in segments of another kind, pinned there by
 * guardrail conditions.
 */
export class SageMakerExecutionRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: SageMakerExecutionRoleProps) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: SAGEMAKER_ROLE,
      segment: props.segmentName,
      description: `SageMaker execution role of ${props.kind} segment ${props.segmentName}`,
      trust: { kind: 'service', service: 'sagemaker.amazonaws.com' },
    });
    const { key, profile, zones } = props;
    if (profile.studio) {
      // Studio sets the user profile's name as the source identity of the sessions it starts as
      // this role (the domain's ExecutionRoleIdentityConfig): what a person does in Studio is
      // theirs in the trail, and no later hop can change it.
      this.assumeRolePolicy?.addStatements(
        new iam.PolicyStatement({
          sid: 'StudioSetsTheUsersSourceIdentity',
          actions: ['sts:SetSourceIdentity'],
          principals: [new iam.ServicePrincipal('sagemaker.amazonaws.com')],
          conditions: { StringEquals: { 'aws:SourceAccount': this.stack.account } },
        }),
      );
    }
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'UseTheSegmentKey',
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [key.keyArn],
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'GrantTheSegmentKeyToAwsResources',
        actions: ['kms:CreateGrant'],
        resources: [key.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
    // The image caches' repositories, which the ML engineer fills (they read no personal data, and
    // a notebook's direct CreateRepository would make one without the creation template).
    const cachedImages = imageCacheRepositories(this, props.namePrefix);
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PullTheOrganisationsImages',
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        resources: [
          this.stack.formatArn({
            service: 'ecr',
            resource: 'repository',
            resourceName: `${props.namePrefix}-*`,
          }),
          ...cachedImages,
        ],
      }),
    );
    if (profile.packages) {
      for (const statement of readPackages(this, props.namePrefix)) this.addToPrincipalPolicy(statement);
    }
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteSageMakerLogs',
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:DescribeLogStreams',
          'logs:PutLogEvents',
        ],
        resources: [sageMakerLogGroups(this)],
      }),
    );
    this.addToPrincipalPolicy(
      unscoped('EcrLogInAndSageMakerMetrics', ['ecr:GetAuthorizationToken', 'cloudwatch:PutMetricData'], {
        StringLikeIfExists: { 'cloudwatch:namespace': '/aws/sagemaker/*' },
      }),
    );
    for (const statement of networkInterfaces([props.vpcArn])) this.addToPrincipalPolicy(statement);
    for (const zone of profile.reads) zones[zone].grantRead(this);
    for (const { zone, prefix } of profile.writes) zones[zone].grantWrite(this, prefix ? { prefix } : {});

    const jobs = props.jobSegments ?? [];
    if (jobs.length === 0) return;
    const jobArns = [sagemakerArn(this, 'training-job', '*'), sagemakerArn(this, 'processing-job', '*')];
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CreateJobsOnlyInATrainingSegmentIsolatedAndEncrypted',
        actions: ['sagemaker:CreateTrainingJob', 'sagemaker:CreateProcessingJob'],
        resources: jobArns,
        conditions: {
          ...sageMakerVpcGuardrail(
            jobs.map((s) => s.vpc),
            { isolation: true, interContainerEncryption: true },
          ),
          StringEquals: {
            'sagemaker:VolumeKmsKey': jobs.map((s) => s.key.keyArn),
            // Jobs write their output (model artifacts) to the models zone, with its key.
            'sagemaker:OutputKmsKey': zones.models.key.key.keyArn,
          },
        },
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FollowAndTagTheJobs',
        actions: [
          'sagemaker:AddTags',
          'sagemaker:DescribeProcessingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopProcessingJob',
          'sagemaker:StopTrainingJob',
        ],
        resources: jobArns,
      }),
    );
    this.addToPrincipalPolicy(
      passSageMakerRoles(
        this,
        jobs.map((s) => s.executionRoleName),
      ),
    );
  }
}

export interface InferenceApiBackendRoleProps {
  readonly namePrefix: string;
  /** The segment whose endpoint the API serves. */
  readonly segmentName: string;
  /** The SageMaker endpoint the backend invokes. */
  readonly endpointName: string;
  /** The function's log group; none where it is not built. */
  readonly logGroup?: logs.ILogGroup;
  /** The segment's VPC (ARN), where the function runs. */
  readonly vpcArn: string;
}

/** The inference API's backend function: invokes one SageMaker endpoint, traces, runs in the segment's VPC. */
export class InferenceApiBackendRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: InferenceApiBackendRoleProps) {
    super(scope, id, {
      namePrefix: props.namePrefix,
      role: INFERENCE_API_ROLE,
      segment: props.segmentName,
      description: `Backend of the inference API of segment ${props.segmentName}: invokes its SageMaker endpoint`,
      trust: { kind: 'service', service: LAMBDA },
    });
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeTheApisEndpoint',
        actions: ['sagemaker:InvokeEndpoint'],
        // SageMaker writes endpoint names into ARNs in lower case.
        resources: [sagemakerArn(this, 'endpoint', props.endpointName.toLowerCase())],
      }),
    );
    for (const statement of [
      ...functionLogs(props.logGroup),
      ...functionInAVpc(this, props.vpcArn),
      // The backend traces actively: Lambda refuses to create it without these.
      unscoped('ActiveTracing', ['xray:PutTelemetryRecords', 'xray:PutTraceSegments']),
    ]) {
      this.addToPrincipalPolicy(statement);
    }
  }
}
