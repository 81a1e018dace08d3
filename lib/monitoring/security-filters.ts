/**
 * The security metric filters of the blueprint: the CIS AWS Foundations monitoring set over the
 * CloudTrail log group, and the blueprint's own over the trail and the network logs. Each pattern
 * is CloudWatch Logs JSON filter syntax, fully parenthesised.
 */
import { ALLOWLIST_ALERT_FIRST_SID, ALLOWLIST_ALERT_LAST_SID } from '../firewall/allowlist-alerts';

/** Which log group a filter reads. */
export type FilterSource = 'trail' | 'firewallAlerts' | 'dnsQueries';

export interface FilterContext {
  /** The raw phi zone's bucket name. */
  readonly rawBucketName: string;
  /** Name of the only role that may read raw data (besides break-glass). */
  readonly pseudonymizationRole: string;
  /** Name of the break-glass role. */
  readonly breakGlassRole: string;
  /** Name of the pipeline operator role, which reads dead letters naming raw objects. */
  readonly pipelineOperatorRole: string;
  /** Name of the role ECR assumes to create the image caches' repositories. */
  readonly imageCacheRole: string;
  /** The blueprint's name prefix: its image caches' repositories start with it and `/`. */
  readonly namePrefix: string;
  /** Name of the airlock workflow's role, which invokes the airlock's functions (with an airlock). */
  readonly airlockWorkflowRole?: string;
  /** Name of the range workflow's role, which invokes the pseudonymization function (with a stage). */
  readonly pseudonymizationWorkflowRole?: string;
  /** Name of the airlock desk's role, which resumes the workflow's waiting tasks (with an airlock). */
  readonly airlockDeskRole?: string;
}

export interface SecurityFilter {
  /** Metric name and construct id. */
  readonly id: string;
  readonly description: string;
  readonly source: FilterSource;
  readonly pattern: (ctx: FilterContext) => string;
}

const anyOf = (field: string, values: readonly string[]) =>
  `(${values.map((v) => `($.${field} = "${v}")`).join(' || ')})`;

const events = (source: string, names: readonly string[]) => () =>
  `{ ($.eventSource = "${source}") && ${anyOf('eventName', names)} }`;

/** The Lambda calls that change what a function runs, as whom, or who may call it. */
const LAMBDA_CHANGES = [
  'UpdateFunctionCode',
  'UpdateFunctionConfiguration',
  'PutFunctionConcurrency',
  'DeleteFunction',
  'AddPermission',
  'RemovePermission',
  'CreateFunctionUrlConfig',
  'UpdateFunctionUrlConfig',
  'PutFunctionCodeSigningConfig',
  'DeleteFunctionCodeSigningConfig',
  'DeleteFunctionConcurrency',
  'PutFunctionEventInvokeConfig',
  'UpdateFunctionEventInvokeConfig',
  'PutRuntimeManagementConfig',
];

/** GuardDuty calls that stop it, narrow it, or silence its findings. */
const GUARDDUTY_CHANGES = [
  'DeleteDetector',
  'UpdateDetector',
  'CreateFilter',
  'UpdateFilter',
  'CreateIPSet',
  'UpdateIPSet',
  'UpdateThreatIntelSet',
  'DeleteThreatIntelSet',
  'CreateTrustedEntitySet',
  'UpdateTrustedEntitySet',
  'DeletePublishingDestination',
  'UpdateMalwareScanSettings',
  'UpdateMalwareProtectionPlan',
  'DeleteMalwareProtectionPlan',
  'UpdatePublishingDestination',
  'ArchiveFindings',
  'UpdateFindingsFeedback',
  'DisassociateFromAdministratorAccount',
];

/** Security Hub calls that switch it or its checks off. */
const SECURITY_HUB_CHANGES = [
  'DisableSecurityHub',
  'BatchDisableStandards',
  'UpdateStandardsControl',
  'UpdateSecurityControl',
  'DisableImportFindingsForProduct',
  'CreateAutomationRule',
  'BatchUpdateAutomationRules',
  'UpdateSecurityHubConfiguration',
];

