import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alertAlarm } from './alert-alarm';
import { SECURITY_FILTERS, type FilterContext, type SecurityFilter } from '../monitoring/security-filters';

/** Namespace of the blueprint's security metrics. */
export const SECURITY_NAMESPACE = 'AISegmentation/Security';

export interface SecurityAlarmsProps {
  readonly trailLogGroup: logs.ILogGroup;
  /** Each segment's firewall-alert and DNS-query log groups, by segment name. */
  readonly segments: ReadonlyMap<string, { firewallAlerts: logs.ILogGroup; dnsQueries: logs.ILogGroup }>;
  readonly topic: sns.ITopic;
  readonly context: FilterContext;
}

/**
 * A metric filter and an alarm for every security filter: the trail's once, the network ones once
 * per segment. Every alarm goes to the alert topic on the first matching event.
 */
export class SecurityAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: SecurityAlarmsProps) {
    super(scope, id);
    for (const filter of SECURITY_FILTERS) {
      if (filter.source === 'trail') {
        this.watch(filter, props.trailLogGroup, undefined, props);
      } else {
        for (const [segment, groups] of props.segments)
          this.watch(filter, groups[filter.source], segment, props);
      }
    }
  }

  private watch(
    filter: SecurityFilter,
    group: logs.ILogGroup,
    segment: string | undefined,
    props: SecurityAlarmsProps,
  ) {
    const id = segment ? `${filter.id}-${segment}` : filter.id;
    const metricName = segment ? `${filter.id}-${segment}` : filter.id;
    new logs.MetricFilter(this, `${id}Filter`, {
      logGroup: group,
      filterName: metricName,
      filterPattern: logs.FilterPattern.literal(filter.pattern(props.context)),
      metricNamespace: SECURITY_NAMESPACE,
      metricName,
      metricValue: '1',
      defaultValue: 0,
    });
    const alarm = alertAlarm(this, `${id}Alarm`, {
      description: `${filter.description}${segment ? ` (segment ${segment})` : ''}`,
      metric: new cloudwatch.Metric({
        namespace: SECURITY_NAMESPACE,
        metricName,
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      topic: props.topic,
    });
    this.alarms.push(alarm);
  }
}
