import { ArnFormat } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { DataZone } from '../constructs/data-zone';
import { bootstrapRoleArns } from '../bootstrap';
import { BLUEPRINT_TAG } from '../contract/tags';
import {
  AUDITOR_ROLE,
  BREAK_GLASS_ROLE,
  DATA_SCIENTIST_ROLE,
  LEGAL_HOLD_ROLE,
  ML_ENGINEER_ROLE,
  PIPELINE_OPERATOR_ROLE,
  PLATFORM_ADMIN_ROLE,
} from './actors';
import { BlueprintRole, type BlueprintRoleProps, type PeopleTrust } from './blueprint-role';
import {
  passSageMakerRoles,
  readBlueprintStacks,
  sageMakerVpcGuardrail,
  sagemakerArn,
  unscoped,
  type WorkloadPlacement,
  imageCacheRepositories,
} from './statements';

/** What every human role is given: the blueprint's prefix and who may assume it. */
export interface HumanRoleProps {
  readonly namePrefix: string;
  /** People, with MFA enforced by IAM or by their identity provider. */
  readonly trust: PeopleTrust;
}

/** A human role's name, description and trust. */
function humanRole(props: HumanRoleProps, role: string, description: string): BlueprintRoleProps {
  return { namePrefix: props.namePrefix, role, description, trust: props.trust };
}

/**
 * Deploys the blueprint through the CDK bootstrap roles of this account and region, and inspects
 * its stacks, firewalls and networks. It changes nothing itself: CloudFormation does.
 */
export class PlatformAdminRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: HumanRoleProps) {
    super(
      scope,
      id,
      humanRole(props, PLATFORM_ADMIN_ROLE, 'Deploys the blueprint and inspects its networks'),
    );
    const stack = this.stack;
    // Exactly the bootstrap roles the stacks deploy through (not CloudFormation's execution role,
    // nor another qualifier's roles).
    const bootstrap = bootstrapRoleArns(this);
    if (bootstrap.length > 0) {
      this.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'DeployThroughTheCdkBootstrapRoles',
          actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
          resources: bootstrap,
        }),
      );
    }
    this.addToPrincipalPolicy(readBlueprintStacks(this, props.namePrefix, 'InspectTheBlueprintsStacks'));
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InspectTheSegmentFirewalls',
        actions: [
          'network-firewall:DescribeFirewall',
          'network-firewall:DescribeFirewallPolicy',
          'network-firewall:DescribeRuleGroup',
        ],
        resources: ['firewall', 'firewall-policy', 'stateful-rulegroup'].map((type) =>
          stack.formatArn({
            service: 'network-firewall',
            resource: type,
            resourceName: `${props.namePrefix}-*`,
          }),
        ),
      }),
    );
    this.addToPrincipalPolicy(
      unscoped('InspectTheSegmentNetworks', [
        'ec2:DescribeNetworkAcls',
        'ec2:DescribeRouteTables',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcEndpoints',
        'ec2:DescribeVpcs',
      ]),
    );
  }
}

export interface DataScientistRoleProps extends HumanRoleProps {
  /** The curated zone, which the role reads (through the development segment's path). */
  readonly curated: DataZone;
  /** The ranges Studio may be opened and used from (`aws:SourceIp`); none: from anywhere. */
  readonly studioSourceIps?: readonly string[];
}

/** The tag of a Studio user profile that names the person it belongs to (their source identity). */
export const STUDIO_OWNER_TAG = 'ai-segmentation:owner';

/** Opens SageMaker Studio in the development segment and reads curated data; nothing else. */
export class DataScientistRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: DataScientistRoleProps) {
    super(
      scope,
      id,
      humanRole(
        props,
        DATA_SCIENTIST_ROLE,
        'Works in the development segment (SageMaker Studio) on curated data',
      ),
    );
    // Only one's own profile (its owner tag is the session's source identity, which the trust
    // requires), only the blueprint's, only from the configured ranges: IAM checks the same
    // policy on every request and WebSocket frame of the Studio session.
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OpenOnlyTheirOwnStudioProfile',
        actions: ['sagemaker:CreatePresignedDomainUrl'],
        // The profile's name, which never changes, and its owner tag, which the workload stack sets
        // at creation: a profile re-tagged to another owner still opens for no one else.
        resources: [sagemakerArn(this, 'user-profile', '*/${aws:SourceIdentity}')],
        conditions: {
          StringEquals: {
            [`sagemaker:ResourceTag/${STUDIO_OWNER_TAG}`]: '${aws:SourceIdentity}',
            [`sagemaker:ResourceTag/${BLUEPRINT_TAG}`]: props.namePrefix,
          },
          ...(props.studioSourceIps?.length
            ? { IpAddress: { 'aws:SourceIp': [...props.studioSourceIps] } }
            : {}),
        },
      }),
    );
    props.curated.grantRead(this);
  }
}

