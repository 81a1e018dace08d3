import { Stack, type App, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { SegmentDnsFirewall, type SegmentDnsFirewallProps } from '../../lib/constructs/segment-dns-firewall';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';
import { only } from '../support/template';
import { EXPECTED_AWS_SERVICE_NAMES } from '../support/expected-controls';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const VPC_ID = 'vpc-0123456789abcdef0';
const MANAGED_LISTS = ['rslvr-fdl-0123456789abcdef', 'rslvr-fdl-fedcba9876543210'];

/** The DNS Firewall of segment `lab` on a bare stack, for an imported VPC. */
function dnsFirewallStack(scope: App | Stage, id: string, props: Partial<SegmentDnsFirewallProps>) {
  const stack = new Stack(scope, id, { env: ENV });
  new SegmentDnsFirewall(stack, 'DnsFirewall', {
    namePrefix: 'acme',
    segmentName: 'lab',
    vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: VPC_ID,
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    }),
    egressAllowlist: [],
    internalZones: [],
    managedDomainListIds: [],
    queryLogGroup: logs.LogGroup.fromLogGroupName(stack, 'Queries', 'acme-lab-dns-queries'),
    ...props,
  });
  return stack;
}

type DnsRule = { Action: string; Priority: number; FirewallDomainListId?: unknown };

/** The rules in the order the template lists them, and the domain lists they point to, by name. */
function dnsRules(t: Template) {
  const [ruleGroupId, group] = only(t, 'AWS::Route53Resolver::FirewallRuleGroup');
  const lists = Object.fromEntries(
    Object.entries(t.findResources('AWS::Route53Resolver::FirewallDomainList')).map(([id, list]) => {
      const p = (list as { Properties: { Name: string; Domains: string[] } }).Properties;
      return [p.Name, { ref: { 'Fn::GetAtt': [id, 'Id'] }, domains: p.Domains }];
    }),
  );
  const domainsOf = (rule: DnsRule) =>
    Object.values(lists).find((l) => JSON.stringify(l.ref) === JSON.stringify(rule.FirewallDomainListId))
      ?.domains;
  return { ruleGroupId, rules: group.Properties?.FirewallRules as DnsRule[], lists, domainsOf };
}

const AWS_NAMES = EXPECTED_AWS_SERVICE_NAMES;

function build(scope: App | Stage) {
  // A development segment: an egress allowlist, Studio's endpoint names, an internal zone and two
  // AWS managed threat lists.
  const open = dnsFirewallStack(scope, 'Open', {
    egressAllowlist: ['pypi.org', '.hf.co'],
    internalZones: ['research.example.internal'],
    endpointDomains: ['*.studio.eu-west-1.sagemaker.aws'],
    managedDomainListIds: MANAGED_LISTS,
  });
  // A segment without internet, threat lists or zones, unprotected for a first deploy.
  const closed = dnsFirewallStack(scope, 'Closed', { protect: false });
  return { open, closed };
}

describe('SegmentDnsFirewall', () => {
  const gate = gateCheck('segment-dns-firewall', build);
  const { open, closed } = build(testApp());
  const t = { open: Template.fromStack(open), closed: Template.fromStack(closed) };

  test('blocks the managed lists, generated domains and tunnelling, allows its names (trusting their CNAME chains), then answers NXDOMAIN to every other name', () => {
    const { rules, lists } = dnsRules(t.open);
    const block = { Action: 'BLOCK', BlockResponse: 'NXDOMAIN' };
    const threats = [
      { ...block, DnsThreatProtection: 'DGA', ConfidenceThreshold: 'HIGH', Priority: 200 },
      { ...block, DnsThreatProtection: 'DNS_TUNNELING', ConfidenceThreshold: 'HIGH', Priority: 201 },
    ];
    expect(rules).toEqual([
      { ...block, FirewallDomainListId: 'rslvr-fdl-0123456789abcdef', Priority: 100 },
      { ...block, FirewallDomainListId: 'rslvr-fdl-fedcba9876543210', Priority: 101 },
      ...threats,
      {
        Action: 'ALLOW',
        FirewallDomainListId: lists['acme-lab-allowed'].ref,
        Priority: 300,
        FirewallDomainRedirectionAction: 'TRUST_REDIRECTION_DOMAIN',
      },
      { ...block, FirewallDomainListId: lists['acme-lab-everything'].ref, Priority: 1000 },
    ]);
    const closedRules = dnsRules(t.closed);
    expect(closedRules.rules).toEqual([
      ...threats,
      {
        Action: 'ALLOW',
        FirewallDomainListId: closedRules.lists['acme-lab-allowed'].ref,
        Priority: 300,
        FirewallDomainRedirectionAction: 'TRUST_REDIRECTION_DOMAIN',
      },
      { ...block, FirewallDomainListId: closedRules.lists['acme-lab-everything'].ref, Priority: 1000 },
    ]);
  });

  test('resolves exactly the AWS service names, the endpoints names, its internal zones and its allowlist', () => {
    expect(dnsRules(t.open).lists['acme-lab-allowed'].domains).toEqual([
      ...AWS_NAMES,
      '*.studio.eu-west-1.sagemaker.aws',
      'research.example.internal',
      '*.research.example.internal',
      'pypi.org',
      // `.hf.co` in Network Firewall syntax: the domain and its subdomains.
      'hf.co',
      '*.hf.co',
    ]);
    expect(dnsRules(t.closed).lists['acme-lab-allowed'].domains).toEqual(AWS_NAMES);
  });

  test('`*` is only ever blocked, by the rule evaluated last', () => {
    for (const template of Object.values(t)) {
      const { rules, lists, domainsOf } = dnsRules(template);
      expect(lists['acme-lab-everything'].domains).toEqual(['*']);
      for (const rule of rules) {
        if (domainsOf(rule)?.includes('*')) expect(rule.Action).toBe('BLOCK');
        if (rule.Action === 'ALLOW') expect(domainsOf(rule)).not.toContain('*');
      }
      const last = rules.reduce((a, b) => (b.Priority > a.Priority ? b : a));
      expect([last.Action, domainsOf(last)]).toEqual(['BLOCK', ['*']]);
    }
  });

  test('its rules apply to the VPC at association priority 101, protected against changes unless protect is false', () => {
    for (const [template, protection] of [
      [t.open, 'ENABLED'],
      [t.closed, 'DISABLED'],
    ] as const) {
      const { ruleGroupId } = dnsRules(template);
      template.resourcePropertiesCountIs(
        'AWS::Route53Resolver::FirewallRuleGroupAssociation',
        {
          FirewallRuleGroupId: { 'Fn::GetAtt': [ruleGroupId, 'Id'] },
          VpcId: VPC_ID,
          Priority: 101,
          MutationProtection: protection,
        },
        1,
      );
      template.resourceCountIs('AWS::Route53Resolver::FirewallRuleGroupAssociation', 1);
    }
  });

  test('logs every query of the VPC to the given log group', () => {
    const [configId, config] = only(t.open, 'AWS::Route53Resolver::ResolverQueryLoggingConfig');
    expect(config.Properties?.DestinationArn).toBe(
      'arn:aws:logs:eu-west-1:111122223333:log-group:acme-lab-dns-queries',
    );
    const [, association] = only(t.open, 'AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation');
    expect(association.Properties).toEqual({
      ResolverQueryLogConfigId: { 'Fn::GetAtt': [configId, 'Id'] },
      ResourceId: VPC_ID,
    });
  });

  test('passes the gate', () => {
    expect(gate.unacknowledged().filter((f) => / at (Open|Closed)\/DnsFirewall(\/|$)/.test(f))).toEqual([]);
  });
});
