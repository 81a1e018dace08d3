import { CfnResource, Stack, type IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { packageDomainName } from '../mirrors';
import { MALWARE_SCAN_RULE } from '../airlock';
import { AIRLOCK_IMPORT_ZONE } from '../contract/classification';
import { dataBucketName, pseudonymizationStagingBucketName } from '../names';
import { SAGEMAKER_ROLE } from './actors';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeWildcardResources } from '../gate/acknowledge';

/**
 * Every action a role of the blueprint may ever be granted, listed one by one (no wildcards).
 * The boundary is the ceiling: a policy that grants more is silently cut back to this, so a
 * test checks that every role's actions are here. Add an action only with the role that needs it.
 */
export const BOUNDARY_ACTIONS = [
  // Log delivery (flow logs, the trail, functions).
  'logs:CreateLogGroup',
  'logs:CreateLogStream',
  'logs:DescribeLogStreams',
  'logs:PutLogEvents',
  // Reading logs and configuration (auditor).
  'logs:DescribeLogGroups',
  'logs:FilterLogEvents',
  'logs:GetLogEvents',
  'logs:StartQuery',
  'logs:GetQueryResults',
  'cloudtrail:DescribeTrails',
  'cloudtrail:GetTrailStatus',
  'cloudtrail:GetEventSelectors',
  'cloudtrail:LookupEvents',
  'cloudformation:DescribeStacks',
  'cloudformation:DescribeStackResources',
  'cloudformation:GetTemplate',
  'cloudformation:ListStackResources',
  'config:DescribeConfigRules',
  'config:DescribeComplianceByConfigRule',
  'config:GetComplianceDetailsByConfigRule',
  // The default security group's deploy-time handler.
  'ec2:AuthorizeSecurityGroupEgress',
  'ec2:AuthorizeSecurityGroupIngress',
  'ec2:RevokeSecurityGroupEgress',
  'ec2:RevokeSecurityGroupIngress',
  // Network interfaces of SageMaker jobs and functions in a VPC; network read-only views.
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:CreateNetworkInterfacePermission',
  'ec2:DeleteNetworkInterface',
  'ec2:DeleteNetworkInterfacePermission',
  'ec2:DescribeDhcpOptions',
  'ec2:DescribeNetworkAcls',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeRouteTables',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcEndpoints',
  'ec2:DescribeVpcs',
  'network-firewall:DescribeFirewall',
  'network-firewall:DescribeFirewallPolicy',
  'network-firewall:DescribeRuleGroup',
  // Data zones.
  's3:GetObject',
  's3:GetObjectVersion',
  's3:ListBucket',
  's3:PutObject',
  's3:GetObjectTagging',
  's3:PutObjectTagging',
  // Legal holds (break-glass alone: the zones refuse every other role).
  's3:GetObjectLegalHold',
  's3:PutObjectLegalHold',
  // Keys, used through S3, SageMaker and EBS.
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:CreateGrant',
  // Tokens of direct identifiers (the pseudonymization stage's HMAC key).
  'kms:GenerateMac',
  // The pseudonymization stage's dead letters: sent by the stage, read and re-sent by its operator.
  'sqs:SendMessage',
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueAttributes',
  'lambda:InvokeFunction',
  // Active tracing of the blueprint's functions.
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  // The inference API's callers.
  'execute-api:Invoke',
  // An inference caller reads its own API key.
  'apigateway:GET',
  // Container images (filling the image caches and reading the package mirrors have ceilings of
  // their own, below, bound to the caches' repositories and the mirrors' domain).
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:GetAuthorizationToken',
  'ecr:GetDownloadUrlForLayer',
  'kms:RetireGrant',
  // SageMaker work, within the guardrails of the identity policies.
  'sagemaker:AddTags',
  'sagemaker:CreateEndpoint',
  'sagemaker:CreateEndpointConfig',
  'sagemaker:CreateModel',
  'sagemaker:CreatePresignedDomainUrl',
  'sagemaker:CreateProcessingJob',
  'sagemaker:CreateTrainingJob',
  'sagemaker:DescribeEndpoint',
  'sagemaker:DescribeEndpointConfig',
  'sagemaker:DescribeModel',
  'sagemaker:DescribeProcessingJob',
  'sagemaker:DescribeTrainingJob',
  'sagemaker:InvokeEndpoint',
  'sagemaker:ListEndpoints',
  'sagemaker:ListProcessingJobs',
  'sagemaker:ListTrainingJobs',
  'sagemaker:StopProcessingJob',
  'sagemaker:StopTrainingJob',
  'sagemaker:UpdateEndpoint',
  // Studio apps and spaces, as the development execution role (confined to its domain).
  'sagemaker:CreateApp',
  'sagemaker:CreateSpace',
  'sagemaker:DeleteApp',
  'sagemaker:DeleteSpace',
  'sagemaker:DescribeApp',
  'sagemaker:DescribeDomain',
  'sagemaker:DescribeSpace',
  'sagemaker:DescribeUserProfile',
  'sagemaker:ListApps',
  'sagemaker:ListSpaces',
  'sagemaker:ListUserProfiles',
  'sagemaker:UpdateSpace',
  'cloudwatch:PutMetricData',
  // Deploying the blueprint through the CDK bootstrap roles (platform admin), carrying the
  // session's source identity along (a chained assume of a session that has one needs it).
  'sts:AssumeRole',
  'sts:SetSourceIdentity',
] as const;