/** Network Firewall calls that change what a firewall inspects, where, or what it records. */
const NETWORK_FIREWALL_CHANGES = [
  'CreateFirewall',
  'UpdateRuleGroup',
  'DeleteRuleGroup',
  'UpdateFirewallPolicy',
  'DeleteFirewallPolicy',
  'AssociateFirewallPolicy',
  'DeleteFirewall',
  'AssociateSubnets',
  'DisassociateSubnets',
  'UpdateFirewallDeleteProtection',
  'UpdateFirewallPolicyChangeProtection',
  'UpdateSubnetChangeProtection',
  'UpdateLoggingConfiguration',
  'UpdateTLSInspectionConfiguration',
  'PutResourcePolicy',
  'DeleteResourcePolicy',
];

/**
 * Route 53 Resolver calls that change what DNS Firewall blocks, whether it fails open, what the
 * query logs record, or where the segments' queries are forwarded.
 */
const DNS_FIREWALL_CHANGES = [
  'UpdateFirewallDomains',
  'ImportFirewallDomains',
  'DeleteFirewallDomainList',
  'CreateFirewallRule',
  'UpdateFirewallRule',
  'DeleteFirewallRule',
  'DeleteFirewallRuleGroup',
  'AssociateFirewallRuleGroup',
  'DisassociateFirewallRuleGroup',
  'UpdateFirewallRuleGroupAssociation',
  'UpdateFirewallConfig',
  'PutFirewallRuleGroupPolicy',
  'DisassociateResolverQueryLogConfig',
  'DeleteResolverQueryLogConfig',
  'CreateResolverRule',
  'AssociateResolverRule',
  'CreateResolverEndpoint',
  'UpdateResolverEndpoint',
  'UpdateResolverConfig',
];

/** The calls that change the way alerts travel: the topic, the event rules, the alarms, the metric filters. */
export const ALERT_PATH_CALLS: Readonly<Record<string, readonly string[]>> = {
  'sns.amazonaws.com': [
    'SetTopicAttributes',
    'DeleteTopic',
    'Subscribe',
    'Unsubscribe',
    'SetSubscriptionAttributes',
    'AddPermission',
    'RemovePermission',
    'PutDataProtectionPolicy',
  ],
  'events.amazonaws.com': ['DisableRule', 'DeleteRule', 'PutRule', 'PutTargets', 'RemoveTargets'],
  'monitoring.amazonaws.com': ['DisableAlarmActions', 'DeleteAlarms', 'PutMetricAlarm', 'SetAlarmState'],
  'logs.amazonaws.com': [
    'DeleteMetricFilter',
    'PutMetricFilter',
    'DeleteLogGroup',
    'DeleteSubscriptionFilter',
  ],
};

/**
 * Calls that cut the alarms off at their source, besides the alert path's own: the key of the
 * trail, its logs and the topic disabled or its policy replaced; the trail stopped, deleted or
 * sent elsewhere.
 */
const ALERT_SOURCE_CALLS: Readonly<Record<string, readonly string[]>> = {
  'kms.amazonaws.com': ['DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy'],
  'cloudtrail.amazonaws.com': ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors'],
};

/**
 * An EventBridge pattern for the same calls, heard from the trail's events within seconds and
 * independently of the alarms (which one `DisableAlarmActions` silences): the first call that
 * would silence one path is heard by the other. The deployment's own changes (the sessions of
 * CloudFormation's execution role, by the start of their ARN) are left out, since every deploy
 * makes them.
 */
export function alertPathEventPattern(deploymentSessions?: string): {
  detailType: string[];
  detail: Record<string, unknown>;
} {
  const calls = { ...ALERT_PATH_CALLS, ...ALERT_SOURCE_CALLS };
  return {
    detailType: ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: Object.keys(calls),
      eventName: [...new Set(Object.values(calls).flat())],
      ...(deploymentSessions
        ? { userIdentity: { arn: [{ 'anything-but': { prefix: deploymentSessions } }] } }
        : {}),
    },
  };
}

