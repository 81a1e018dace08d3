import { Stack, type App, type CfnElement, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ProtectedKey } from '../../lib/constructs/protected-key';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';
import { resourcesOf, statements } from '../support/template';
import { EXPECTED_GRANTS_ONLY_FOR_AWS_SERVICES } from '../support/expected-controls';

const ENV = { account: '111122223333', region: 'eu-west-1' };

/** What the account may delegate through IAM, written out: a change to the list must change this test. */
const ACCOUNT_ADMINISTERS = {
  Sid: 'AccountAdministersKeyThroughIam',
  Effect: 'Allow',
  Principal: { AWS: 'arn:aws:iam::111122223333:root' },
  Action: [
    'kms:CancelKeyDeletion',
    'kms:Create*',
    'kms:Decrypt',
    'kms:Delete*',
    'kms:Describe*',
    'kms:Disable*',
    'kms:Enable*',
    'kms:Encrypt',
    'kms:GenerateDataKey*',
    'kms:Get*',
    'kms:List*',
    'kms:Put*',
    'kms:ReEncrypt*',
    'kms:Revoke*',
    'kms:RotateKeyOnDemand',
    'kms:ScheduleKeyDeletion',
    'kms:TagResource',
    'kms:UntagResource',
    'kms:Update*',
  ],
  Resource: '*',
};

const GRANTS_ONLY_FOR_AWS_SERVICES = EXPECTED_GRANTS_ONLY_FOR_AWS_SERVICES;

function build(scope: App | Stage) {
  const stack = new Stack(scope, 'Keys', { env: ENV });
  const zoneKey = new ProtectedKey(stack, 'ZoneKey', {
    description: 'Encrypts the models zone',
    classification: 'proprietary',
  });
  zoneKey.allowService({
    sid: 'QueueEncryptsThroughSqs',
    principal: new iam.ServicePrincipal('sqs.amazonaws.com'),
    actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
    conditions: {
      StringEquals: { 'kms:ViaService': 'sqs.eu-west-1.amazonaws.com', 'aws:SourceAccount': '111122223333' },
    },
  });
  const logKey = new ProtectedKey(stack, 'LogKey', {
    description: 'Encrypts the log groups',
    classification: 'phi',
    rotationDays: 90,
  });
  logKey.allowCloudWatchLogs();
  const hmacKey = new ProtectedKey(stack, 'HmacKey', {
    description: 'Makes the tokens of direct identifiers',
    classification: 'pii',
    purpose: 'hmac',
  });
  return { stack, zoneKey, logKey, hmacKey };
}

describe('ProtectedKey', () => {
  const gate = gateCheck('protected-key', build);
  const { stack, zoneKey, logKey, hmacKey } = build(testApp());
  const t = Template.fromStack(stack);
  const resource = (k: ProtectedKey) =>
    resourcesOf(t)[stack.getLogicalId(k.key.node.defaultChild as CfnElement)];
  const props = (k: ProtectedKey) => resource(k).Properties ?? {};
  const policy = (k: ProtectedKey) => statements(props(k).KeyPolicy);

  test('a symmetric key rotates its material every 365 days, or every rotationDays', () => {
    expect(props(zoneKey)).toMatchObject({
      Description: 'Encrypts the models zone',
      EnableKeyRotation: true,
      RotationPeriodInDays: 365,
    });
    expect(props(zoneKey)).not.toHaveProperty('KeySpec');
    expect(props(zoneKey)).not.toHaveProperty('KeyUsage');
    expect(props(logKey)).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 90 });
  });

  test('an HMAC key is HMAC-SHA-256 for GenerateMac and VerifyMac only, and never rotates', () => {
    expect(props(hmacKey)).toMatchObject({
      KeySpec: 'HMAC_256',
      KeyUsage: 'GENERATE_VERIFY_MAC',
      EnableKeyRotation: false,
    });
    expect(props(hmacKey)).not.toHaveProperty('RotationPeriodInDays');
  });

  test('refuses a rotation period for an HMAC key, and one KMS would refuse', () => {
    const scope = new Stack(testApp(), 'Refused', { env: ENV });
    expect(
      () =>
        new ProtectedKey(scope, 'Hmac', {
          description: 'x',
          classification: 'pii',
          purpose: 'hmac',
          rotationDays: 90,
        }),
    ).toThrow(
      'ProtectedKey Hmac: rotationDays 90 given for an HMAC key; KMS rotates symmetric encryption keys only, so leave rotationDays out',
    );
    for (const days of [89, 2561, 90.5]) {
      expect(
        () =>
          new ProtectedKey(scope, `K${days}`, {
            description: 'x',
            classification: 'pii',
            rotationDays: days,
          }),
      ).toThrow(
        `ProtectedKey K${days}: rotationDays ${days}; expected a whole number of days from 90 to 2560 (what KMS accepts)`,
      );
    }
  });

  test('is retained on stack deletion and on replacement, and its deletion waits 30 days', () => {
    for (const k of [zoneKey, logKey, hmacKey]) {
      expect(resource(k)).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      expect(props(k).PendingWindowInDays).toBe(30);
    }
  });

  test('the account administers it through IAM, never kms:*, and grants are created only for AWS services', () => {
    expect(policy(hmacKey)).toEqual([ACCOUNT_ADMINISTERS, GRANTS_ONLY_FOR_AWS_SERVICES]);
    for (const k of [zoneKey, logKey]) {
      expect(policy(k).slice(0, 2)).toEqual([ACCOUNT_ADMINISTERS, GRANTS_ONLY_FOR_AWS_SERVICES]);
    }
  });

  test('admits a service by its own statement, with exactly the actions and conditions given', () => {
    expect(policy(zoneKey)).toHaveLength(3);
    expect(policy(zoneKey)[2]).toEqual({
      Sid: 'QueueEncryptsThroughSqs',
      Effect: 'Allow',
      Principal: { Service: 'sqs.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
      Condition: {
        StringEquals: {
          'kms:ViaService': 'sqs.eu-west-1.amazonaws.com',
          'aws:SourceAccount': '111122223333',
        },
      },
    });
  });

  test("admits CloudWatch Logs of its region, for this account's log groups only", () => {
    expect(policy(logKey)).toHaveLength(3);
    expect(policy(logKey)[2]).toEqual({
      Sid: 'CloudWatchLogsEncryptsThisAccountsLogGroups',
      Effect: 'Allow',
      Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
      Action: ['kms:Decrypt*', 'kms:Describe*', 'kms:Encrypt*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      Resource: '*',
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-west-1:111122223333:log-group:*',
        },
      },
    });
  });

  test('carries the classification of the data it protects', () => {
    expect(props(zoneKey).Tags).toEqual([{ Key: 'DataClassification', Value: 'proprietary' }]);
    expect(props(logKey).Tags).toEqual([{ Key: 'DataClassification', Value: 'phi' }]);
    expect(props(hmacKey).Tags).toEqual([{ Key: 'DataClassification', Value: 'pii' }]);
  });

  test('passes the gate', () => {
    expect(gate.unacknowledged().filter((f) => f.includes(' at Keys/'))).toEqual([]);
  });
});
