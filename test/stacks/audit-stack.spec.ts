import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DATA_ZONES } from '../../lib/contract/classification';
import { DEFAULT_SEGMENTS } from '../../lib/config/schema';
import { defaultAppDir, defaultTemplate } from '../support/default-app';
import { synthBlueprint } from '../support/synth';
import { only, resourcesOf, statements, type Resource } from '../support/template';
import { EXPECTED_GRANTS_ONLY_FOR_AWS_SERVICES } from '../support/expected-controls';

const template = defaultTemplate('Audit');
const [keyId, key] = only(template, 'AWS::KMS::Key');
const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };
const [auditBucketId] = only(template, 'AWS::S3::Bucket', {
  ObjectLockConfiguration: Match.anyValue(),
  LoggingConfiguration: Match.anyValue(),
});
const [accessLogBucketId] = only(template, 'AWS::S3::Bucket', { LoggingConfiguration: Match.absent() });
const bucketPolicy = (bucketId: string) =>
  statements(
    only(template, 'AWS::S3::BucketPolicy', { Bucket: { Ref: bucketId } })[1].Properties?.PolicyDocument,
  );
const keyStatements = statements(key.Properties?.KeyPolicy);
const keyStatement = (sid: string) => keyStatements.find((s) => s.Sid === sid);

describe('audit key', () => {
  test('is customer-managed with yearly rotation', () => {
    expect(key.Properties).toMatchObject({
      EnableKeyRotation: true,
      RotationPeriodInDays: 365,
      PendingWindowInDays: 30,
    });
  });

  test('is retained when the stack is deleted or the key replaced', () => {
    expect(key).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('lets grants be created only for AWS services (CT.KMS.PR.3)', () => {
    expect(keyStatement('GrantsOnlyForAwsServices')).toEqual(EXPECTED_GRANTS_ONLY_FOR_AWS_SERVICES);
  });

  test('grants no principal kms:* and admits only this account and named services', () => {
    for (const statement of keyStatements) {
      expect([statement.Action].flat()).not.toContain('kms:*');
      if (statement.Effect !== 'Allow') continue;
      const principal = statement.Principal as { AWS?: unknown; Service?: unknown };
      if (principal.AWS) {
        expect(JSON.stringify(principal.AWS)).toContain('AWS::AccountId');
      } else {
        expect(statement.Condition).toBeDefined();
      }
    }
  });

  test('binds every service to this account or its own log groups (no confused deputy)', () => {
    const services = keyStatements.filter(
      (s) => s.Effect === 'Allow' && (s.Principal as { Service?: unknown }).Service,
    );
    expect(services.map((s) => s.Sid).sort()).toEqual([
      'AlarmsAndEventsPublishEncryptedAlerts',
      'CloudTrailDescribesKey',
      'CloudTrailEncryptsThisAccountsTrails',
      'CloudWatchLogsEncryptsThisAccountsLogGroups',
      'ConfigEncryptsSnapshots',
      'LogDeliveryEncryptsFlowLogs',
    ]);
    for (const s of services) {
      const conditions = JSON.stringify(s.Condition);
      expect(
        conditions.includes('aws:SourceAccount') ||
          /kms:EncryptionContext:aws:(logs:arn|sns:topicArn)/.test(conditions),
      ).toBe(true);
    }
    // Alarms and rules publish through SNS, which encrypts with the topic's ARN as context.
    expect(keyStatement('AlarmsAndEventsPublishEncryptedAlerts')?.Condition).toEqual({
      StringLike: {
        'kms:EncryptionContext:aws:sns:topicArn': {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':sns:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':*',
            ],
          ],
        },
      },
    });
    expect(keyStatement('CloudTrailEncryptsThisAccountsTrails')?.Condition).toMatchObject({
      StringLike: {
        'kms:EncryptionContext:aws:cloudtrail:arn': {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':cloudtrail:*:', { Ref: 'AWS::AccountId' }, ':trail/*'],
          ],
        },
      },
    });
  });
});

