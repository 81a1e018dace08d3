import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { SECURITY_NAMESPACE } from './security-alarms';

export interface SecurityDashboardProps {
  readonly dashboardName: string;
  /** The segments whose firewall alerts and DNS blocks are drawn, one line each. */
  readonly segments: readonly string[];
  /** The EventBridge rule that sends GuardDuty findings to the alert topic, when GuardDuty is on. */
  readonly guardDutyRuleName?: string;
  /** The alarms whose state is shown. */
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/**
 * The security dashboard: Network Firewall alerts and drops and DNS Firewall blocks per segment
 * (the security metrics the log filters count), GuardDuty findings sent to the alert topic, and
 * the state of every security alarm. The dashboard is the construct's default child, so that its
 * logical id is the one the audit stack's dashboard already has.
 */
export class SecurityDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: SecurityDashboardProps) {
    super(scope, id);
    const metric = (metricName: string, label: string) =>
      new cloudwatch.Metric({
        namespace: SECURITY_NAMESPACE,
        metricName,
        label,
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    const guardDuty = props.guardDutyRuleName;
    this.dashboard = new cloudwatch.Dashboard(this, 'Default', {
      dashboardName: props.dashboardName,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Network Firewall alerts and drops, per segment',
            left: props.segments.map((s) => metric(`FirewallAlerts-${s}`, s)),
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'DNS Firewall blocks, per segment',
            left: props.segments.map((s) => metric(`DnsFirewallBlocks-${s}`, s)),
            width: 12,
          }),
        ],
        [
          ...(guardDuty
            ? [
                new cloudwatch.GraphWidget({
                  title: 'GuardDuty findings (medium and above) sent to the alert topic',
                  left: [
                    new cloudwatch.Metric({
                      namespace: 'AWS/Events',
                      metricName: 'MatchedEvents',
                      dimensionsMap: { RuleName: guardDuty },
                      statistic: 'Sum',
                      period: Duration.hours(1),
                    }),
                  ],
                  width: 8,
                }),
              ]
            : []),
          new cloudwatch.AlarmStatusWidget({
            title: 'Security alarms',
            alarms: [...props.alarms],
            width: guardDuty ? 16 : 24,
          }),
        ],
      ],
    });
  }
}