/** A state machine's log delivery and its traces' sampling (its role's, under the boundary). */
const WORKFLOW_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
] as const;

/**
 * Actions the boundary allows only when the config has an airlock: its desk's URL (people), its
 * requests (desk, workflow), resuming and starting the workflow, tagging what it holds and copies,
 * copies in parts, the workflow's log delivery and traces.
 */
export const AIRLOCK_BOUNDARY_ACTIONS = [
  'lambda:InvokeFunctionUrl',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Scan',
  'dynamodb:UpdateItem',
  'states:SendTaskSuccess',
  'states:StartExecution',
  's3:GetObjectVersionTagging',
  's3:PutObjectVersionTagging',
  's3:AbortMultipartUpload',
  ...WORKFLOW_DELIVERY_ACTIONS,
] as const;

/**
 * Actions the boundary allows only where the config has a pseudonymization stage: its range
 * workflow (started by the stage's function; its Distributed Map's child executions, followed and
 * redriven; its runs found and redriven by the pipeline operator), uploads in parts given up, the workflow's log delivery and traces. Deletes are
 * allowed on the stage's staging store alone (PSEUDONYMIZATION_STAGING_DELETE).
 */
export const PSEUDONYMIZATION_BOUNDARY_ACTIONS = [
  'states:StartExecution',
  'states:ListExecutions',
  'states:DescribeExecution',
  'states:StopExecution',
  'states:RedriveExecution',
  's3:AbortMultipartUpload',
  ...WORKFLOW_DELIVERY_ACTIONS,
] as const;

/** The one delete any role of the blueprint may make: of the staging store's objects. */
export const PSEUDONYMIZATION_STAGING_DELETE = ['s3:DeleteObject'] as const;

/**
 * Actions the boundary allows only where GuardDuty Malware Protection for S3 needs them: its
 * managed EventBridge rule, and the airlock's import zone's event notifications.
 */
export const SCANNER_BOUNDARY_ACTIONS = {
  rule: [
    'events:DeleteRule',
    'events:DescribeRule',
    'events:ListTargetsByRule',
    'events:PutRule',
    'events:PutTargets',
    'events:RemoveTargets',
  ],
  bucket: ['s3:GetBucketNotification', 's3:PutBucketNotification'],
} as const;

/**
 * Actions the boundary allows only on the blueprint's own package mirrors: creating and filling
 * repositories under the image caches' prefix (the creation template's role tags them), reading
 * the CodeArtifact domain's repositories, and CodeArtifact's bearer token.
 */
export const MIRROR_BOUNDARY_ACTIONS = {
  imageCaches: [
    'ecr:BatchImportUpstreamImage',
    'ecr:CreateRepository',
    'ecr:ReplicateImage',
    'ecr:TagResource',
  ],
  packages: [
    'codeartifact:GetAuthorizationToken',
    'codeartifact:GetRepositoryEndpoint',
    'codeartifact:ReadFromRepository',
  ],
  bearerToken: ['sts:GetServiceBearerToken'],
} as const;

export interface PermissionBoundaryProps {
  readonly managedPolicyName: string;
  /** The blueprint's name prefix: the image caches' repositories and the mirrors' domain carry it. */
  readonly namePrefix: string;
  /** Whether the config has an airlock, whose roles need actions no other role does. @default false */
  readonly airlock?: boolean;
  /** Whether the config has a pseudonymization stage, whose range workflow needs actions no other role does. @default false */
  readonly pseudonymization?: boolean;
}

