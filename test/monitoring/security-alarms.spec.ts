import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SEGMENTS } from '../../lib/config/schema';
import {
  SECURITY_FILTERS,
  alertPathEventPattern,
  type FilterContext,
} from '../../lib/monitoring/security-filters';
import { matchesEventPattern } from '../support/event-pattern';
import { defaultTemplate } from '../support/default-app';
import { matchesPattern } from '../support/filter-pattern';
import { only, resourcesOf, type Resource } from '../support/template';

const ctx: FilterContext = {
  rawBucketName: 'aiseg-raw-123456789012-eu-west-1',
  pseudonymizationRole: 'aiseg-pseudonymization',
  breakGlassRole: 'aiseg-break-glass',
  pipelineOperatorRole: 'aiseg-pipeline-operator',
  imageCacheRole: 'aiseg-image-cache',
  namePrefix: 'aiseg',
  // With an airlock, whose workflow invokes its functions.
  airlockWorkflowRole: 'aiseg-airlock-workflow',
  airlockDeskRole: 'aiseg-airlock-desk',
  // With a pseudonymization stage, whose range workflow invokes its function.
  pseudonymizationWorkflowRole: 'aiseg-pseudonymization-workflow',
};

const role = (name: string) => ({
  type: 'AssumedRole',
  arn: `arn:aws:sts::123456789012:assumed-role/${name}/session`,
  sessionContext: { sessionIssuer: { userName: name } },
});
const call = (eventSource: string, eventName: string, extra: Record<string, unknown> = {}) => ({
  eventSource,
  eventName,
  eventType: 'AwsApiCall',
  sourceIPAddress: '10.20.1.5',
  userIdentity: role('aiseg-platform-admin'),
  ...extra,
});

test('every filter pattern fits the 1,024 characters CloudWatch Logs allows', () => {
  for (const filter of SECURITY_FILTERS) expect(filter.pattern(ctx).length).toBeLessThanOrEqual(1024);
});

/** A CloudTrail record as Lambda writes it (event name with its API version, the function by ARN). */
const updateFunctionCode = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'cloudtrail', 'lambda-update-function-code.json'), 'utf8'),
) as Record<string, unknown>;

/** A CloudTrail record of test/fixtures/cloudtrail (README.md there says where each was published). */
const record = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'cloudtrail', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;

