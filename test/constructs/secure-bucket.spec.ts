import { Stack, type App, type CfnElement, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SecureBucket } from '../../lib/constructs/secure-bucket';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';
import { only, resourcesOf, statements } from '../support/template';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const NAMED = 'acme-named-111122223333-eu-west-1';

function build(scope: App | Stage) {
  const stack = new Stack(scope, 'Buckets', { env: ENV });
  // An access-log bucket in another stack: the destination of a bucket with a fixed name.
  const logStack = new Stack(scope, 'Logs', { env: ENV });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  // Without a key: SSE-S3, as S3 requires of a server access log destination.
  const accessLogs = new SecureBucket(stack, 'AccessLogs', { classification: 'proprietary' });
  const records = new SecureBucket(stack, 'Records', {
    encryptionKey: key,
    classification: 'phi',
    serverAccessLogs: { bucket: accessLogs.bucket, prefix: 'records/' },
    objectLock: { mode: 'COMPLIANCE', years: 6 },
    lifecycle: { archiveAfterDays: 90, noncurrentVersionDays: 2192 },
  });
  const governed = new SecureBucket(stack, 'Governed', {
    encryptionKey: key,
    classification: 'proprietary',
    serverAccessLogs: { bucket: accessLogs.bucket, prefix: 'governed/' },
    objectLock: { mode: 'GOVERNANCE', years: 1 },
  });
  const remoteLogs = new SecureBucket(logStack, 'AccessLogs', { classification: 'proprietary' });
  const named = new SecureBucket(stack, 'Named', {
    bucketName: NAMED,
    encryptionKey: key,
    classification: 'pii',
    serverAccessLogs: { bucket: remoteLogs.bucket, prefix: 'named/' },
    objectLock: 'holds-only',
    lifecycle: { noncurrentVersionDays: 365 },
  });
  return { stack, logStack, key, accessLogs, records, governed, remoteLogs, named };
}

