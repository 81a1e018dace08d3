import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SecurityDashboard } from '../../lib/constructs/security-dashboard';
import { testApp } from '../support/synth';

const ENV = { account: '111122223333', region: 'eu-west-1' };

/** The dashboard's body as JSON (its ARNs joined with their placeholders). */
function body(withGuardDuty: boolean): { widgets: { properties: Record<string, unknown>; width: number }[] } {
  const stack = new Stack(testApp(), 'Dashboard', { env: ENV });
  const alarm = new cloudwatch.Alarm(stack, 'Alarm', {
    metric: new cloudwatch.Metric({ namespace: 'AISegmentation/Security', metricName: 'TrailChanges' }),
    threshold: 1,
    evaluationPeriods: 1,
  });
  new SecurityDashboard(stack, 'SecurityDashboard', {
    dashboardName: 'acme-security',
    segments: ['development', 'training'],
    ...(withGuardDuty ? { guardDutyRuleName: 'acme-guardduty-findings' } : {}),
    alarms: [alarm],
  });
  const [[id, dashboard]] = Object.entries(
    Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'),
  ) as [string, { Properties: { DashboardBody: unknown } }][];
  expect(id).toMatch(/^SecurityDashboard[0-9A-F]{8}$/);
  const parts = (dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')) as ReturnType<
    typeof body
  >;
}

describe('SecurityDashboard', () => {
  test('firewall alerts and DNS blocks, one line per segment, from the security metrics', () => {
    const [firewall, dns] = body(true).widgets;
    expect(firewall.properties.title).toBe('Network Firewall alerts and drops, per segment');
    expect(firewall.properties.metrics).toEqual([
      ['AISegmentation/Security', 'FirewallAlerts-development', { label: 'development', stat: 'Sum' }],
      ['AISegmentation/Security', 'FirewallAlerts-training', { label: 'training', stat: 'Sum' }],
    ]);
    expect(dns.properties.metrics).toEqual([
      ['AISegmentation/Security', 'DnsFirewallBlocks-development', { label: 'development', stat: 'Sum' }],
      ['AISegmentation/Security', 'DnsFirewallBlocks-training', { label: 'training', stat: 'Sum' }],
    ]);
  });

  test("GuardDuty's findings when it is on, and every alarm's state", () => {
    const [, , guardDuty, alarms] = body(true).widgets;
    expect(guardDuty.properties.metrics).toEqual([
      ['AWS/Events', 'MatchedEvents', 'RuleName', 'acme-guardduty-findings', { period: 3600, stat: 'Sum' }],
    ]);
    expect(alarms.properties.title).toBe('Security alarms');
    expect(alarms.properties.alarms).toEqual(['TOKEN']);
    expect(alarms.width).toBe(16);
    const without = body(false).widgets;
    expect(without.map((w) => w.properties.title)).not.toContain(
      'GuardDuty findings (medium and above) sent to the alert topic',
    );
    expect(without[without.length - 1].width).toBe(24);
  });
});