describe.each([
  ['audit bucket', () => auditBucketId],
  ['access-log bucket', () => accessLogBucketId],
])('%s', (_name, bucketId) => {
  const bucket = () =>
    resourcesOf(template)[bucketId()] as Resource & { Properties: Record<string, unknown> };

  test('is encrypted: the audit bucket with the audit key (SSE-KMS), the access-log bucket SSE-S3, all S3 accepts there', () => {
    const audit = bucketId() === auditBucketId;
    expect(bucket().Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        audit
          ? {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
            }
          : { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
      ],
    });
  });

  test('blocks all public access and disables ACLs', () => {
    expect(bucket().Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket().Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
    });
  });

  test('keeps versions', () => {
    expect(bucket().Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  test('refuses requests without TLS, and TLS older than 1.2', () => {
    const denies = bucketPolicy(bucketId()).filter((s) => s.Effect === 'Deny');
    expect(denies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
        expect.objectContaining({
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        }),
      ]),
    );
  });

  test('is retained when the stack is deleted or the bucket replaced', () => {
    expect(bucket()).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe("SageMaker's log groups, made before SageMaker would make them without a key", () => {
  const named = (name: string) =>
    Object.values(resourcesOf(template)).find(
      (r) => r.Type === 'AWS::Logs::LogGroup' && r.Properties?.LogGroupName === name,
    );

  test.each([
    '/aws/sagemaker/TrainingJobs',
    '/aws/sagemaker/ProcessingJobs',
    '/aws/sagemaker/studio',
    '/aws/sagemaker/Endpoints/aiseg-inference-endpoint',
  ])('%s: encrypted with the audit key, kept six years, retained, classified pii', (name) => {
    expect(named(name)).toMatchObject({
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
      Properties: { KmsKeyId: keyArn, RetentionInDays: 2192 },
    });
    expect(named(name)?.Properties?.Tags).toContainEqual({ Key: 'DataClassification', Value: 'pii' });
  });

  test('none when switched off, for an account that already has them', () => {
    const { app } = synthBlueprint({ config: { audit: { sageMakerLogGroups: false } } });
    const audit = Template.fromStack(app.node.findChild('Audit') as Stack);
    expect(JSON.stringify(audit.findResources('AWS::Logs::LogGroup'))).not.toContain('/aws/sagemaker/');
  });
});

describe('server access logging', () => {
  test('the audit bucket locks objects for the configured six years in COMPLIANCE mode', () => {
    expect(resourcesOf(template)[auditBucketId]?.Properties?.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2192 } },
    });
  });

  test('the audit bucket has Object Lock; the access-log bucket none, which S3 refuses on a log destination', () => {
    expect(resourcesOf(template)[auditBucketId]?.Properties?.ObjectLockEnabled).toBe(true);
    expect(resourcesOf(template)[accessLogBucketId]?.Properties?.ObjectLockEnabled).not.toBe(true);
    expect(resourcesOf(template)[accessLogBucketId]?.Properties).not.toHaveProperty(
      'ObjectLockConfiguration',
    );
  });

  test("only the deployment (this stack's CDK execution role, exactly) may change how the access logs are kept", () => {
    expect(bucketPolicy(accessLogBucketId)).toContainEqual({
      Sid: 'OnlyTheDeploymentChangesHowLogsAreKept',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: [
        's3:CreateBucketMetadataTableConfiguration',
        's3:DeleteBucketPolicy',
        's3:PutAnalyticsConfiguration',
        's3:PutBucketAcl',
        's3:PutBucketLogging',
        's3:PutBucketObjectLockConfiguration',
        's3:PutBucketOwnershipControls',
        's3:PutBucketPolicy',
        's3:PutBucketPublicAccessBlock',
        's3:PutBucketVersioning',
        's3:PutEncryptionConfiguration',
        's3:PutInventoryConfiguration',
        's3:PutLifecycleConfiguration',
        's3:PutReplicationConfiguration',
      ],
      Resource: { 'Fn::GetAtt': [accessLogBucketId, 'Arn'] },
      Condition: {
        ArnNotEquals: {
          'aws:PrincipalArn': {
            'Fn::Sub':
              'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}',
          },
        },
      },
    });
  });

  test('the access-log bucket is tamper-evident: only AWS services write or delete, and the trail records writes', () => {
    expect(bucketPolicy(accessLogBucketId)).toContainEqual({
      Sid: 'OnlyLogDeliveryWrites',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: [
        's3:DeleteObject',
        's3:DeleteObjectVersion',
        's3:PutObject',
        's3:ReplicateDelete',
        's3:ReplicateObject',
        's3:ReplicateTags',
      ],
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [accessLogBucketId, 'Arn'] }, '/*']] },
      Condition: { BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' } },
    });
    const [, trail] = only(template, 'AWS::CloudTrail::Trail');
    expect(trail.Properties?.EventSelectors).toContainEqual({
      DataResources: [
        {
          Type: 'AWS::S3::Object',
          Values: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [accessLogBucketId, 'Arn'] }, '/']] }],
        },
      ],
      IncludeManagementEvents: false,
      ReadWriteType: 'WriteOnly',
    });
  });

  test('the audit bucket logs every request to the separate access-log bucket', () => {
    expect(resourcesOf(template)[auditBucketId]?.Properties?.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: accessLogBucketId },
      LogFilePrefix: 'audit-bucket/',
    });
    expect(auditBucketId).not.toEqual(accessLogBucketId);
  });

  test("only S3 log delivery, in this account, may write access logs: of the audit bucket, each data zone and the stage's staging store", () => {
    const allows = bucketPolicy(accessLogBucketId).filter((s) => s.Effect === 'Allow');
    // Besides: no principal but an AWS service may write at all (OnlyLogDeliveryWrites).
    // Each zone's logs only from that zone's bucket (by its fixed name) and under its own prefix.
    const dataZoneLogs = [
      ...DATA_ZONES.map((zone) => ({ prefix: `data-${zone}`, bucket: zone })),
      { prefix: 'stage-parts', bucket: 'stage-parts' },
    ].map(({ prefix, bucket }) => ({
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [accessLogBucketId, 'Arn'] }, `/${prefix}/*`]] },
      Condition: {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: {
          'aws:SourceArn': {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                `:s3:::aiseg-${bucket}-`,
                { Ref: 'AWS::AccountId' },
                '-',
                { Ref: 'AWS::Region' },
              ],
            ],
          },
        },
      },
    }));
    expect(allows).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [accessLogBucketId, 'Arn'] }, '/audit-bucket/*']] },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [auditBucketId, 'Arn'] } },
        },
      },
      ...dataZoneLogs,
    ]);
  });
});

