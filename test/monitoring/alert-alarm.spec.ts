import { Duration, Stack, type App, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { alertAlarm, type AlertAlarmProps } from '../../lib/constructs/alert-alarm';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';
import { resourcesOf } from '../support/template';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:aiseg-alerts';

function build(scope: App | Stage) {
  const stack = new Stack(scope, 'Alarms', { env: ENV });
  const topic = sns.Topic.fromTopicArn(stack, 'Alerts', TOPIC);
  const metric = (metricName: string, statistic: string) =>
    new cloudwatch.Metric({ namespace: 'Spec', metricName, statistic, period: Duration.minutes(5) });
  const firstEvent = alertAlarm(stack, 'FirstEvent', {
    description: 'The root user signed in',
    metric: metric('RootAccountUsage', 'Sum'),
    topic,
  });
  const ratio = alertAlarm(stack, 'Ratio', {
    description: 'More than 5% of requests failed',
    metric: metric('5XXError', 'Average'),
    topic,
    alarmName: 'aiseg-server-errors',
    threshold: 0.05,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.IGNORE,
  });
  return { stack, firstEvent, ratio };
}

describe('alertAlarm', () => {
  const gate = gateCheck('alert-alarm', build);
  const { stack, firstEvent, ratio } = build(testApp());
  const t = Template.fromStack(stack);
  const alarms = Object.fromEntries(
    Object.entries(resourcesOf(t))
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([id, r]) => [id, r.Properties]),
  );
  const alarmOf = (made: cloudwatch.Alarm) =>
    alarms[stack.getLogicalId(made.node.defaultChild as cloudwatch.CfnAlarm)];

  test('by default fires on the first occurrence (1 or more in one period), missing data not breaching, and tells the topic', () => {
    expect(alarmOf(firstEvent)).toEqual({
      AlarmDescription: 'The root user signed in',
      AlarmActions: [TOPIC],
      Namespace: 'Spec',
      MetricName: 'RootAccountUsage',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  test("the caller's threshold, periods, comparison and missing-data treatment replace the defaults; the topic and description stay", () => {
    expect(alarmOf(ratio)).toEqual({
      AlarmName: 'aiseg-server-errors',
      AlarmDescription: 'More than 5% of requests failed',
      AlarmActions: [TOPIC],
      Namespace: 'Spec',
      MetricName: '5XXError',
      Statistic: 'Average',
      Period: 300,
      Threshold: 0.05,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'ignore',
    });
  });

  test('makes one alarm per call, under the id given, and returns it', () => {
    expect(Object.keys(alarms).sort()).toEqual([
      expect.stringMatching(/^FirstEvent[0-9A-F]{8}$/),
      expect.stringMatching(/^Ratio[0-9A-F]{8}$/),
    ]);
    expect([firstEvent.node.path, ratio.node.path]).toEqual(['Alarms/FirstEvent', 'Alarms/Ratio']);
  });

  test('passes the gate', () => {
    expect(
      gate
        .unacknowledged()
        .filter((f) => f.includes(' at Alarms/FirstEvent/') || f.includes(' at Alarms/Ratio/')),
    ).toEqual([]);
  });

  test('cannot be told to stay silent: actionsEnabled is not among its props (the type-check fails if it becomes one)', () => {
    const silent: AlertAlarmProps = {
      description: 'x',
      metric: new cloudwatch.Metric({ namespace: 'Spec', metricName: 'M' }),
      topic: sns.Topic.fromTopicArn(new Stack(testApp(), 'Silent'), 'T', TOPIC),
      // @ts-expect-error an alert alarm always tells its topic
      actionsEnabled: false,
    };
    expect(silent.description).toBe('x');
  });
});