/** The managed policy every role of the blueprint has as its permission boundary. */
export class PermissionBoundary extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: PermissionBoundaryProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const domain = packageDomainName(props.namePrefix);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: props.managedPolicyName,
      description:
        'Permission boundary of every role of the AI segmentation blueprint: the actions it may ever use',
      statements: [
        new iam.PolicyStatement({
          sid: 'CeilingOfTheBlueprintsRoles',
          actions: [...BOUNDARY_ACTIONS],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'CeilingOfPassingRoles',
          actions: ['iam:PassRole'],
          resources: [
            stack.formatArn({
              service: 'iam',
              region: '',
              resource: 'role',
              resourceName: `${props.namePrefix}-*-${SAGEMAKER_ROLE}`,
            }),
          ],
          conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
        }),
        new iam.PolicyStatement({
          sid: 'CeilingOfTheImageCaches',
          actions: [...MIRROR_BOUNDARY_ACTIONS.imageCaches],
          resources: [
            stack.formatArn({
              service: 'ecr',
              resource: 'repository',
              resourceName: `${props.namePrefix}/*`,
            }),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'CeilingOfThePackageMirrors',
          actions: [...MIRROR_BOUNDARY_ACTIONS.packages],
          resources: [
            stack.formatArn({ service: 'codeartifact', resource: 'domain', resourceName: domain }),
            stack.formatArn({ service: 'codeartifact', resource: 'repository', resourceName: `${domain}/*` }),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'CeilingOfThePackageMirrorsToken',
          actions: [...MIRROR_BOUNDARY_ACTIONS.bearerToken],
          resources: ['*'],
          conditions: { StringEquals: { 'sts:AWSServiceName': 'codeartifact.amazonaws.com' } },
        }),
        ...(props.airlock
          ? [
              new iam.PolicyStatement({
                sid: 'CeilingOfTheAirlock',
                actions: [...AIRLOCK_BOUNDARY_ACTIONS],
                resources: ['*'],
              }),
              new iam.PolicyStatement({
                sid: 'CeilingOfTheMalwareScannersRule',
                actions: [...SCANNER_BOUNDARY_ACTIONS.rule],
                resources: [
                  stack.formatArn({ service: 'events', resource: 'rule', resourceName: MALWARE_SCAN_RULE }),
                ],
              }),
              new iam.PolicyStatement({
                sid: 'CeilingOfTheMalwareScannersBucket',
                actions: [...SCANNER_BOUNDARY_ACTIONS.bucket],
                resources: [
                  `arn:${stack.partition}:s3:::${dataBucketName(props.namePrefix, AIRLOCK_IMPORT_ZONE)}`,
                ],
              }),
            ]
          : []),
        ...(props.pseudonymization
          ? [
              new iam.PolicyStatement({
                sid: 'CeilingOfThePseudonymizationStage',
                actions: [...PSEUDONYMIZATION_BOUNDARY_ACTIONS],
                resources: ['*'],
              }),
              new iam.PolicyStatement({
                sid: 'CeilingOfTheStagingStoresDeletes',
                actions: [...PSEUDONYMIZATION_STAGING_DELETE],
                resources: [
                  `arn:${stack.partition}:s3:::${pseudonymizationStagingBucketName(props.namePrefix)}/*`,
                ],
              }),
            ]
          : []),
      ],
    });
    acknowledgeWildcardResources(this.policy.node.defaultChild as iam.CfnManagedPolicy, (resource) =>
      resource === '*'
        ? 'A permission boundary caps actions and grants nothing by itself; each role is limited to named resources ' +
          'by its own identity policies, and the intersection is what it may do.'
        : "A ceiling narrower than the rest of the boundary: the mirrors' actions only on the image caches' " +
          "repositories or the package domain's, passing roles only of the segments' SageMaker execution roles " +
          "to SageMaker, and deleting only the pseudonymization stage's staged parts, all of which carry the " +
          "blueprint's prefix; it grants nothing by itself.",
    );
  }
}

/**
 * Sets the boundary on every IAM role of the app, those aws-cdk-lib creates for its own custom
 * resources included (generic CfnResources). A role in the boundary's own stack waits for it.
 */
export class PermissionBoundaryAspect implements IAspect {
  constructor(
    private readonly boundary: PermissionBoundary,
    private readonly managedPolicyName: string,
  ) {}

  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType !== 'AWS::IAM::Role') return;
    const stack = Stack.of(node);
    node.addPropertyOverride(
      'PermissionsBoundary',
      stack.formatArn({
        service: 'iam',
        region: '',
        resource: 'policy',
        resourceName: this.managedPolicyName,
      }),
    );
    if (stack === Stack.of(this.boundary)) node.node.addDependency(this.boundary.policy);
  }
}