/** Per filter: an event it must match, and a benign one it must not. */
const SAMPLES: Record<string, [unknown, unknown]> = {
  BlueprintFunctionChanges: [
    updateFunctionCode,
    // The same call on a function that is not the blueprint's.
    {
      ...updateFunctionCode,
      requestParameters: { functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:billing-report' },
    },
  ],
  PackageRepositoryChanges: [
    call('codeartifact.amazonaws.com', 'UpdatePackageGroupOriginConfiguration'),
    call('codeartifact.amazonaws.com', 'DescribePackageGroup'),
  ],
  ImageCacheChanges: [
    // A notebook's own repository under a cache prefix: no creation template, no mirrors key.
    call('ecr.amazonaws.com', 'CreateRepository', {
      userIdentity: role('aiseg-development-sagemaker'),
      requestParameters: { repositoryName: 'aiseg/quay/x' },
    }),
    call('ecr.amazonaws.com', 'CreateRepository', {
      userIdentity: role('aiseg-image-cache'),
      requestParameters: { repositoryName: 'aiseg/quay/biocontainers/samtools' },
    }),
  ],
  UnauthorizedApiCalls: [
    call('ec2.amazonaws.com', 'RunInstances', { errorCode: 'Client.UnauthorizedOperation' }),
    call('s3.amazonaws.com', 'HeadBucket', { errorCode: 'AccessDenied' }),
  ],
  ConsoleSignInWithoutMfa: [
    {
      eventName: 'ConsoleLogin',
      userIdentity: { type: 'IAMUser' },
      additionalEventData: { MFAUsed: 'No' },
      responseElements: { ConsoleLogin: 'Success' },
    },
    {
      eventName: 'ConsoleLogin',
      userIdentity: { type: 'IAMUser' },
      additionalEventData: { MFAUsed: 'Yes' },
      responseElements: { ConsoleLogin: 'Success' },
    },
  ],
  RootAccountUsage: [
    { eventName: 'CreateAccessKey', eventType: 'AwsApiCall', userIdentity: { type: 'Root' } },
    {
      eventName: 'Decrypt',
      eventType: 'AwsServiceEvent',
      userIdentity: { type: 'Root', invokedBy: 'kms.amazonaws.com' },
    },
  ],
  IamPolicyChanges: [
    call('iam.amazonaws.com', 'AttachRolePolicy'),
    call('iam.amazonaws.com', 'GetRolePolicy'),
  ],
  CloudTrailChanges: [
    call('cloudtrail.amazonaws.com', 'StopLogging'),
    call('cloudtrail.amazonaws.com', 'LookupEvents'),
  ],
  ConsoleSignInFailures: [
    { eventName: 'ConsoleLogin', errorMessage: 'Failed authentication' },
    { eventName: 'ConsoleLogin', responseElements: { ConsoleLogin: 'Success' } },
  ],
  KmsKeyDisabledOrDeleted: [
    call('kms.amazonaws.com', 'ScheduleKeyDeletion'),
    call('kms.amazonaws.com', 'Decrypt'),
  ],
  S3BucketPolicyChanges: [
    call('s3.amazonaws.com', 'PutBucketPolicy'),
    call('s3.amazonaws.com', 'GetBucketPolicy'),
  ],
  ConfigChanges: [
    record('config-stop-configuration-recorder'),
    record('config-describe-configuration-recorders-benign'),
  ],
  KeyPolicyChanges: [record('kms-put-key-policy'), record('kms-get-key-policy-benign')],
  GuardDutyChanges: [
    call('guardduty.amazonaws.com', 'CreateIPSet'),
    call('guardduty.amazonaws.com', 'ListFindings'),
  ],
  FindingsServiceChanges: [
    call('securityhub.amazonaws.com', 'DisableSecurityHub'),
    call('securityhub.amazonaws.com', 'GetFindings'),
  ],
  RoleTrustChanges: [
    call('iam.amazonaws.com', 'UpdateAssumeRolePolicy'),
    call('iam.amazonaws.com', 'GetRole'),
  ],
  CodeSigningChanges: [
    call('lambda.amazonaws.com', 'UpdateCodeSigningConfig20200422'),
    call('lambda.amazonaws.com', 'GetCodeSigningConfig20200422'),
  ],
  BlueprintFunctionInvokedByAnother: [
    call('lambda.amazonaws.com', 'Invoke', {
      userIdentity: role('PowerUserAccess'),
      requestParameters: {
        functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:aiseg-airlock-worker',
      },
    }),
    call('lambda.amazonaws.com', 'Invoke', {
      userIdentity: role('aiseg-airlock-workflow'),
      requestParameters: {
        functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:aiseg-airlock-worker',
      },
    }),
  ],
  StudioAccessOutsideTheRole: [
    call('sagemaker.amazonaws.com', 'CreatePresignedDomainUrl', {
      userIdentity: role('PowerUserAccess'),
    }),
    call('sagemaker.amazonaws.com', 'CreatePresignedDomainUrl', {
      userIdentity: role('aiseg-data-scientist'),
    }),
  ],
  SecurityGroupChanges: [
    call('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress'),
    call('ec2.amazonaws.com', 'DescribeSecurityGroups'),
  ],
  NetworkAclChanges: [
    call('ec2.amazonaws.com', 'ReplaceNetworkAclEntry'),
    call('ec2.amazonaws.com', 'DescribeNetworkAcls'),
  ],
  NetworkGatewayChanges: [
    call('ec2.amazonaws.com', 'AttachInternetGateway'),
    call('ec2.amazonaws.com', 'DescribeInternetGateways'),
  ],
  RouteTableChanges: [
    call('ec2.amazonaws.com', 'CreateRoute'),
    call('ec2.amazonaws.com', 'DescribeRouteTables'),
  ],
  VpcChanges: [
    call('ec2.amazonaws.com', 'CreateVpcPeeringConnection'),
    call('ec2.amazonaws.com', 'DescribeVpcs'),
  ],
  NetworkFirewallChanges: [
    call('network-firewall.amazonaws.com', 'UpdateRuleGroup', {
      requestParameters: { ruleGroupName: 'aiseg-training-allowlist', type: 'STATEFUL' },
    }),
    call('network-firewall.amazonaws.com', 'DescribeRuleGroup'),
  ],
  DnsFirewallChanges: [
    call('route53resolver.amazonaws.com', 'UpdateFirewallDomains', {
      requestParameters: { firewallDomainListId: 'rslvr-fdl-1', operation: 'REMOVE' },
    }),
    call('route53resolver.amazonaws.com', 'ListFirewallRules'),
  ],
  EndpointAndFlowLogChanges: [
    call('ec2.amazonaws.com', 'ModifyVpcEndpoint', {
      requestParameters: { ModifyVpcEndpointRequest: { VpcEndpointId: 'vpce-1', PolicyDocument: '{}' } },
    }),
    call('ec2.amazonaws.com', 'DescribeVpcEndpoints'),
  ],
  WorkflowChanges: [
    call('states.amazonaws.com', 'SendTaskSuccess', { userIdentity: role('PowerUserAccess') }),
    call('states.amazonaws.com', 'SendTaskSuccess', { userIdentity: role('aiseg-airlock-desk') }),
  ],
  LogRetentionChanges: [
    call('logs.amazonaws.com', 'PutRetentionPolicy', {
      requestParameters: { logGroupName: 'aiseg-trail', retentionInDays: 1 },
    }),
    call('logs.amazonaws.com', 'DescribeLogGroups'),
  ],
  DeploymentRoleAssumed: [
    call('sts.amazonaws.com', 'AssumeRole', {
      userIdentity: role('PowerUserAccess'),
      requestParameters: {
        roleArn: 'arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-eu-west-1',
      },
    }),
    call('sts.amazonaws.com', 'AssumeRole', {
      userIdentity: role('aiseg-platform-admin'),
      requestParameters: {
        roleArn: 'arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-eu-west-1',
      },
    }),
  ],
  StackChangesOutsideTheDeployment: [
    // A change set executed by a person, not the deploy role: CloudFormation uses the stack's execution role.
    call('cloudformation.amazonaws.com', 'ExecuteChangeSet', { userIdentity: role('PowerUserAccess') }),
    call('cloudformation.amazonaws.com', 'ExecuteChangeSet', {
      userIdentity: role('cdk-hnb659fds-deploy-role-123456789012-eu-west-1'),
    }),
  ],
  BucketExportChanges: [
    call('s3.amazonaws.com', 'PutBucketInventoryConfiguration', {
      requestParameters: { bucketName: ctx.rawBucketName, id: 'daily' },
    }),
    call('s3.amazonaws.com', 'GetBucketInventoryConfiguration', {
      requestParameters: { bucketName: ctx.rawBucketName, id: 'daily' },
    }),
  ],
  InferencePathChanges: [
    call('apigateway.amazonaws.com', 'UpdateStage'),
    call('apigateway.amazonaws.com', 'GetStage'),
  ],
  StudioStorageChanges: [
    call('elasticfilesystem.amazonaws.com', 'CreateReplicationConfiguration'),
    call('elasticfilesystem.amazonaws.com', 'DescribeFileSystems'),
  ],
  RawPhiReadByOtherPrincipal: [
    call('s3.amazonaws.com', 'GetObject', {
      requestParameters: { bucketName: ctx.rawBucketName, key: 'site-a/batch.csv' },
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/someone' },
    }),
    call('s3.amazonaws.com', 'GetObject', {
      requestParameters: { bucketName: ctx.rawBucketName, key: 'site-a/batch.csv' },
      userIdentity: role('aiseg-pseudonymization'),
    }),
  ],
  SageMakerWorkOutsideGuardrails: [
    call('sagemaker.amazonaws.com', 'CreateTrainingJob', { errorCode: 'AccessDeniedException' }),
    call('sagemaker.amazonaws.com', 'CreateTrainingJob', {
      requestParameters: { vpcConfig: { subnets: ['subnet-1'], securityGroupIds: ['sg-1'] } },
    }),
  ],
  BreakGlassAssumed: [
    call('sts.amazonaws.com', 'AssumeRole', {
      requestParameters: { roleArn: 'arn:aws:iam::123456789012:role/aiseg-break-glass' },
    }),
    call('sts.amazonaws.com', 'AssumeRole', {
      requestParameters: { roleArn: 'arn:aws:iam::123456789012:role/aiseg-auditor' },
    }),
  ],
  PipelineOperatorAssumed: [
    call('sts.amazonaws.com', 'AssumeRole', {
      requestParameters: { roleArn: 'arn:aws:iam::123456789012:role/aiseg-pipeline-operator' },
    }),
    call('sts.amazonaws.com', 'AssumeRole', {
      requestParameters: { roleArn: 'arn:aws:iam::123456789012:role/aiseg-pipeline-operator-readonly' },
    }),
  ],
  AlertPathChanges: [
    call('sns.amazonaws.com', 'Unsubscribe', {
      requestParameters: { subscriptionArn: 'arn:aws:sns:eu-west-1:123456789012:alerts:1' },
    }),
    call('sns.amazonaws.com', 'Publish'),
  ],
  FirewallAlerts: [
    {
      firewall_name: 'aiseg-training-1',
      event: { event_type: 'alert', alert: { action: 'blocked', signature_id: 1000402 } },
    },
    // A flow the development allowlist passed, recorded by its alert rule: no alarm.
    {
      firewall_name: 'aiseg-development-1',
      event: { event_type: 'alert', alert: { action: 'allowed', signature_id: 3000001 } },
    },
  ],
  DnsFirewallBlocks: [
    {
      query_name: 'exfil.example.net.',
      firewall_rule_action: 'BLOCK',
      firewall_rule_group_id: 'rslvr-frg-1',
    },
    { query_name: 'sts.eu-west-1.amazonaws.com.', rcode: 'NOERROR' },
  ],
};

describe.each(SECURITY_FILTERS.map((f) => [f.id, f] as const))('filter %s', (id, filter) => {
  const [bad, benign] = SAMPLES[id] ?? [];

  test('has samples', () => {
    expect(bad).toBeDefined();
  });

  test('matches the event it is for', () => {
    expect(matchesPattern(filter.pattern(ctx), bad)).toBe(true);
  });

  test('does not match a benign event', () => {
    expect(matchesPattern(filter.pattern(ctx), benign)).toBe(false);
  });
});

/**
 * Every record AWS published (test/fixtures/cloudtrail; README.md there says where) against every
 * trail filter: the filters it must trip, exactly. Every other filter must stay quiet on it, so a
 * published read, or a write the blueprint does not watch, is a benign record for all of them.
 */
const PUBLISHED: Record<string, readonly string[]> = {
  'apigateway-get-resource': ['RootAccountUsage'],
  'cloudformation-update-stack': ['StackChangesOutsideTheDeployment'],
  'cloudtrail-update-trail': ['CloudTrailChanges'],
  'codeartifact-get-authorization-token': [],
  'config-describe-configuration-recorders-benign': [],
  'config-stop-configuration-recorder': ['ConfigChanges'],
  'ec2-create-transit-gateway': ['NetworkGatewayChanges'],
  'ec2-start-instances': [],
  'ecr-create-repository': ['ImageCacheChanges'],
  'elasticfilesystem-create-tags': ['RootAccountUsage'],
  'events-put-rule': ['RootAccountUsage', 'AlertPathChanges'],
  'guardduty-create-threat-intel-set': [],
  'iam-add-user-to-group': ['IamPolicyChanges'],
  'iam-create-user': [],
  'kms-create-grant': ['KeyPolicyChanges'],
  'kms-get-key-policy-benign': [],
  'kms-put-key-policy': ['KeyPolicyChanges'],
  'lambda-delete-function20150331': [],
  'lambda-update-function-code': ['BlueprintFunctionChanges'],
  'logs-create-export-task': ['LogRetentionChanges'],
  'monitoring-get-metric-data': [],
  'monitoring-put-metric-alarm': ['AlertPathChanges'],
  'network-firewall-create-firewall': ['NetworkFirewallChanges'],
  'route53resolver-create-resolver-endpoint': ['DnsFirewallChanges'],
  's3-list-buckets': [],
  's3-put-bucket-acl': ['S3BucketPolicyChanges'],
  'sagemaker-create-endpoint': [],
  'securityhub-create-insight': [],
  'sns-delete-topic': ['AlertPathChanges'],
  'sns-list-topics': [],
  'states-create-state-machine': [],
  'sts-assume-role': [],
};

const TRAIL_FILTERS = SECURITY_FILTERS.filter((f) => f.source === 'trail');
const tripped = (event: object) =>
  TRAIL_FILTERS.filter((f) => matchesPattern(f.pattern(ctx), event)).map((f) => f.id);

describe('published CloudTrail records', () => {
  test('every fixture is in the table', () => {
    const files = readdirSync(join(__dirname, '..', 'fixtures', 'cloudtrail'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));
    expect(files.sort()).toEqual(Object.keys(PUBLISHED).sort());
  });

  test.each(Object.entries(PUBLISHED))('%s trips exactly %j', (name, expected) => {
    expect(tripped(record(name)).sort()).toEqual([...expected].sort());
  });

  test('the published calls aimed at the blueprint: a blueprint function deleted, a CDK role or the break-glass role assumed', () => {
    const deleted = record('lambda-delete-function20150331');
    expect(
      tripped({ ...deleted, requestParameters: { functionName: `${ctx.namePrefix}-pseudonymization` } }),
    ).toEqual(['BlueprintFunctionChanges']);
    const assumed = record('sts-assume-role');
    const aimedAt = (roleArn: string) =>
      tripped({ ...assumed, requestParameters: { ...(assumed.requestParameters as object), roleArn } });
    expect(
      aimedAt('arn:aws:iam::111122223333:role/cdk-hnb659fds-deploy-role-111122223333-eu-west-1'),
    ).toEqual(['DeploymentRoleAssumed']);
    expect(aimedAt(`arn:aws:iam::111122223333:role/${ctx.breakGlassRole}`)).toEqual(['BreakGlassAssumed']);
  });
});

test('the mirror filters: a push into a cache, a publish, a new package group, a changed template; not a pull, a read or another repository', () => {
  const [images, packages] = ['ImageCacheChanges', 'PackageRepositoryChanges'].map(
    (id) => (event: object) => matchesPattern(SECURITY_FILTERS.find((f) => f.id === id)!.pattern(ctx), event),
  );
  const repository = (name: string) => ({ requestParameters: { repositoryName: name } });
  expect(images(call('ecr.amazonaws.com', 'PutImage', repository('aiseg/quay/x')))).toBe(true);
  expect(images(call('ecr.amazonaws.com', 'DeleteRepository', repository('aiseg/quay/x')))).toBe(true);
  expect(images(call('ecr.amazonaws.com', 'PutImage', repository('team/app')))).toBe(false);
  expect(images(call('ecr.amazonaws.com', 'BatchGetImage', repository('aiseg/quay/x')))).toBe(false);
  expect(images(call('ecr.amazonaws.com', 'CreatePullThroughCacheRule'))).toBe(true);
  expect(images(call('ecr.amazonaws.com', 'DeleteRepositoryCreationTemplate'))).toBe(true);
  expect(images(call('ecr.amazonaws.com', 'DescribeRepositoryCreationTemplates'))).toBe(false);
  expect(images(call('ecr.amazonaws.com', 'GetRegistryPolicy'))).toBe(false);
  expect(packages(call('codeartifact.amazonaws.com', 'PublishPackageVersion'))).toBe(true);
  // A more specific group allowing publishing would override the blocking one.
  expect(packages(call('codeartifact.amazonaws.com', 'CreatePackageGroup'))).toBe(true);
  expect(packages(call('codeartifact.amazonaws.com', 'UpdateRepository'))).toBe(true);
  expect(packages(call('codeartifact.amazonaws.com', 'GetAuthorizationToken'))).toBe(false);
  expect(packages(call('codeartifact.amazonaws.com', 'ListPackageGroups'))).toBe(false);
});

test('the key filter: a grant a principal creates itself, not one an AWS service creates for it; key policies; rotation off', () => {
  const keys = (event: object) =>
    matchesPattern(SECURITY_FILTERS.find((f) => f.id === 'KeyPolicyChanges')!.pattern(ctx), event);
  const grant = record('kms-create-grant');
  expect(keys(grant)).toBe(true);
  // The same grant asked for by SageMaker on the role's behalf (forward access sessions name the service).
  const identity = grant.userIdentity as Record<string, unknown>;
  expect(keys({ ...grant, userIdentity: { ...identity, invokedBy: 'sagemaker.amazonaws.com' } })).toBe(false);
  expect(keys(call('kms.amazonaws.com', 'DisableKeyRotation'))).toBe(true);
  expect(keys(call('kms.amazonaws.com', 'GetKeyRotationStatus'))).toBe(false);
});

test('the detection filters: every call that stops or narrows GuardDuty, Security Hub or Access Analyzer; no read', () => {
  const matches = (id: string, source: string, name: string) =>
    matchesPattern(SECURITY_FILTERS.find((f) => f.id === id)!.pattern(ctx), call(source, name));
  for (const name of [
    'DeleteDetector',
    'UpdateDetector',
    'CreateFilter',
    'UpdateFilter',
    'CreateIPSet',
    'UpdateMalwareScanSettings',
    'DeleteMalwareProtectionPlan',
    'ArchiveFindings',
  ])
    expect(matches('GuardDutyChanges', 'guardduty.amazonaws.com', name)).toBe(true);
  for (const name of [
    'DisableSecurityHub',
    'BatchDisableStandards',
    'UpdateStandardsControl',
    'CreateAutomationRule',
  ])
    expect(matches('FindingsServiceChanges', 'securityhub.amazonaws.com', name)).toBe(true);
  expect(matches('FindingsServiceChanges', 'access-analyzer.amazonaws.com', 'CreateArchiveRule')).toBe(true);
  expect(matches('GuardDutyChanges', 'guardduty.amazonaws.com', 'GetDetector')).toBe(false);
  // The name of a GuardDuty call under another service.
  expect(matches('GuardDutyChanges', 'ec2.amazonaws.com', 'DeleteDetector')).toBe(false);
  expect(matches('FindingsServiceChanges', 'securityhub.amazonaws.com', 'GetFindings')).toBe(false);
  expect(matches('FindingsServiceChanges', 'access-analyzer.amazonaws.com', 'ListFindings')).toBe(false);
});

test('the code-signing filter: the configuration changed or deleted (any API version), every Signer call that changes who signs, a signing job', () => {
  const signing = (source: string, name: string) =>
    matchesPattern(
      SECURITY_FILTERS.find((f) => f.id === 'CodeSigningChanges')!.pattern(ctx),
      call(source, name),
    );
  expect(signing('lambda.amazonaws.com', 'DeleteCodeSigningConfig20200422')).toBe(true);
  for (const name of ['StartSigningJob', 'CancelSigningProfile', 'AddProfilePermission', 'RevokeSignature'])
    expect(signing('signer.amazonaws.com', name)).toBe(true);
  expect(signing('signer.amazonaws.com', 'GetSigningProfile')).toBe(false);
  expect(signing('lambda.amazonaws.com', 'ListCodeSigningConfigs20200422')).toBe(false);
});

test("the invocation filter: a principal invoking a blueprint function; not AWS services, the airlock's or the stage's workflow or the pipeline operator, nor another function", () => {
  const invoked = (
    identity: object,
    functionName = 'arn:aws:lambda:eu-west-1:123456789012:function:aiseg-pseudonymization',
  ) =>
    matchesPattern(
      SECURITY_FILTERS.find((f) => f.id === 'BlueprintFunctionInvokedByAnother')!.pattern(ctx),
      call('lambda.amazonaws.com', 'Invoke', { userIdentity: identity, requestParameters: { functionName } }),
    );
  expect(invoked(role('PowerUserAccess'))).toBe(true);
  expect(invoked({ type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/mallory' })).toBe(true);
  expect(invoked({ type: 'AWSService', invokedBy: 'events.amazonaws.com' })).toBe(false);
  expect(invoked(role(ctx.pipelineOperatorRole))).toBe(false);
  expect(invoked(role('aiseg-pseudonymization-workflow'))).toBe(false);
  expect(invoked(role('aiseg-airlock-workflow'))).toBe(false);
  expect(
    invoked(role('PowerUserAccess'), 'arn:aws:lambda:eu-west-1:123456789012:function:billing-report'),
  ).toBe(false);
  // Without an airlock, the pattern names no airlock role, and its workflow is no exception.
  const without = SECURITY_FILTERS.find((f) => f.id === 'BlueprintFunctionInvokedByAnother')!.pattern({
    ...ctx,
    airlockWorkflowRole: undefined,
  });
  expect(without).not.toContain('airlock');
  // Without a stage, its workflow is no exception either.
  expect(
    SECURITY_FILTERS.find((f) => f.id === 'BlueprintFunctionInvokedByAnother')!.pattern({
      ...ctx,
      pseudonymizationWorkflowRole: undefined,
    }),
  ).not.toContain('pseudonymization-workflow');
});

test('the invocation filter fits 1,024 characters with the longest name prefix and both workflows', () => {
  const long = 'a'.repeat(20);
  const filter = SECURITY_FILTERS.find((f) => f.id === 'BlueprintFunctionInvokedByAnother')!;
  expect(
    filter.pattern({
      ...ctx,
      namePrefix: long,
      pipelineOperatorRole: `${long}-pipeline-operator`,
      airlockWorkflowRole: `${long}-airlock-workflow`,
      pseudonymizationWorkflowRole: `${long}-pseudonymization-workflow`,
    }).length,
  ).toBeLessThanOrEqual(1024);
});

test('the image cache filter fits 1,024 characters with the longest name prefix', () => {
  const long = 'a'.repeat(20);
  const filter = SECURITY_FILTERS.find((f) => f.id === 'ImageCacheChanges')!;
  expect(
    filter.pattern({ ...ctx, namePrefix: long, imageCacheRole: `${long}-image-cache` }).length,
  ).toBeLessThanOrEqual(1024);
});

describe('the SageMaker guardrail filter reads each call where it names its VPC', () => {
  const filter = SECURITY_FILTERS.find((f) => f.id === 'SageMakerWorkOutsideGuardrails')!;
  const vpc = { subnets: ['subnet-1'], securityGroupIds: ['sg-1'] };
  const matches = (event: object) => matchesPattern(filter.pattern(ctx), event);

  test('a processing job with its VPC under networkConfig is not an alert; without one it is', () => {
    expect(
      matches(
        call('sagemaker.amazonaws.com', 'CreateProcessingJob', {
          requestParameters: { networkConfig: { vpcConfig: vpc } },
        }),
      ),
    ).toBe(false);
    expect(
      matches(
        call('sagemaker.amazonaws.com', 'CreateProcessingJob', { requestParameters: { networkConfig: {} } }),
      ),
    ).toBe(true);
    // A top-level vpcConfig is not where a processing job's VPC goes.
    expect(
      matches(
        call('sagemaker.amazonaws.com', 'CreateProcessingJob', { requestParameters: { vpcConfig: vpc } }),
      ),
    ).toBe(true);
  });

  test('a model without a VPC is an alert; with one it is not; any refused create is', () => {
    expect(matches(call('sagemaker.amazonaws.com', 'CreateModel', { requestParameters: {} }))).toBe(true);
    expect(
      matches(call('sagemaker.amazonaws.com', 'CreateModel', { requestParameters: { vpcConfig: vpc } })),
    ).toBe(false);
    expect(
      matches(
        call('sagemaker.amazonaws.com', 'CreateProcessingJob', {
          errorCode: 'AccessDenied',
          requestParameters: { networkConfig: { vpcConfig: vpc } },
        }),
      ),
    ).toBe(true);
    expect(matches(call('sagemaker.amazonaws.com', 'CreateEndpoint', { requestParameters: {} }))).toBe(false);
  });
});

describe("the alert path is heard twice: by an alarm and, from the trail's events, by a rule", () => {
  const template = defaultTemplate('Audit');
  const [topicId] = only(template, 'AWS::SNS::Topic');
  const rules = Object.values(template.findResources('AWS::Events::Rule')) as Resource[];
  const rule = rules.find((r) =>
    String(r.Properties?.Description).startsWith('The way alerts travel changed'),
  )!;
  const deploymentSessions =
    'arn:aws:sts::123456789012:assumed-role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1/';
  const pattern = alertPathEventPattern(deploymentSessions);
  /** A CloudTrail record as EventBridge delivers it. */
  const delivered = (detail: unknown) => ({ 'detail-type': 'AWS API Call via CloudTrail', detail });
  const heard = (detail: unknown) =>
    matchesEventPattern({ 'detail-type': pattern.detailType, detail: pattern.detail }, delivered(detail));

  test('the rule sends to the alert topic, with the pattern of the calls, the deployment left out', () => {
    expect(rule.Properties?.State ?? 'ENABLED').toBe('ENABLED');
    expect(JSON.stringify(rule.Properties?.Targets)).toContain(topicId);
    const written = rule.Properties?.EventPattern as {
      'detail-type': string[];
      detail: Record<string, unknown>;
    };
    expect(written['detail-type']).toEqual(pattern.detailType);
    expect(written.detail.eventName).toEqual(pattern.detail.eventName);
    // Only the sessions of CloudFormation's execution role, not every role named cdk-*.
    expect(JSON.stringify(written.detail.userIdentity)).toMatch(
      /anything-but.*:sts::\$\{AWS::AccountId\}:assumed-role\/cdk-hnb659fds-cfn-exec-role-\$\{AWS::AccountId\}-\$\{AWS::Region\}\//,
    );
  });

  test('one call cannot silence both: alarm actions off is heard by the rule, the rule off by an alarm', () => {
    const power = role('PowerUserAccess');
    // Arn as CloudTrail writes it for an assumed role.
    const by = { ...power, arn: 'arn:aws:sts::123456789012:assumed-role/PowerUserAccess/mallory' };
    expect(heard(call('monitoring.amazonaws.com', 'DisableAlarmActions', { userIdentity: by }))).toBe(true);
    expect(heard(call('logs.amazonaws.com', 'DeleteMetricFilter', { userIdentity: by }))).toBe(true);
    expect(heard(call('sns.amazonaws.com', 'SetSubscriptionAttributes', { userIdentity: by }))).toBe(true);
    expect(heard(call('kms.amazonaws.com', 'DisableKey', { userIdentity: by }))).toBe(true);
    // The trail stopped or sent elsewhere cuts the alarms off at their source.
    expect(heard(call('cloudtrail.amazonaws.com', 'StopLogging', { userIdentity: by }))).toBe(true);
    expect(heard(record('cloudtrail-update-trail'))).toBe(true);
    const alertPath = SECURITY_FILTERS.find((f) => f.id === 'AlertPathChanges')!.pattern(ctx);
    expect(matchesPattern(alertPath, call('events.amazonaws.com', 'DisableRule', { userIdentity: by }))).toBe(
      true,
    );
    // Published records: an alarm and a rule created, a topic deleted; a read is not heard.
    for (const name of [
      'monitoring-put-metric-alarm',
      'events-put-rule',
      'sns-delete-topic',
      'kms-put-key-policy',
    ])
      expect([name, heard(record(name))]).toEqual([name, true]);
    for (const name of ['sns-list-topics', 'monitoring-get-metric-data', 'kms-get-key-policy-benign'])
      expect([name, heard(record(name))]).toEqual([name, false]);
  });

  test("the deployment's own changes are not (every deploy makes them)", () => {
    const cfn = { type: 'AssumedRole', arn: `${deploymentSessions}AWSCloudFormation` };
    expect(heard(call('monitoring.amazonaws.com', 'PutMetricAlarm', { userIdentity: cfn }))).toBe(false);
    // Another role named cdk-* (a deploy role, another qualifier's, anyone's) is heard.
    const other = {
      type: 'AssumedRole',
      arn: 'arn:aws:sts::123456789012:assumed-role/cdk-hnb659fds-deploy-role-123456789012-eu-west-1/x',
    };
    expect(heard(call('monitoring.amazonaws.com', 'DisableAlarmActions', { userIdentity: other }))).toBe(
      true,
    );
  });
});

describe('the audit key, which the trail, its logs and the alert topic need, is disabled or replaced by no one but the deployment', () => {
  const template = defaultTemplate('Audit');
  test("nor is the topic's policy, key or any attribute changed, or the topic deleted", () => {
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy')) as Resource[];
    const statements = (policy.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] })
      .Statement;
    const deny = statements.find((x) => x.Sid === 'OnlyTheDeploymentChangesTheTopic')!;
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: [
        'sns:AddPermission',
        'sns:DeleteTopic',
        'sns:PutDataProtectionPolicy',
        'sns:RemovePermission',
        'sns:SetTopicAttributes',
      ],
    });
    expect(JSON.stringify(deny.Condition)).toMatch(/ArnNotEquals.*aws:PrincipalArn.*cfn-exec-role/);
  });

  test('its policy denies DisableKey, ScheduleKeyDeletion and PutKeyPolicy to every other principal', () => {
    const keys = Object.values(template.findResources('AWS::KMS::Key')) as Resource[];
    const audit = keys.find((k) => String(k.Properties?.Description).startsWith('Encrypts the audit trail'))!;
    const statements = (audit.Properties?.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;
    const deny = statements.find((x) => x.Sid === 'OnlyTheDeploymentDisablesOrReplacesTheKey')!;
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['kms:DisableKey', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion'],
    });
    expect(JSON.stringify(deny.Condition)).toMatch(/ArnNotEquals.*aws:PrincipalArn.*cfn-exec-role/);
  });
});