/** A segment whose SageMaker work a role may create or start: where it runs and with what. */
export interface SageMakerSegment {
  /** The segment's key, which the work's volumes must use. */
  readonly key: kms.IKey;
  /** The segment's VPC: the work is pinned to its workload subnets and security group. */
  readonly vpc: WorkloadPlacement;
  /** The segment's SageMaker execution role, the only role the work may run as. */
  readonly executionRoleName: string;
}

export interface MlEngineerRoleProps extends HumanRoleProps {
  /** The inference segments, where the role deploys models as endpoints; none: no deploy rights. */
  readonly inference: readonly SageMakerSegment[];
}

/**
 * Follows and stops training and processing jobs, inspects endpoints, and deploys models as
 * endpoints only inside an inference segment: network-isolated, on its subnets and security group,
 * with its key, running as its execution role.
 */
export class MlEngineerRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: MlEngineerRoleProps) {
    super(scope, id, humanRole(props, ML_ENGINEER_ROLE, 'Operates training jobs and inference endpoints'));
    const arn = (resource: string) => sagemakerArn(this, resource, '*');
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OperateTrainingAndProcessingJobs',
        actions: [
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:DescribeProcessingJob',
          'sagemaker:StopProcessingJob',
        ],
        resources: [arn('training-job'), arn('processing-job')],
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InspectEndpoints',
        actions: [
          'sagemaker:DescribeEndpoint',
          'sagemaker:DescribeEndpointConfig',
          'sagemaker:DescribeModel',
        ],
        resources: [arn('endpoint'), arn('endpoint-config'), arn('model')],
      }),
    );
    this.addToPrincipalPolicy(
      unscoped('ListSageMakerWork', [
        'sagemaker:ListEndpoints',
        'sagemaker:ListProcessingJobs',
        'sagemaker:ListTrainingJobs',
      ]),
    );
    // A first pull through an image cache creates its repository (with the creation template's
    // key and tags) and imports the image from the public registry: only under the caches'
    // prefixes, and only for this role, which reads no personal data.
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FillTheImageCaches',
        actions: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:BatchImportUpstreamImage',
          'ecr:CreateRepository',
          'ecr:GetDownloadUrlForLayer',
        ],
        resources: imageCacheRepositories(this, props.namePrefix),
      }),
    );
    this.addToPrincipalPolicy(unscoped('EcrLogIn', ['ecr:GetAuthorizationToken']));
    const inference = props.inference;
    if (inference.length === 0) return;
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CreateModelsOnlyInAnInferenceSegmentIsolated',
        actions: ['sagemaker:CreateModel'],
        resources: [arn('model')],
        conditions: sageMakerVpcGuardrail(
          inference.map((s) => s.vpc),
          { isolation: true },
        ),
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CreateEndpointConfigsOnlyWithTheSegmentKey',
        actions: ['sagemaker:CreateEndpointConfig'],
        resources: [arn('endpoint-config')],
        conditions: {
          Null: { 'sagemaker:VolumeKmsKey': 'false' },
          StringEquals: { 'sagemaker:VolumeKmsKey': inference.map((s) => s.key.keyArn) },
        },
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeployEndpoints',
        actions: ['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint'],
        resources: [arn('endpoint'), arn('endpoint-config')],
      }),
    );
    this.addToPrincipalPolicy(
      passSageMakerRoles(
        this,
        inference.map((s) => s.executionRoleName),
      ),
    );
  }
}

/** The audit records: what the auditor reads. */
export interface AuditRecords {
  readonly bucket: s3.IBucket;
  readonly key: kms.IKey;
  /** Every log group of the audit stack. */
  readonly logGroups: readonly logs.ILogGroup[];
  readonly trailArn: string;
}

export interface AuditorRoleProps extends HumanRoleProps {
  readonly audit: AuditRecords;
}

/** Reads the audit trail, the audit log groups, the trail's and Config's settings and the templates; never data. */
export class AuditorRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: AuditorRoleProps) {
    super(
      scope,
      id,
      humanRole(props, AUDITOR_ROLE, 'Reads the audit trail, logs, configuration and templates; never data'),
    );
    const { audit } = props;
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheAuditRecords',
        actions: ['s3:GetObject', 's3:ListBucket'],
        resources: [audit.bucket.bucketArn, audit.bucket.arnForObjects('*')],
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptTheAuditRecords',
        actions: ['kms:Decrypt', 'kms:DescribeKey'],
        resources: [audit.key.keyArn],
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheAuditLogGroups',
        actions: ['logs:DescribeLogStreams', 'logs:FilterLogEvents', 'logs:GetLogEvents', 'logs:StartQuery'],
        resources: audit.logGroups.map((g) => g.logGroupArn),
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheTrailsSettings',
        actions: ['cloudtrail:GetEventSelectors', 'cloudtrail:GetTrailStatus'],
        resources: [audit.trailArn],
      }),
    );
    this.addToPrincipalPolicy(readBlueprintStacks(this, props.namePrefix, 'ReadTheBlueprintsTemplates'));
    this.addToPrincipalPolicy(
      unscoped('ReadTrailsConfigAndQueries', [
        'cloudtrail:DescribeTrails',
        'cloudtrail:LookupEvents',
        'config:DescribeComplianceByConfigRule',
        'config:DescribeConfigRules',
        'config:GetComplianceDetailsByConfigRule',
        'logs:DescribeLogGroups',
        'logs:GetQueryResults',
      ]),
    );
  }
}

