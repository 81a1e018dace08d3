import { Stack, type App, type CfnElement, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AuditTrail } from '../../lib/constructs/audit-trail';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';
import { only, resourcesOf, statements } from '../support/template';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const FUNCTION = 'arn:aws:lambda:eu-west-1:111122223333:function:acme-pseudonymization';

/** A stack with a key, an audit bucket and the trail; `full` adds every kind of data event. */
function trailStack(scope: App | Stage, id: string, full: boolean) {
  const stack = new Stack(scope, id, { env: ENV });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const bucket = new s3.Bucket(stack, 'AuditBucket');
  const watched = new s3.Bucket(stack, 'AccessLogs');
  const trail = new AuditTrail(stack, 'Trail', {
    bucket,
    encryptionKey: key,
    retentionYears: 6,
    dataBucketNames: full ? ['acme-raw-111122223333-eu-west-1', 'acme-curated-111122223333-eu-west-1'] : [],
    ...(full ? { writeWatchedBuckets: [watched], watchedFunctionArns: [FUNCTION] } : {}),
  });
  const logicalId = (c: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(c.node.defaultChild as CfnElement);
  return {
    stack,
    trail,
    ids: {
      key: logicalId(key),
      bucket: logicalId(bucket),
      watched: logicalId(watched),
      logGroup: logicalId(trail.logGroup.logGroup),
      role: stack.getLogicalId(trail.trail.node.findChild('LogsRole').node.defaultChild as CfnElement),
    },
  };
}

/** The trail with every kind of data event, and one without any. */
function build(scope: App | Stage) {
  return { full: trailStack(scope, 'Audit', true), bare: trailStack(scope, 'Bare', false) };
}

describe('AuditTrail', () => {
  const gate = gateCheck('audit-trail', build);
  const { full, bare } = build(testApp());
  const t = Template.fromStack(full.stack);
  const { ids } = full;
  const [, trail] = only(t, 'AWS::CloudTrail::Trail');
  const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

  test('records all management events of every region and of global services, validates log files, is logging', () => {
    expect(trail.Properties).toMatchObject({
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      EnableLogFileValidation: true,
      IsLogging: true,
    });
    expect((trail.Properties?.EventSelectors as unknown[])[0]).toEqual({
      IncludeManagementEvents: true,
      ReadWriteType: 'All',
    });
  });

  test('encrypts log files with the given key and delivers them to the given bucket', () => {
    expect(trail.Properties).toMatchObject({ KMSKeyId: arnOf(ids.key), S3BucketName: { Ref: ids.bucket } });
  });

  test('copies events to its own log group: encrypted with the key, kept the given years, retained', () => {
    expect(trail.Properties?.CloudWatchLogsLogGroupArn).toEqual(arnOf(ids.logGroup));
    expect(resourcesOf(t)[ids.logGroup]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KmsKeyId: arnOf(ids.key),
        RetentionInDays: 2192,
        Tags: [{ Key: 'DataClassification', Value: 'proprietary' }],
      },
    });
  });

  test('delivers to the log group with a role only CloudTrail assumes, which may only write to that group', () => {
    expect(trail.Properties?.CloudWatchLogsRoleArn).toEqual(arnOf(ids.role));
    const role = resourcesOf(t)[ids.role];
    expect(statements(role.Properties?.AssumeRolePolicyDocument)).toEqual([
      { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
    expect(role.Properties).not.toHaveProperty('Policies');
    const [, policy] = only(t, 'AWS::IAM::Policy');
    expect(policy.Properties?.Roles).toEqual([{ Ref: ids.role }]);
    expect(statements(policy.Properties?.PolicyDocument)).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: arnOf(ids.logGroup),
      },
    ]);
  });

  test('records every object read and write of the data buckets, every invocation of the functions, and writes to the watched buckets', () => {
    expect((trail.Properties?.EventSelectors as unknown[]).slice(1)).toEqual([
      {
        IncludeManagementEvents: false,
        ReadWriteType: 'All',
        DataResources: [
          {
            Type: 'AWS::S3::Object',
            Values: [
              'arn:aws:s3:::acme-raw-111122223333-eu-west-1/',
              'arn:aws:s3:::acme-curated-111122223333-eu-west-1/',
            ],
          },
        ],
      },
      {
        IncludeManagementEvents: false,
        ReadWriteType: 'All',
        DataResources: [{ Type: 'AWS::Lambda::Function', Values: [FUNCTION] }],
      },
      {
        IncludeManagementEvents: false,
        ReadWriteType: 'WriteOnly',
        DataResources: [
          {
            Type: 'AWS::S3::Object',
            Values: [{ 'Fn::Join': ['', [arnOf(ids.watched), '/']] }],
          },
        ],
      },
    ]);
  });

  test('without data buckets, functions or watched buckets, records management events only', () => {
    const [, bareTrail] = only(Template.fromStack(bare.stack), 'AWS::CloudTrail::Trail');
    expect(bareTrail.Properties?.EventSelectors).toEqual([
      { IncludeManagementEvents: true, ReadWriteType: 'All' },
    ]);
  });

  test("the bucket admits CloudTrail of this account's trails only: to check its ACL, and to write under AWSLogs/<account>/ with bucket-owner-full-control", () => {
    const [, bucketPolicy] = only(t, 'AWS::S3::BucketPolicy', { Bucket: { Ref: ids.bucket } });
    const thisAccountsTrails = {
      StringEquals: { 'aws:SourceAccount': '111122223333' },
      ArnLike: { 'aws:SourceArn': 'arn:aws:cloudtrail:*:111122223333:trail/*' },
    };
    expect(statements(bucketPolicy.Properties?.PolicyDocument)).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: arnOf(ids.bucket),
        Condition: thisAccountsTrails,
      },
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [arnOf(ids.bucket), '/AWSLogs/111122223333/*']] },
        Condition: {
          ...thisAccountsTrails,
          StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceAccount': '111122223333' },
        },
      },
    ]);
  });

  test('passes the gate', () => {
    expect(gate.unacknowledged().filter((f) => f.includes(' at Audit/Trail/'))).toEqual([]);
  });
});