describe('the audit stack watches every filter and sends every alarm to the alert topic', () => {
  const template = defaultTemplate('Audit');
  const resources = resourcesOf(template);
  const [topicId] = only(template, 'AWS::SNS::Topic');
  const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')) as Resource[];
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
  const trailFilters = SECURITY_FILTERS.filter((f) => f.source === 'trail');
  const networkFilters = SECURITY_FILTERS.filter((f) => f.source !== 'trail');

  test('one metric filter and one alarm per trail filter, and per segment for the network ones', () => {
    const expected = trailFilters.length + networkFilters.length * DEFAULT_SEGMENTS.length;
    expect(filters).toHaveLength(expected);
    expect(alarms).toHaveLength(expected);
  });

  test('each filter reads its log group with its pattern', () => {
    for (const filter of trailFilters) {
      const found = filters.find((f) => f.Properties?.FilterName === filter.id);
      const group = (found?.Properties?.LogGroupName as { Ref: string }).Ref;
      expect(group).toMatch(/^AuditTrailLogs/);
      expect(resources[group].Type).toBe('AWS::Logs::LogGroup');
    }
    for (const segment of DEFAULT_SEGMENTS) {
      for (const [id, prefix] of [
        ['FirewallAlerts', 'FirewallAlerts'],
        ['DnsFirewallBlocks', 'DnsQueries'],
      ]) {
        const found = filters.find((f) => f.Properties?.FilterName === `${id}-${segment.name}`);
        expect((found?.Properties?.LogGroupName as { Ref: string }).Ref).toMatch(
          new RegExp(`^${prefix}${segment.name}`),
        );
      }
    }
  });

  test('the raw phi filter names the raw zone bucket and the pseudonymization role', () => {
    const raw = filters.find((f) => f.Properties?.FilterName === 'RawPhiReadByOtherPrincipal');
    const text = JSON.stringify(raw?.Properties?.FilterPattern);
    expect(text).toContain('aiseg-raw-');
    expect(text).toContain(':assumed-role/aiseg-pseudonymization/*');
  });

  test('every alarm fires on the first event and notifies the encrypted alert topic', () => {
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        Namespace: 'AISegmentation/Security',
        AlarmActions: [{ Ref: topicId }],
      });
    }
  });
});