export interface BreakGlassRoleProps extends HumanRoleProps {
  /** Every data zone: the role reads them all. */
  readonly zones: readonly DataZone[];
}

/** Emergency read access to every data zone, raw and quarantine included; each use is an incident. */
export class BreakGlassRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: BreakGlassRoleProps) {
    super(
      scope,
      id,
      humanRole(
        props,
        BREAK_GLASS_ROLE,
        'Emergency access to every data zone, raw and quarantine included; each use is an incident',
      ),
    );
    for (const zone of props.zones) zone.grantRead(this);
  }
}

export interface LegalHoldRoleProps extends HumanRoleProps {
  /** Every data zone, and the buckets that hold records (the airlock's decision log). */
  readonly buckets: readonly s3.IBucket[];
}

/**
 * Places and lifts legal holds on the objects of the zones and the record buckets, which no other
 * role may: a hold keeps an object version from deletion while a matter lasts, and lifting it is
 * as deliberate as placing it. It reads nothing: the matter names the objects.
 */
export class LegalHoldRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: LegalHoldRoleProps) {
    super(scope, id, humanRole(props, LEGAL_HOLD_ROLE, 'Places and lifts legal holds on the data zones'));
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PlaceAndLiftLegalHolds',
        actions: ['s3:GetObjectLegalHold', 's3:PutObjectLegalHold'],
        resources: props.buckets.map((bucket) => bucket.arnForObjects('*')),
      }),
    );
  }
}

export interface PipelineOperatorRoleProps extends HumanRoleProps {
  /** The stage's dead-letter queue and its key. */
  readonly deadLetters: sqs.IQueue;
  readonly deadLetterKey: kms.IKey;
  /** The stack whose outputs name the queue's URL. */
  readonly queueStackName: string;
  /** The stage's function, to which the role re-sends events. */
  readonly stageFunctionName: string;
  /** The stage's range workflow, whose failed runs the role redrives. */
  readonly workflowName: string;
}

/**
 * Reads the stage's dead letters and re-sends each event to the stage (an asynchronous invoke
 * with the message body, which is the original event), then deletes it; lists, follows and
 * redrives the runs of the stage's range workflow; nothing more. The messages name raw objects,
 * whose keys may hold identifiers: a raw-zone actor.
 */
export class PipelineOperatorRole extends BlueprintRole {
  constructor(scope: Construct, id: string, props: PipelineOperatorRoleProps) {
    super(
      scope,
      id,
      humanRole(
        props,
        PIPELINE_OPERATOR_ROLE,
        "Reads the pseudonymization stage's dead letters (raw object keys) and re-sends their events to the stage",
      ),
    );
    const stack = this.stack;
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAndRemoveDeadLetters',
        actions: [
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:ReceiveMessage',
        ],
        resources: [props.deadLetters.queueArn],
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptDeadLetters',
        actions: ['kms:Decrypt'],
        resources: [props.deadLetterKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sqs.${stack.region}.amazonaws.com` } },
      }),
    );
    // The queue's URL is an output of its stack: that stack's outputs, nothing else.
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FindTheDeadLetterQueue',
        actions: ['cloudformation:DescribeStacks'],
        resources: [
          stack.formatArn({
            service: 'cloudformation',
            resource: 'stack',
            resourceName: `${props.queueStackName}/*`,
          }),
        ],
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ResendEventsToTheStage',
        actions: ['lambda:InvokeFunction'],
        resources: [
          stack.formatArn({
            service: 'lambda',
            resource: 'function',
            resourceName: props.stageFunctionName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    // A failed run of a large object resumes where it failed (its name is the version's, so the
    // event re-sent starts nothing): find it, read why it failed, redrive it.
    const workflow = (resource: string, name: string) =>
      stack.formatArn({
        service: 'states',
        resource,
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FindTheStagesRuns',
        actions: ['states:ListExecutions'],
        resources: [workflow('stateMachine', props.workflowName)],
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RedriveTheStagesRuns',
        actions: ['states:DescribeExecution', 'states:RedriveExecution'],
        resources: [workflow('execution', `${props.workflowName}:*`)],
      }),
    );
  }
}
