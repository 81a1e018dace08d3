import { Annotations, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alertAlarm } from './alert-alarm';
import { deploymentSessionPrefix } from './secure-bucket';
import {
  SECURITY_FILTERS,
  alertPathEventPattern,
  type FilterContext,
  type SecurityFilter,
} from '../monitoring/security-filters';

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
 * per segment. Every alarm goes to the alert topic on the first matching event. The alert path's
 * own changes are also heard by an EventBridge rule on the trail's events, so one call cannot
 * silence both ways (`DisableAlarmActions` is heard by the rule, `DisableRule` by an alarm).
 */
export class SecurityAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  /** The second way the alert path's own changes are heard: from the trail's events, not an alarm. */
  readonly alertPathRule: events.Rule;

  constructor(scope: Construct, id: string, props: SecurityAlarmsProps) {
    super(scope, id);
    this.alertPathRule = new events.Rule(this, 'AlertPathTampering', {
      description:
        'The way alerts travel changed (alarm actions, alarms, metric filters, the topic and its subscriptions, event rules, key disabled or its policy replaced), heard without the alarms',
      eventPattern: alertPathEventPattern(deploymentSessionPrefix(this)),
      // By ARN: the topic's own policy admits this account's rules.
      targets: [new targets.SnsTopic(sns.Topic.fromTopicArn(this, 'AlertTopic', props.topic.topicArn))],
    });
    Annotations.of(this.alertPathRule).acknowledgeWarning(
      '@aws-cdk/aws-events:ruleUnresolvedEnvironment',
      "The target is this stack's own alert topic, referenced by ARN; it is in the rule's account and region.",
    );
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