describe('the pattern evaluator used above', () => {
  test('treats a missing field as neither equal nor unequal, and NOT EXISTS as true', () => {
    expect(matchesPattern('{ ($.a != "x") }', {})).toBe(false);
    expect(matchesPattern('{ ($.a NOT EXISTS) }', {})).toBe(true);
    expect(matchesPattern('{ ($.a = "x*") && (($.b = 1) || ($.c = "y")) }', { a: 'xyz', c: 'y' })).toBe(true);
  });

  test('refuses what it cannot read', () => {
    expect(() => matchesPattern('$.a = "x"', {})).toThrow('not a JSON filter pattern');
    expect(() => matchesPattern('{ (($.a = "x") }', {})).toThrow('unbalanced');
  });
});

test('the function filter: each call that changes a blueprint function, by name or ARN, and a new function with a blueprint role; not a read or another function', () => {
  const filter = SECURITY_FILTERS.find((f) => f.id === 'BlueprintFunctionChanges')!;
  const matches = (event: object) => matchesPattern(filter.pattern(ctx), event);
  for (const eventName of [
    'UpdateFunctionConfiguration20150331v2',
    'PutFunctionConcurrency20171031',
    'AddPermission20150331v2',
    'UpdateFunctionUrlConfig20211031',
    'PutFunctionCodeSigningConfig20200422',
    'DeleteFunction20150331',
  ])
    expect(
      matches(
        call('lambda.amazonaws.com', eventName, {
          requestParameters: { functionName: 'aiseg-airlock-exporter' },
        }),
      ),
    ).toBe(true);
  expect(
    matches(
      call('lambda.amazonaws.com', 'CreateFunction20150331', {
        requestParameters: {
          functionName: 'helper',
          role: 'arn:aws:iam::123456789012:role/aiseg-pseudonymization',
        },
      }),
    ),
  ).toBe(true);
  expect(
    matches(
      call('lambda.amazonaws.com', 'CreateFunction20150331', {
        requestParameters: { functionName: 'helper', role: 'arn:aws:iam::123456789012:role/helper' },
      }),
    ),
  ).toBe(false);
  expect(
    matches(
      call('lambda.amazonaws.com', 'GetFunction20150331v2', {
        requestParameters: { functionName: 'aiseg-airlock-desk' },
      }),
    ),
  ).toBe(false);
});