describe('SecureBucket', () => {
  const gate = gateCheck('secure-bucket', build);
  const { stack, logStack, key, accessLogs, records, governed, remoteLogs, named } = build(testApp());
  const t = Template.fromStack(stack);
  const logTemplate = Template.fromStack(logStack);

  const idOf = (b: SecureBucket) => Stack.of(b).getLogicalId(b.bucket.node.defaultChild as CfnElement);
  const ids = {
    accessLogs: idOf(accessLogs),
    records: idOf(records),
    governed: idOf(governed),
    named: idOf(named),
    remoteLogs: idOf(remoteLogs),
  };
  const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as CfnElement), 'Arn'] };
  const bucket = (id: string) => resourcesOf(t)[id];
  const props = (id: string) => bucket(id).Properties ?? {};
  const policy = (template: Template, id: string) =>
    statements(
      only(template, 'AWS::S3::BucketPolicy', { Bucket: { Ref: id } })[1].Properties?.PolicyDocument,
    );
  const inStack = [ids.accessLogs, ids.records, ids.governed, ids.named];

  test('is retained on stack deletion and on replacement; a fixed name only lets its failed create delete it', () => {
    for (const id of [ids.accessLogs, ids.records, ids.governed]) {
      expect(bucket(id)).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      expect(props(id)).not.toHaveProperty('BucketName');
    }
    expect(bucket(ids.named)).toMatchObject({
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
    expect(props(ids.named).BucketName).toBe(NAMED);
  });

  test('blocks all public access and disables ACLs', () => {
    for (const id of inStack) {
      expect(props(id).PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(props(id).OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    }
  });

  test('encrypts with the given key and an S3 bucket key (SSE-KMS); without a key, SSE-S3', () => {
    for (const id of [ids.records, ids.governed, ids.named]) {
      expect(props(id).BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
          },
        ],
      });
    }
    expect(props(ids.accessLogs).BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  test('keeps every version', () => {
    for (const id of inStack) expect(props(id).VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  test('refuses every request without TLS, or with TLS older than 1.2, to the bucket and its objects', () => {
    for (const id of inStack) {
      const resources = [
        { 'Fn::GetAtt': [id, 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, '/*']] },
      ];
      expect(policy(t, id).slice(0, 2)).toEqual([
        {
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Resource: resources,
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
        {
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Resource: resources,
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        },
      ]);
    }
    // Nothing else is in the policy of a bucket that no other bucket logs to.
    for (const id of [ids.records, ids.governed, ids.named]) expect(policy(t, id)).toHaveLength(2);
  });

  test('Object Lock keeps each new version for whole years, leap days included; holds-only sets no default; off without it', () => {
    expect(props(ids.records)).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2192 } },
      },
    });
    expect(props(ids.governed).ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 366 } },
    });
    expect(props(ids.named).ObjectLockEnabled).toBe(true);
    expect(props(ids.named)).not.toHaveProperty('ObjectLockConfiguration');
    expect(props(ids.accessLogs).ObjectLockEnabled).toBe(false);
    expect(props(ids.accessLogs)).not.toHaveProperty('ObjectLockConfiguration');
  });

  test('logs server access to the given bucket under the given prefix; the log bucket logs nowhere', () => {
    expect(props(ids.records).LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: ids.accessLogs },
      LogFilePrefix: 'records/',
    });
    // In another stack: the name that stack exports.
    const remote = props(ids.named).LoggingConfiguration as {
      DestinationBucketName: { 'Fn::GetStackOutput': { StackName: string; OutputName: string } };
      LogFilePrefix: string;
    };
    expect(remote.LogFilePrefix).toBe('named/');
    const { StackName, OutputName } = remote.DestinationBucketName['Fn::GetStackOutput'];
    expect(StackName).toBe('Logs');
    expect((logTemplate.toJSON() as { Outputs: Record<string, unknown> }).Outputs[OutputName]).toEqual({
      Value: { Ref: ids.remoteLogs },
    });
    expect(props(ids.accessLogs)).not.toHaveProperty('LoggingConfiguration');
  });

  test('admits S3 log delivery of this account to the log bucket, for each bucket under its own prefix only', () => {
    const delivery = (logBucket: string, prefix: string, sourceArn: unknown) => ({
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logBucket, 'Arn'] }, `/${prefix}*`]] },
      Condition: {
        StringEquals: { 'aws:SourceAccount': '111122223333' },
        ArnLike: { 'aws:SourceArn': sourceArn },
      },
    });
    expect(policy(t, ids.accessLogs).slice(2)).toEqual([
      delivery(ids.accessLogs, 'records/', { 'Fn::GetAtt': [ids.records, 'Arn'] }),
      delivery(ids.accessLogs, 'governed/', { 'Fn::GetAtt': [ids.governed, 'Arn'] }),
    ]);
    // From another stack, the source is the bucket's fixed name: no reference back, no cycle.
    expect(policy(logTemplate, ids.remoteLogs).slice(2)).toEqual([
      delivery(ids.remoteLogs, 'named/', {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${NAMED}`]],
      }),
    ]);
  });

  test('aborts incomplete uploads after 7 days; archives and ends noncurrent versions as given', () => {
    const abort = {
      Id: 'AbortIncompleteUploads',
      Status: 'Enabled',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    };
    expect(props(ids.records).LifecycleConfiguration).toEqual({
      Rules: [
        abort,
        {
          Id: 'ClassificationLifecycle',
          Status: 'Enabled',
          NoncurrentVersionExpiration: { NoncurrentDays: 2192 },
          Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
        },
      ],
    });
    expect(props(ids.named).LifecycleConfiguration).toEqual({
      Rules: [
        abort,
        {
          Id: 'ClassificationLifecycle',
          Status: 'Enabled',
          NoncurrentVersionExpiration: { NoncurrentDays: 365 },
        },
      ],
    });
    expect(props(ids.governed).LifecycleConfiguration).toEqual({ Rules: [abort] });
  });

  test('sends object events to EventBridge without a notification function, and carries its classification', () => {
    for (const id of inStack) {
      expect(props(id).NotificationConfiguration).toEqual({
        EventBridgeConfiguration: { EventBridgeEnabled: true },
      });
    }
    t.resourceCountIs('AWS::Lambda::Function', 0);
    expect(props(ids.records).Tags).toEqual([{ Key: 'DataClassification', Value: 'phi' }]);
    expect(props(ids.named).Tags).toEqual([{ Key: 'DataClassification', Value: 'pii' }]);
  });

  test('passes the gate', () => {
    expect(
      gate
        .unacknowledged()
        .filter((f) => ['Records', 'Governed', 'Named'].some((b) => f.includes(` at Buckets/${b}/`))),
    ).toEqual([]);
  });
});
