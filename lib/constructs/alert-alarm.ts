import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

export interface AlertAlarmProps extends Partial<
  Omit<cloudwatch.AlarmProps, 'metric' | 'alarmDescription' | 'actionsEnabled'>
> {
  readonly description: string;
  readonly metric: cloudwatch.IMetric;
  readonly topic: sns.ITopic;
}

/**
 * An alarm that tells the alert topic. By default it fires on the first occurrence: the metric
 * at 1 or more in one period, missing data not breaching.
 */
export function alertAlarm(scope: Construct, id: string, props: AlertAlarmProps): cloudwatch.Alarm {
  const { description, topic, ...rest } = props;
  const alarm = new cloudwatch.Alarm(scope, id, {
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    ...rest,
    alarmDescription: description,
  });
  alarm.addAlarmAction(new actions.SnsAction(topic));
  return alarm;
}