test('the network control filters: every call that changes what a firewall or DNS Firewall inspects, where or what it records, an endpoint or flow log; no read and no other service', () => {
  const matches = (id: string, source: string, name: string) =>
    matchesPattern(SECURITY_FILTERS.find((f) => f.id === id)!.pattern(ctx), call(source, name));
  for (const name of [
    'UpdateFirewallPolicy',
    'DeleteRuleGroup',
    'AssociateFirewallPolicy',
    'DisassociateSubnets',
    'UpdateFirewallPolicyChangeProtection',
    'UpdateLoggingConfiguration',
  ])
    expect(matches('NetworkFirewallChanges', 'network-firewall.amazonaws.com', name)).toBe(true);
  for (const name of [
    'DeleteFirewallRule',
    'UpdateFirewallRule',
    'DisassociateFirewallRuleGroup',
    'UpdateFirewallConfig',
    'DisassociateResolverQueryLogConfig',
    'AssociateResolverRule',
  ])
    expect(matches('DnsFirewallChanges', 'route53resolver.amazonaws.com', name)).toBe(true);
  for (const name of ['CreateVpcEndpoint', 'DeleteVpcEndpoints', 'ModifySubnetAttribute', 'DeleteFlowLogs'])
    expect(matches('EndpointAndFlowLogChanges', 'ec2.amazonaws.com', name)).toBe(true);
  expect(matches('NetworkFirewallChanges', 'network-firewall.amazonaws.com', 'ListFirewalls')).toBe(false);
  // A Network Firewall call's name under Route 53 Resolver, and the reverse.
  expect(matches('NetworkFirewallChanges', 'route53resolver.amazonaws.com', 'UpdateRuleGroup')).toBe(false);
  expect(matches('DnsFirewallChanges', 'network-firewall.amazonaws.com', 'UpdateFirewallDomains')).toBe(
    false,
  );
  expect(matches('DnsFirewallChanges', 'route53resolver.amazonaws.com', 'GetFirewallConfig')).toBe(false);
  expect(matches('EndpointAndFlowLogChanges', 'ec2.amazonaws.com', 'DescribeFlowLogs')).toBe(false);
});