describe('CloudTrail trail', () => {
  const [, trail] = only(template, 'AWS::CloudTrail::Trail');

  test('covers every region and global services, validates log files, is logging', () => {
    expect(trail.Properties).toMatchObject({
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      EnableLogFileValidation: true,
      IsLogging: true,
    });
  });

  test("records all management events, and every object read and write of every data zone and the stage's staging store", () => {
    const bucketArn = (zone: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          `:s3:::aiseg-${zone}-`,
          { Ref: 'AWS::AccountId' },
          '-',
          { Ref: 'AWS::Region' },
          '/',
        ],
      ],
    });
    expect(trail.Properties?.EventSelectors).toEqual([
      { IncludeManagementEvents: true, ReadWriteType: 'All' },
      {
        IncludeManagementEvents: false,
        ReadWriteType: 'All',
        // The stage's staging store too: its parts are phi.
        DataResources: [{ Type: 'AWS::S3::Object', Values: [...DATA_ZONES, 'stage-parts'].map(bucketArn) }],
      },
      {
        IncludeManagementEvents: false,
        ReadWriteType: 'All',
        DataResources: [
          {
            Type: 'AWS::Lambda::Function',
            Values: ['aiseg-pseudonymization', 'aiseg-inference-inference-api'].map((name) => ({
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':lambda:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  `:function:${name}`,
                ],
              ],
            })),
          },
        ],
      },
      {
        IncludeManagementEvents: false,
        ReadWriteType: 'WriteOnly',
        DataResources: [
          {
            Type: 'AWS::S3::Object',
            Values: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [accessLogBucketId, 'Arn'] }, '/']] }],
          },
        ],
      },
    ]);
  });

  test('is encrypted with the audit key and delivers to the Object-Lock audit bucket', () => {
    expect(trail.Properties).toMatchObject({ KMSKeyId: keyArn, S3BucketName: { Ref: auditBucketId } });
  });

  test('is also delivered to an encrypted log group kept for the retention period', () => {
    const groupId = (trail.Properties?.CloudWatchLogsLogGroupArn as { 'Fn::GetAtt': string[] })[
      'Fn::GetAtt'
    ][0];
    expect(resourcesOf(template)[groupId]).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { KmsKeyId: keyArn, RetentionInDays: 2192 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('may write to the audit bucket only under its own account prefix', () => {
    const writes = bucketPolicy(auditBucketId).filter(
      (s) => s.Effect === 'Allow' && JSON.stringify(s.Principal).includes('cloudtrail'),
    );
    expect(writes.find((s) => s.Action === 's3:PutObject')).toMatchObject({
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      Resource: {
        'Fn::Join': [
          '',
          [{ 'Fn::GetAtt': [auditBucketId, 'Arn'] }, '/AWSLogs/', { Ref: 'AWS::AccountId' }, '/*'],
        ],
      },
    });
  });
});

describe('alert topic', () => {
  const [topicId] = only(template, 'AWS::SNS::Topic');
  test('is encrypted with the audit key', () => {
    only(template, 'AWS::SNS::Topic', { KmsMasterKeyId: keyArn });
  });

  test('refuses publishing without TLS', () => {
    const [, policy] = only(template, 'AWS::SNS::TopicPolicy');
    expect(statements(policy.Properties?.PolicyDocument)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    );
  });

  test("admits this account's EventBridge rules and this account's and region's alarms, and no other publisher", () => {
    const [, policy] = only(template, 'AWS::SNS::TopicPolicy');
    const allows = statements(policy.Properties?.PolicyDocument).filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      {
        Sid: 'ThisAccountsEventRulesPublish',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
      {
        Sid: 'ThisAccountsAlarmsPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':cloudwatch:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':alarm:*',
                ],
              ],
            },
          },
        },
      },
    ]);
  });

  test('refuses sns:Publish to every principal that is not an AWS service: no forged alert', () => {
    const [, policy] = only(template, 'AWS::SNS::TopicPolicy');
    expect(statements(policy.Properties?.PolicyDocument)).toContainEqual({
      Sid: 'OnlyServicesPublish',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'sns:Publish',
      Resource: { Ref: topicId },
      Condition: { BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' } },
    });
  });

  test('has no subscription until alert e-mails are configured', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

/** A JSON document CDK rendered as Fn::Join, parsed with `<Ref>` and `<Id.Attribute>` placeholders. */
function renderJoin(value: unknown): unknown {
  const [, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const { Ref, 'Fn::GetAtt': getAtt } = part as { Ref?: string; 'Fn::GetAtt'?: string[] };
      return Ref ? `<${Ref}>` : `<${getAtt?.join('.')}>`;
    })
    .join('');
  const document = JSON.parse(text) as { Statement: { Resource: unknown }[] };
  for (const statement of document.Statement) {
    if (Array.isArray(statement.Resource)) statement.Resource = [...(statement.Resource as string[])].sort();
  }
  return document;
}

describe('network log groups', () => {
  const segments = DEFAULT_SEGMENTS.map((s) => s.name).sort();
  test.each(['FlowLogs', 'FirewallAlerts', 'DnsQueries'])(
    'one encrypted, retained %s log group per segment',
    (kind) => {
      const groups = template.findResources('AWS::Logs::LogGroup', {
        Properties: { KmsKeyId: keyArn, RetentionInDays: 2192 },
        DeletionPolicy: 'Retain',
      });
      expect(
        Object.keys(groups)
          .filter((id) => id.startsWith(kind))
          .sort(),
      ).toEqual(segments.map((segment): unknown => expect.stringMatching(new RegExp(`^${kind}${segment}`))));
    },
  );

  test("log delivery may write only to the firewall-alert, DNS-query and AWS WAF groups and the range workflow's log, for this account", () => {
    const [, policy] = only(template, 'AWS::Logs::ResourcePolicy');
    expect(statements(renderJoin(policy.Properties?.PolicyDocument))).toEqual([
      {
        Sid: 'LogDeliveryWritesNetworkLogs',
        Effect: 'Allow',
        Principal: { Service: 'delivery.logs.amazonaws.com' },
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: Object.keys(template.findResources('AWS::Logs::LogGroup'))
          .filter((id) => /^(FirewallAlerts|DnsQueries|WafLogs|PseudonymizationWorkflowLogs)/.test(id))
          .map((id) => `<${id}.Arn>`)
          .sort(),
        Condition: {
          StringEquals: { 'aws:SourceAccount': '<AWS::AccountId>' },
          ArnLike: { 'aws:SourceArn': 'arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:*' },
        },
      },
    ]);
  });

  test('log delivery may write to the audit bucket only under the flow-log prefixes of this account', () => {
    const writes = bucketPolicy(auditBucketId).filter(
      (s) => JSON.stringify(s.Principal).includes('delivery.logs') && s.Action === 's3:PutObject',
    );
    expect(writes).toEqual([
      expect.objectContaining({
        Condition: {
          StringEquals: {
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
            's3:x-amz-acl': 'bucket-owner-full-control',
          },
          ArnLike: { 'aws:SourceArn': expect.anything() },
        },
        Resource: ['network-firewall', 'vpc-flow-logs'].map((prefix) => ({
          'Fn::Join': [
            '',
            [
              { 'Fn::GetAtt': [auditBucketId, 'Arn'] },
              `/${prefix}/AWSLogs/`,
              { Ref: 'AWS::AccountId' },
              '/*',
            ],
          ],
        })),
      }),
    ]);
  });
});

describe('stack', () => {
  test('has termination protection', () => {
    const manifest = JSON.parse(readFileSync(join(defaultAppDir(), 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { properties?: { terminationProtection?: boolean } }>;
    };
    expect(manifest.artifacts.Audit?.properties?.terminationProtection).toBe(true);
  });
});

describe('with a configuration', () => {
  const { app } = synthBlueprint({
    config: {
      namePrefix: 'acme',
      audit: {
        logRetentionYears: 7,
        objectLockMode: 'GOVERNANCE',
        alertEmails: ['soc@example.org', 'ciso@example.org'],
      },
    },
  });
  const configured = Template.fromStack(app.node.findChild('Audit') as Stack);

  test('subscribes every alert e-mail to the topic', () => {
    configured.resourceCountIs('AWS::SNS::Subscription', 2);
    configured.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'soc@example.org',
    });
    configured.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ciso@example.org',
    });
  });

  test('keeps records for the configured years in the configured mode', () => {
    configured.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 2557 } },
      },
    });
    configured.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 2557 });
  });

  test('names the stack with the prefix', () => {
    expect((app.node.findChild('Audit') as Stack).stackName).toBe('acme-audit');
  });
});

