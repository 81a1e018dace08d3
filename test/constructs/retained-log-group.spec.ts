import { Stack, type App, type CfnElement, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { RetainedLogGroup } from '../../lib/constructs/retained-log-group';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';
import { resourcesOf } from '../support/template';

const ENV = { account: '111122223333', region: 'eu-west-1' };

/** The retention periods the config accepts, in years, and the CloudWatch Logs retention of each, in days. */
const DAYS_BY_YEARS: [number, number][] = [
  [1, 365],
  [2, 731],
  [3, 1096],
  [5, 1827],
  [6, 2192],
  [7, 2557],
  [8, 2922],
  [9, 3288],
  [10, 3653],
];

function build(scope: App | Stage) {
  const stack = new Stack(scope, 'Logs', { env: ENV });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const generated = new RetainedLogGroup(stack, 'Generated', {
    encryptionKey: key,
    retentionYears: 6,
    classification: 'pii',
  });
  const named = new RetainedLogGroup(stack, 'Named', {
    logGroupName: 'aws-waf-logs-acme',
    encryptionKey: key,
    retentionYears: 1,
    classification: 'proprietary',
  });
  const byYears = DAYS_BY_YEARS.map(
    ([years]) =>
      new RetainedLogGroup(stack, `Years${years}`, {
        encryptionKey: key,
        retentionYears: years,
        classification: 'proprietary',
      }),
  );
  return { stack, key, generated, named, byYears };
}

describe('RetainedLogGroup', () => {
  const gate = gateCheck('retained-log-group', build);
  const { stack, key, generated, named, byYears } = build(testApp());
  const t = Template.fromStack(stack);
  const resource = (g: RetainedLogGroup) =>
    resourcesOf(t)[stack.getLogicalId(g.logGroup.node.defaultChild as CfnElement)];
  const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as CfnElement), 'Arn'] };

  test('is encrypted with the given key, kept the given years, and retained on deletion and replacement', () => {
    expect(resource(generated)).toEqual({
      Type: 'AWS::Logs::LogGroup',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KmsKeyId: keyArn,
        RetentionInDays: 2192,
        Tags: [{ Key: 'DataClassification', Value: 'pii' }],
      },
    });
  });

  test('a fixed name is kept too, deleted only when the create that made it rolls back', () => {
    expect(resource(named)).toEqual({
      Type: 'AWS::Logs::LogGroup',
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        LogGroupName: 'aws-waf-logs-acme',
        KmsKeyId: keyArn,
        RetentionInDays: 365,
        Tags: [{ Key: 'DataClassification', Value: 'proprietary' }],
      },
    });
  });

  test('each retention the config accepts is kept at least that many whole years', () => {
    expect(
      DAYS_BY_YEARS.map(([years], i) => [years, resource(byYears[i]).Properties?.RetentionInDays]),
    ).toEqual(DAYS_BY_YEARS);
    for (const [years, days] of DAYS_BY_YEARS) expect(days).toBeGreaterThanOrEqual(365 * years);
  });

  test('refuses a retention CloudWatch Logs does not have', () => {
    const other = new Stack(testApp(), 'Other', { env: ENV });
    const otherKey = new kms.Key(other, 'Key');
    for (const years of [0, 4, 11]) {
      expect(
        () =>
          new RetainedLogGroup(other, `Years${years}`, {
            encryptionKey: otherKey,
            retentionYears: years,
            classification: 'proprietary',
          }),
      ).toThrow(
        `Other/Years${years}: retentionYears ${years} is not a CloudWatch Logs retention; expected one of 1, 2, 3, 5, 6, 7, 8, 9, 10`,
      );
    }
  });

  test('passes the gate', () => {
    expect(gate.unacknowledged().filter((f) => / at Logs\/(Generated|Named|Years\d+)\//.test(f))).toEqual([]);
  });
});