/** Step Functions calls that change what a state machine runs, as whom, or what it records. */
const STATE_MACHINE_CHANGES = [
  'UpdateStateMachine',
  'DeleteStateMachine',
  'PublishStateMachineVersion',
  'DeleteStateMachineVersion',
  'CreateStateMachineAlias',
  'UpdateStateMachineAlias',
  'DeleteStateMachineAlias',
];

export const SECURITY_FILTERS: readonly SecurityFilter[] = [
  {
    id: 'UnauthorizedApiCalls',
    description: 'CIS: API calls refused for lack of permission',
    source: 'trail',
    pattern: () =>
      '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
  },
  {
    id: 'ConsoleSignInWithoutMfa',
    description: 'CIS: console sign-in of an IAM user without MFA',
    source: 'trail',
    pattern: () =>
      '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
  },
  {
    id: 'RootAccountUsage',
    description: 'CIS: the root user acting',
    source: 'trail',
    pattern: () =>
      '{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != "AwsServiceEvent") }',
  },
  {
    id: 'IamPolicyChanges',
    description:
      "CIS: IAM policies created, changed, attached or detached (and a user added to a group, which gives it the group's policies)",
    source: 'trail',
    pattern: events('iam.amazonaws.com', [
      'DeleteGroupPolicy',
      'DeleteRolePolicy',
      'DeleteUserPolicy',
      'PutGroupPolicy',
      'PutRolePolicy',
      'PutUserPolicy',
      'CreatePolicy',
      'DeletePolicy',
      'CreatePolicyVersion',
      'DeletePolicyVersion',
      'SetDefaultPolicyVersion',
      'AttachRolePolicy',
      'DetachRolePolicy',
      'AttachUserPolicy',
      'DetachUserPolicy',
      'AttachGroupPolicy',
      'DetachGroupPolicy',
      'AddUserToGroup',
      'PutRolePermissionsBoundary',
      'DeleteRolePermissionsBoundary',
    ]),
  },
  {
    id: 'RoleTrustChanges',
    description:
      "Blueprint: who may assume a role changed (a trust policy), a role created, or a role's session length, description or tags changed",
    source: 'trail',
    pattern: events('iam.amazonaws.com', [
      'UpdateAssumeRolePolicy',
      'CreateRole',
      'UpdateRole',
      'TagRole',
      'UntagRole',
    ]),
  },
  {
    id: 'CloudTrailChanges',
    description:
      'CIS: trails created, changed, stopped or deleted; and CloudTrail Lake event data stores (a copy of the events, data events of the zones included, kept elsewhere)',
    source: 'trail',
    pattern: events('cloudtrail.amazonaws.com', [
      'CreateTrail',
      'UpdateTrail',
      'DeleteTrail',
      'StartLogging',
      'StopLogging',
      'PutEventSelectors',
      'PutInsightSelectors',
      'CreateEventDataStore',
      'UpdateEventDataStore',
      'DeleteEventDataStore',
    ]),
  },
  {
    id: 'ConsoleSignInFailures',
    description: 'CIS: failed console sign-ins',
    source: 'trail',
    pattern: () => '{ ($.eventName = "ConsoleLogin") && ($.errorMessage = "Failed authentication") }',
  },
  {
    id: 'KmsKeyDisabledOrDeleted',
    description: 'CIS: customer-managed keys disabled or scheduled for deletion',
    source: 'trail',
    pattern: events('kms.amazonaws.com', ['DisableKey', 'ScheduleKeyDeletion']),
  },
  {
    id: 'S3BucketPolicyChanges',
    description: 'CIS: bucket policies, ACLs and lifecycles changed',
    source: 'trail',
    pattern: events('s3.amazonaws.com', [
      'PutBucketAcl',
      'PutBucketPolicy',
      'PutBucketCors',
      'PutBucketLifecycle',
      'PutBucketReplication',
      'DeleteBucketPolicy',
      'DeleteBucketCors',
      'DeleteBucketLifecycle',
      'DeleteBucketReplication',
    ]),
  },
  {
    id: 'ConfigChanges',
    description: 'CIS: AWS Config recording, delivery or rules changed',
    source: 'trail',
    pattern: events('config.amazonaws.com', [
      'StopConfigurationRecorder',
      'DeleteConfigurationRecorder',
      'DeleteDeliveryChannel',
      'PutDeliveryChannel',
      'PutConfigurationRecorder',
      'DeleteConfigRule',
      'DeleteConfigurationAggregator',
      'DisassociateResourceTypes',
    ]),
  },
  {
    id: 'KeyPolicyChanges',
    description:
      "Blueprint: a key policy replaced, a key's rotation switched off, or a grant created by a principal directly (not by an AWS service on its behalf, as SageMaker and EBS do)",
    source: 'trail',
    pattern: () =>
      '{ ($.eventSource = "kms.amazonaws.com") && (($.eventName = "PutKeyPolicy") || ($.eventName = "DisableKeyRotation") || (($.eventName = "CreateGrant") && ($.userIdentity.invokedBy NOT EXISTS))) }',
  },
  {
    id: 'GuardDutyChanges',
    description:
      'Blueprint: GuardDuty switched off, narrowed or told to look away (detectors, filters, trusted IP, trusted entity and threat lists, publishing, malware scanning and protection plans, archived findings)',
    source: 'trail',
    pattern: () =>
      `{ ($.eventSource = "guardduty.amazonaws.com") && ${anyOf('eventName', GUARDDUTY_CHANGES)} }`,
  },
  {
    id: 'FindingsServiceChanges',
    description:
      'Blueprint: Security Hub or IAM Access Analyzer switched off or told to look away (standards, controls, automation rules, products, analyzers, archive rules)',
    source: 'trail',
    pattern: () =>
      `{ (($.eventSource = "securityhub.amazonaws.com") && ${anyOf('eventName', SECURITY_HUB_CHANGES)}) || (($.eventSource = "access-analyzer.amazonaws.com") && ${anyOf('eventName', ['DeleteAnalyzer', 'CreateArchiveRule', 'UpdateArchiveRule', 'ApplyArchiveRule'])}) }`,
  },
  {
    id: 'CodeSigningChanges',
    description:
      'Blueprint: what code the functions accept changed (a code-signing configuration updated or deleted) or who signs it (a signing profile created, cancelled or revoked, its permissions changed, a signature revoked, a signing job started)',
    source: 'trail',
    pattern: () =>
      `{ (($.eventSource = "lambda.amazonaws.com") && (($.eventName = "UpdateCodeSigningConfig*") || ($.eventName = "DeleteCodeSigningConfig*"))) || (($.eventSource = "signer.amazonaws.com") && ${anyOf('eventName', ['PutSigningProfile', 'CancelSigningProfile', 'RevokeSigningProfile', 'RevokeSignature', 'AddProfilePermission', 'RemoveProfilePermission', 'StartSigningJob', 'SignPayload'])}) }`,
  },
  {
    id: 'StudioAccessOutsideTheRole',
    description:
      'Blueprint: a Studio URL or a remote session created, or a user profile, space, domain or lifecycle configuration created or changed, by anyone but the data scientist role (a deploy trips it for what it creates)',
    source: 'trail',
    pattern: (ctx) => {
      const notTheDataScientist = `($.userIdentity.arn != "*:assumed-role/${ctx.namePrefix}-data-scientist/*")`;
      // Studio creates a person's spaces as the profile's execution role, which only runs inside Studio.
      const notStudio = `($.userIdentity.arn != "*:assumed-role/${ctx.namePrefix}-*-sagemaker/*")`;
      return `{ ($.eventSource = "sagemaker.amazonaws.com") && ((${anyOf('eventName', ['CreatePresignedDomainUrl', 'StartSession', 'CreateUserProfile', 'UpdateUserProfile', 'UpdateDomain', 'CreateStudioLifecycleConfig'])} && ${notTheDataScientist}) || (${anyOf('eventName', ['CreateSpace', 'UpdateSpace'])} && ${notTheDataScientist} && ${notStudio}) || ${anyOf('eventName', ['AddTags', 'DeleteTags', 'DeleteUserProfile'])}) }`;
    },
  },
  {
    id: 'SecurityGroupChanges',
    description: 'CIS: security groups created, changed or deleted',
    source: 'trail',
    pattern: events('ec2.amazonaws.com', [
      'AuthorizeSecurityGroupIngress',
      'AuthorizeSecurityGroupEgress',
      'RevokeSecurityGroupIngress',
      'RevokeSecurityGroupEgress',
      'CreateSecurityGroup',
      'DeleteSecurityGroup',
    ]),
  },
  {
    id: 'NetworkAclChanges',
    description: 'CIS: network ACLs created, changed or deleted',
    source: 'trail',
    pattern: events('ec2.amazonaws.com', [
      'CreateNetworkAcl',
      'CreateNetworkAclEntry',
      'DeleteNetworkAcl',
      'DeleteNetworkAclEntry',
      'ReplaceNetworkAclEntry',
      'ReplaceNetworkAclAssociation',
    ]),
  },
  {
    id: 'NetworkGatewayChanges',
    description:
      'CIS: internet and customer gateways created, attached, detached or deleted; and transit gateways, their VPC attachments and routes (a path between segments)',
    source: 'trail',
    pattern: events('ec2.amazonaws.com', [
      'CreateCustomerGateway',
      'DeleteCustomerGateway',
      'AttachInternetGateway',
      'CreateInternetGateway',
      'DeleteInternetGateway',
      'DetachInternetGateway',
      'CreateTransitGateway',
      'CreateTransitGatewayVpcAttachment',
      'AcceptTransitGatewayVpcAttachment',
      'ModifyTransitGatewayVpcAttachment',
      'CreateTransitGatewayRoute',
      'ReplaceTransitGatewayRoute',
    ]),
  },
  {
    id: 'RouteTableChanges',
    description: 'CIS: routes and route tables changed',
    source: 'trail',
    pattern: events('ec2.amazonaws.com', [
      'CreateRoute',
      'CreateRouteTable',
      'ReplaceRoute',
      'ReplaceRouteTableAssociation',
      'DeleteRouteTable',
      'DeleteRoute',
      'DisassociateRouteTable',
    ]),
  },
  {
    id: 'VpcChanges',
    description: 'CIS: VPCs and peering connections created, changed or deleted',
    source: 'trail',
    pattern: events('ec2.amazonaws.com', [
      'CreateVpc',
      'DeleteVpc',
      'ModifyVpcAttribute',
      'AcceptVpcPeeringConnection',
      'CreateVpcPeeringConnection',
      'DeleteVpcPeeringConnection',
      'RejectVpcPeeringConnection',
    ]),
  },
  {
    id: 'NetworkFirewallChanges',
    description:
      'Blueprint: a Network Firewall rule group, policy, firewall, its protections, subnets, logging or resource policy changed (a deploy of the blueprint trips it too)',
    source: 'trail',
    pattern: events('network-firewall.amazonaws.com', NETWORK_FIREWALL_CHANGES),
  },
  {
    id: 'DnsFirewallChanges',
    description:
      'Blueprint: a DNS Firewall rule group, rule, domain list or association changed, the fail mode changed, query logging removed, or DNS forwarded elsewhere by resolver rules or endpoints (a deploy of the blueprint trips it too)',
    source: 'trail',
    pattern: events('route53resolver.amazonaws.com', DNS_FIREWALL_CHANGES),
  },
  {
    id: 'EndpointAndFlowLogChanges',
    description:
      "Blueprint: a VPC endpoint created, deleted or changed (its policy, route tables, subnets or security groups), a subnet's settings changed, or flow logs deleted",
    source: 'trail',
    pattern: events('ec2.amazonaws.com', [
      'CreateVpcEndpoint',
      'ModifyVpcEndpoint',
      'DeleteVpcEndpoints',
      'ModifySubnetAttribute',
      'DeleteFlowLogs',
    ]),
  },
  {
    id: 'WorkflowChanges',
    description:
      "Blueprint: a state machine's definition, role, logging or aliases changed or deleted, or a waiting task resumed by anyone but the role whose task it is",
    source: 'trail',
    pattern: (ctx) =>
      `{ ($.eventSource = "states.amazonaws.com") && (${anyOf('eventName', STATE_MACHINE_CHANGES)} || (${anyOf('eventName', ['SendTaskSuccess', 'SendTaskFailure'])}${ctx.airlockDeskRole ? ` && ($.userIdentity.arn != "*:assumed-role/${ctx.airlockDeskRole}/*")` : ''})) }`,
  },
  {
    id: 'LogRetentionChanges',
    description:
      "Blueprint: a log group's retention, key or data protection changed, a log stream deleted (records removed before their time), or logs sent elsewhere (a subscription, an export task, an account policy)",
    source: 'trail',
    pattern: events('logs.amazonaws.com', [
      'PutRetentionPolicy',
      'DeleteRetentionPolicy',
      'DisassociateKmsKey',
      'DeleteLogStream',
      'DeleteDataProtectionPolicy',
      'PutDataProtectionPolicy',
      'PutSubscriptionFilter',
      'CreateExportTask',
      'PutAccountPolicy',
      'DeleteAccountPolicy',
      'PutDestinationPolicy',
    ]),
  },
  {
    id: 'DeploymentRoleAssumed',
    description:
      "Blueprint: a CDK bootstrap role (deploy, publishing, look-up) assumed by anyone but the platform admin role: the way to change any stack, and through CloudFormation's execution role every zone and key",
    source: 'trail',
    pattern: (ctx) =>
      `{ ($.eventSource = "sts.amazonaws.com") && ($.eventName = "AssumeRole") && ($.requestParameters.roleArn = "*:role/cdk-*") && ($.userIdentity.arn != "*:assumed-role/${ctx.namePrefix}-platform-admin/*") }`,
  },
  {
    id: 'StackChangesOutsideTheDeployment',
    description:
      "Blueprint: a stack created, changed, rolled or deleted by anyone but a CDK bootstrap's deploy role: CloudFormation reuses a stack's execution role for whoever updates it, and that role may change every zone and key",
    source: 'trail',
    pattern: () =>
      `{ ($.eventSource = "cloudformation.amazonaws.com") && ${anyOf('eventName', ['CreateStack', 'UpdateStack', 'DeleteStack', 'CreateChangeSet', 'ExecuteChangeSet', 'ContinueUpdateRollback', 'RollbackStack', 'SetStackPolicy', 'UpdateTerminationProtection', 'CreateStackRefactor', 'ExecuteStackRefactor'])} && ($.userIdentity.arn != "*:assumed-role/cdk-*-deploy-role-*") }`,
  },
  {
    id: 'BucketExportChanges',
    description:
      "Blueprint: a bucket's inventory, analytics export, metadata table or event notifications configured: a list of every object key (which may name patients) sent elsewhere, or the events the stage and the scan start from switched off",
    source: 'trail',
    pattern: events('s3.amazonaws.com', [
      'PutBucketInventoryConfiguration',
      'PutBucketAnalyticsConfiguration',
      'CreateBucketMetadataTableConfiguration',
      'CreateBucketMetadataConfiguration',
      'UpdateBucketMetadataInventoryTableConfiguration',
      'UpdateBucketMetadataJournalTableConfiguration',
      'PutBucketNotification',
    ]),
  },
  {
    id: 'InferencePathChanges',
    description:
      'Blueprint: the inference path changed: an API stage, method, deployment or key, the web ACL, or a SageMaker endpoint updated or deleted (a model swapped, data capture dropped)',
    source: 'trail',
    pattern: () =>
      `{ (($.eventSource = "apigateway.amazonaws.com") && ${anyOf('eventName', ['UpdateStage', 'DeleteStage', 'CreateDeployment', 'UpdateMethod', 'UpdateRestApi', 'PutRestApi', 'UpdateUsagePlan', 'CreateApiKey', 'UpdateApiKey'])}) || (($.eventSource = "wafv2.amazonaws.com") && ${anyOf('eventName', ['UpdateWebACL', 'DeleteWebACL', 'AssociateWebACL', 'DisassociateWebACL', 'DeleteLoggingConfiguration', 'PutLoggingConfiguration'])}) || (($.eventSource = "sagemaker.amazonaws.com") && ${anyOf('eventName', ['UpdateEndpoint', 'DeleteEndpoint', 'UpdateEndpointWeightsAndCapacities'])}) }`,
  },
  {
    id: 'StudioStorageChanges',
    description:
      "Blueprint: an EFS file system's replication, mount targets, access points, policy or protection changed (the Studio domain's home directories copied or reached from elsewhere)",
    source: 'trail',
    pattern: events('elasticfilesystem.amazonaws.com', [
      'CreateReplicationConfiguration',
      'CreateMountTarget',
      'ModifyMountTargetSecurityGroups',
      'CreateAccessPoint',
      'PutFileSystemPolicy',
      'DeleteFileSystemPolicy',
      'UpdateFileSystemProtection',
      'DeleteFileSystem',
    ]),
  },
  {
    id: 'RawPhiReadByOtherPrincipal',
    description:
      'Blueprint: an object of the raw phi zone read, or the zone listed, by anyone but the pseudonymization role',
    source: 'trail',
    pattern: (ctx) =>
      `{ ($.eventSource = "s3.amazonaws.com") && ${anyOf('eventName', ['GetObject', 'GetObjectVersion', 'ListObjects', 'ListObjectsV2', 'ListObjectVersions'])} && ($.requestParameters.bucketName = "${ctx.rawBucketName}") && ($.userIdentity.arn != "*:assumed-role/${ctx.pseudonymizationRole}/*") }`,
  },
  {
    id: 'SageMakerWorkOutsideGuardrails',
    description: 'Blueprint: SageMaker work refused by the guardrails, or created without a VPC',
    source: 'trail',
    // A processing job names its VPC under networkConfig; a training job and a model at the top.
    pattern: () =>
      `{ ($.eventSource = "sagemaker.amazonaws.com") && ${anyOf('eventName', ['CreateTrainingJob', 'CreateProcessingJob', 'CreateModel'])} && (($.errorCode = "AccessDenied*") || (${anyOf('eventName', ['CreateTrainingJob', 'CreateModel'])} && ($.requestParameters.vpcConfig NOT EXISTS)) || (($.eventName = "CreateProcessingJob") && ($.requestParameters.networkConfig.vpcConfig NOT EXISTS))) }`,
  },
  {
    id: 'BreakGlassAssumed',
    description: 'Blueprint: the break-glass role assumed',
    source: 'trail',
    pattern: (ctx) =>
      `{ ($.eventName = "AssumeRole") && ($.requestParameters.roleArn = "*:role/${ctx.breakGlassRole}") }`,
  },
  {
    id: 'PipelineOperatorAssumed',
    description:
      "Blueprint: the pipeline operator role assumed (it reads the stage's dead letters and re-sends events)",
    source: 'trail',
    pattern: (ctx) =>
      `{ ($.eventName = "AssumeRole") && ($.requestParameters.roleArn = "*:role/${ctx.pipelineOperatorRole}") }`,
  },
  {
    id: 'AlertPathChanges',
    description:
      'Blueprint: the way alerts travel changed: topic policy or subscriptions, event rules or targets, alarms, metric filters, log groups (a deploy of the blueprint trips it too)',
    source: 'trail',
    pattern: () =>
      `{ ${Object.entries(ALERT_PATH_CALLS)
        .map(([source, names]) => `(($.eventSource = "${source}") && ${anyOf('eventName', names)})`)
        .join(' || ')} }`,
  },
  {
    id: 'ImageCacheChanges',
    description:
      "Blueprint: the image caches changed outside their stack's way: a cache repository not created by ECR's template role, one pushed into, deleted or given a policy; cache rules, creation templates or the registry policy (a deploy of the blueprint trips it too)",
    source: 'trail',
    pattern: (ctx) =>
      `{ ($.eventSource = "ecr.amazonaws.com") && ((($.eventName = "CreateRepository") && ($.userIdentity.arn != "*:assumed-role/${ctx.imageCacheRole}/*")) || (${anyOf('eventName', ['PutImage', 'DeleteRepository', 'SetRepositoryPolicy'])} && ($.requestParameters.repositoryName = "${ctx.namePrefix}/*")) || ($.eventName = "*PullThroughCacheRule") || ($.eventName = "*RepositoryCreationTemplate") || ${anyOf('eventName', ['PutRegistryPolicy', 'DeleteRegistryPolicy'])}) }`,
  },
  {
    id: 'PackageRepositoryChanges',
    description:
      "Blueprint: the CodeArtifact mirrors changed outside their stack's way: a package published or copied in; package groups, origin controls, repositories, upstreams, external connections or policies (a deploy of the blueprint trips it too)",
    source: 'trail',
    pattern: () =>
      `{ ($.eventSource = "codeartifact.amazonaws.com") && ${anyOf('eventName', ['CreatePackageGroup', 'UpdatePackageGroup', 'DeletePackageGroup', 'UpdatePackageGroupOriginConfiguration', 'PublishPackageVersion', 'CopyPackageVersions', 'PutPackageOriginConfiguration', 'CreateRepository', 'UpdateRepository', 'AssociateExternalConnection', 'DisassociateExternalConnection', 'PutDomainPermissionsPolicy', 'PutRepositoryPermissionsPolicy'])} }`,
  },
  {
    id: 'BlueprintFunctionChanges',
    description:
      "Blueprint: a function of the blueprint changed outside its stack's way: its code, configuration (role, layers, environment), concurrency, permissions, URL or code signing; or a new function given one of the blueprint's roles (a deploy of the blueprint trips it too)",
    source: 'trail',
    // Lambda's CloudTrail event names carry the API version (UpdateFunctionCode20150331v2): matched
    // by prefix. A function is named by its name or its ARN; the blueprint's all start with the prefix.
    pattern: (ctx) =>
      `{ ($.eventSource = "lambda.amazonaws.com") && (((${LAMBDA_CHANGES.map((n) => `($.eventName = "${n}*")`).join(' || ')}) && (($.requestParameters.functionName = "${ctx.namePrefix}-*") || ($.requestParameters.functionName = "*:function:${ctx.namePrefix}-*"))) || (($.eventName = "CreateFunction*") && ($.requestParameters.role = "*:role/${ctx.namePrefix}-*"))) }`,
  },
  {
    id: 'BlueprintFunctionInvokedByAnother',
    description:
      'Blueprint: a function of the blueprint invoked by a principal rather than by its own callers (AWS services, the workflows that drive them, the pipeline operator): whoever forges its event acts as the function',
    source: 'trail',
    // The trail records every invocation of the blueprint's functions (Lambda data events).
    pattern: (ctx) =>
      `{ ($.eventSource = "lambda.amazonaws.com") && ($.eventName = "Invoke") && ($.requestParameters.functionName = "*${ctx.namePrefix}-*") && ($.userIdentity.type != "AWSService")${[ctx.airlockWorkflowRole, ctx.pseudonymizationWorkflowRole].map((r) => (r ? ` && ($.userIdentity.arn != "*:assumed-role/${r}/*")` : '')).join('')} && ($.userIdentity.arn != "*:assumed-role/${ctx.pipelineOperatorRole}/*") }`,
  },
  {
    id: 'FirewallAlerts',
    description:
      'Blueprint: Network Firewall alerts and drops of a segment (not the alerts that record a flow the allowlist passes)',
    source: 'firewallAlerts',
    pattern: () =>
      `{ ($.event.event_type = "alert") && (($.event.alert.signature_id < ${ALLOWLIST_ALERT_FIRST_SID}) || ($.event.alert.signature_id > ${ALLOWLIST_ALERT_LAST_SID})) }`,
  },
  {
    id: 'DnsFirewallBlocks',
    description: 'Blueprint: DNS Firewall blocks of a segment',
    source: 'dnsQueries',
    pattern: () => '{ ($.firewall_rule_action = "BLOCK") }',
  },
];