describe('code signing of every function', () => {
  const [profileId, profile] = only(template, 'AWS::Signer::SigningProfile');
  const [configId, config] = only(template, 'AWS::Lambda::CodeSigningConfig');

  test('one AWS Signer profile for Lambda, retained; one code-signing configuration that admits only it, Warn by default', () => {
    expect(profile).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { PlatformId: 'AWSLambda-SHA384-ECDSA' },
    });
    // CloudFormation names it: a retained profile of a failed first create does not block the retry.
    expect(profile.Properties).not.toHaveProperty('ProfileName');
    // The name it got, for the step that signs: an output of the audit stack.
    const { Outputs: outputs = {} } = template.toJSON() as { Outputs?: Record<string, { Value: unknown }> };
    expect(Object.values(outputs).map((o) => o.Value)).toContainEqual({
      'Fn::GetAtt': [profileId, 'ProfileName'],
    });
    expect(config.Properties).toMatchObject({
      AllowedPublishers: { SigningProfileVersionArns: [{ 'Fn::GetAtt': [profileId, 'ProfileVersionArn'] }] },
      CodeSigningPolicies: { UntrustedArtifactOnDeployment: 'Warn' },
    });
  });

  test("is on every function of every stack, aws-cdk-lib's own handlers included", () => {
    const dir = defaultAppDir();
    const functions = readdirSync(dir)
      .filter((f) => f.endsWith('.template.json'))
      .flatMap((f) =>
        Object.entries(
          (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { Resources: Record<string, Resource> })
            .Resources,
        )
          .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
          .map(([id, r]) => ({ stack: f, id, arn: JSON.stringify(r.Properties?.CodeSigningConfigArn) })),
      );
    expect(functions.some((f) => f.id.startsWith('CustomVpcRestrictDefaultSG'))).toBe(true);
    expect(functions.length).toBeGreaterThan(3);
    for (const f of functions) expect(f.arn).toContain(`CodeSigningConfig`);
    expect(functions.every((f) => f.arn.includes(configId) || f.arn.includes('Fn::GetStackOutput'))).toBe(
      true,
    );
  });

  test('codeSigning.untrustedArtifacts enforce: Lambda refuses code the profile did not sign', () => {
    const { blueprint } = synthBlueprint({ config: { codeSigning: { untrustedArtifacts: 'enforce' } } });
    Template.fromStack(blueprint.audit).hasResourceProperties('AWS::Lambda::CodeSigningConfig', {
      CodeSigningPolicies: { UntrustedArtifactOnDeployment: 'Enforce' },
    });
  });
});
