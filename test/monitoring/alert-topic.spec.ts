import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AlertTopic } from '../../lib/constructs/alert-topic';
import { testApp } from '../support/synth';

const ENV = { account: '111122223333', region: 'eu-west-1' };

type Statement = { Sid?: string; Effect: string; Principal: unknown; Action: unknown; Condition?: unknown };

describe('AlertTopic', () => {
  const stack = new Stack(testApp(), 'Alerts', { env: ENV });
  const key = new kms.Key(stack, 'Key');
  new AlertTopic(stack, 'Alerts', { encryptionKey: key, emails: ['soc@example.org', 'oncall@example.org'] });
  const t = Template.fromStack(stack);
  const [policy] = Object.values(t.findResources('AWS::SNS::TopicPolicy')) as {
    Properties: { PolicyDocument: { Statement: Statement[] } };
  }[];
  const bySid = (sid: string) => policy.Properties.PolicyDocument.Statement.find((s) => s.Sid === sid);

  test('encrypted with the given key', () => {
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: stack.resolve(key.keyArn) as unknown });
  });

  test("EventBridge rules and CloudWatch alarms of this account publish; the alarms' ARNs are this account's", () => {
    expect(bySid('ThisAccountsEventRulesPublish')).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sns:Publish',
      Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
    });
    expect(bySid('ThisAccountsAlarmsPublish')).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Condition: {
        StringEquals: { 'aws:SourceAccount': '111122223333' },
        ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:*' },
      },
    });
  });

  test('no principal but an AWS service publishes, and only over TLS', () => {
    expect(bySid('OnlyServicesPublish')).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'sns:Publish',
      Condition: { BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' } },
    });
    expect(
      policy.Properties.PolicyDocument.Statement.some(
        (s) =>
          s.Effect === 'Deny' &&
          JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
      ),
    ).toBe(true);
  });

  test('each configured address is subscribed', () => {
    const endpoints = Object.values(t.findResources('AWS::SNS::Subscription')).map(
      (s) => (s as { Properties: { Protocol: string; Endpoint: string } }).Properties,
    );
    expect(endpoints.map((e) => `${e.Protocol}:${e.Endpoint}`).sort()).toEqual([
      'email:oncall@example.org',
      'email:soc@example.org',
    ]);
  });
});