test("the workflow filter: a definition changed by anyone, a task resumed by anyone but the airlock desk; not an execution's reads", () => {
  const workflow = (name: string, identity: object = role('aiseg-platform-admin')) =>
    matchesPattern(
      SECURITY_FILTERS.find((f) => f.id === 'WorkflowChanges')!.pattern(ctx),
      call('states.amazonaws.com', name, { userIdentity: identity }),
    );
  expect(workflow('UpdateStateMachine')).toBe(true);
  expect(workflow('DeleteStateMachine')).toBe(true);
  expect(workflow('UpdateStateMachineAlias')).toBe(true);
  // The desk may resume a task, not rewrite the workflow.
  expect(workflow('UpdateStateMachine', role('aiseg-airlock-desk'))).toBe(true);
  expect(
    workflow('SendTaskFailure', { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/mallory' }),
  ).toBe(true);
  expect(workflow('SendTaskFailure', role('aiseg-airlock-desk'))).toBe(false);
  expect(workflow('DescribeExecution')).toBe(false);
  // Without an airlock no task waits for anyone: whoever resumes one is heard.
  const without = SECURITY_FILTERS.find((f) => f.id === 'WorkflowChanges')!.pattern({
    ...ctx,
    airlockDeskRole: undefined,
  });
  expect(without).not.toContain('airlock');
  expect(
    matchesPattern(
      without,
      call('states.amazonaws.com', 'SendTaskSuccess', { userIdentity: role('aiseg-airlock-desk') }),
    ),
  ).toBe(true);
  expect(workflow('StartExecution')).toBe(false);
});

test('the log filter: retention shortened or removed, the key taken off, a stream deleted; not a read or a write', () => {
  const logs = (name: string) =>
    matchesPattern(
      SECURITY_FILTERS.find((f) => f.id === 'LogRetentionChanges')!.pattern(ctx),
      call('logs.amazonaws.com', name),
    );
  for (const name of ['PutRetentionPolicy', 'DeleteRetentionPolicy', 'DisassociateKmsKey', 'DeleteLogStream'])
    expect(logs(name)).toBe(true);
  expect(logs('PutLogEvents')).toBe(false);
  expect(logs('FilterLogEvents')).toBe(false);
});

test('the insider paths the review found: bucket exports, logs sent elsewhere, the inference path, Studio storage, function settings; not their reads', () => {
  const matches = (id: string, source: string, name: string, extra: Record<string, unknown> = {}) =>
    matchesPattern(SECURITY_FILTERS.find((f) => f.id === id)!.pattern(ctx), call(source, name, extra));
  for (const name of [
    'PutBucketAnalyticsConfiguration',
    'CreateBucketMetadataTableConfiguration',
    'PutBucketNotification',
  ])
    expect(matches('BucketExportChanges', 's3.amazonaws.com', name)).toBe(true);
  for (const name of ['PutSubscriptionFilter', 'CreateExportTask', 'PutAccountPolicy'])
    expect(matches('LogRetentionChanges', 'logs.amazonaws.com', name)).toBe(true);
  expect(matches('InferencePathChanges', 'wafv2.amazonaws.com', 'UpdateWebACL')).toBe(true);
  expect(matches('InferencePathChanges', 'sagemaker.amazonaws.com', 'UpdateEndpoint')).toBe(true);
  expect(matches('InferencePathChanges', 'sagemaker.amazonaws.com', 'InvokeEndpoint')).toBe(false);
  expect(matches('StudioStorageChanges', 'elasticfilesystem.amazonaws.com', 'CreateMountTarget')).toBe(true);
  // A profile re-tagged to another owner, by anyone (the data scientist role included).
  expect(
    matches('StudioAccessOutsideTheRole', 'sagemaker.amazonaws.com', 'AddTags', {
      userIdentity: role('aiseg-data-scientist'),
    }),
  ).toBe(true);
  expect(matches('StackChangesOutsideTheDeployment', 'cloudformation.amazonaws.com', 'DescribeStacks')).toBe(
    false,
  );
  expect(matches('StackChangesOutsideTheDeployment', 'cloudformation.amazonaws.com', 'UpdateStack')).toBe(
    true,
  );
  const fn = { requestParameters: { functionName: 'aiseg-pseudonymization' } };
  for (const name of ['DeleteFunctionConcurrency20171031', 'PutFunctionEventInvokeConfig20190925'])
    expect(matches('BlueprintFunctionChanges', 'lambda.amazonaws.com', name, fn)).toBe(true);
  expect(
    matches('BlueprintFunctionChanges', 'lambda.amazonaws.com', 'GetFunctionEventInvokeConfig20190925', fn),
  ).toBe(false);
  // A role of another name under cdk- is still a bootstrap role; another role is not.
  const assumed = (roleArn: string) =>
    matches('DeploymentRoleAssumed', 'sts.amazonaws.com', 'AssumeRole', {
      userIdentity: role('PowerUserAccess'),
      requestParameters: { roleArn },
    });
  expect(
    assumed('arn:aws:iam::123456789012:role/cdk-hnb659fds-file-publishing-role-123456789012-eu-west-1'),
  ).toBe(true);
  expect(assumed('arn:aws:iam::123456789012:role/aiseg-auditor')).toBe(false);
});
