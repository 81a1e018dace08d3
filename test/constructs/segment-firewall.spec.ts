import { Fn, Stack, type App, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DEFAULT_MANAGED_THREAT_GROUPS } from '../../lib/config/network-defaults';
import { SegmentFirewall, type SegmentFirewallProps } from '../../lib/constructs/segment-firewall';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';
import { only, type Resource } from '../support/template';
import { SAMPLE_ALLOWLIST } from '../support/expected-controls';
import { parseRule } from '../../lib/firewall/suricata';

const ENV = { account: '111122223333', region: 'eu-west-1' };
/** The firewall subnets, one per zone. */
const SUBNET_A = 'subnet-0a1a1a1a1a1a1a1a1';
const SUBNET_B = 'subnet-0b2b2b2b2b2b2b2b2';
const ALL_DROP = {
  crossSegment: 'drop',
  corporate: 'drop',
  plaintextProtocols: 'drop',
  externalDns: 'drop',
  nonTlsOn443: 'drop',
} as const;

/**
 * A firewall of segment `lab` (10.50.0.0/16) on a bare stack, in two firewall subnets of an
 * imported VPC; `zones: 'deploy-time'` gives the second subnet a zone resolved by Fn::GetAZs.
 */
function firewallStack(
  scope: App | Stage,
  id: string,
  props: Partial<SegmentFirewallProps> & { zones?: 'literal' | 'deploy-time' },
) {
  const stack = new Stack(scope, id, { env: ENV });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    vpcCidrBlock: '10.50.0.0/16',
  });
  const subnets = [
    ec2.Subnet.fromSubnetAttributes(stack, 'FirewallA', {
      subnetId: SUBNET_A,
      availabilityZone: 'eu-west-1a',
      routeTableId: 'rtb-0a1a1a1a1a1a1a1a1',
    }),
    ec2.Subnet.fromSubnetAttributes(stack, 'FirewallB', {
      subnetId: SUBNET_B,
      routeTableId: 'rtb-0b2b2b2b2b2b2b2b2',
      availabilityZone: props.zones === 'deploy-time' ? Fn.select(1, Fn.getAzs()) : 'eu-west-1b',
    }),
  ];
  const firewall = new SegmentFirewall(stack, 'Firewall', {
    namePrefix: 'acme',
    segmentName: 'lab',
    vpc,
    vpcCidr: '10.50.0.0/16',
    subnets,
    egressAllowlist: [],
    ips: ALL_DROP,
    managedThreatGroups: DEFAULT_MANAGED_THREAT_GROUPS,
    otherSegmentCidrs: ['10.60.0.0/16', '10.70.0.0/16'],
    corporateCidrs: ['172.16.0.0/12'],
    alertLogGroup: logs.LogGroup.fromLogGroupName(stack, 'Alerts', 'acme-lab-firewall-alerts'),
    flowLogBucket: s3.Bucket.fromBucketName(stack, 'Audit', 'acme-audit-111122223333'),
    flowLogPrefix: 'network-firewall/lab/',
    ...props,
  });
  return { stack, firewall, subnets };
}

type Policy = {
  StatelessDefaultActions: string[];
  StatelessFragmentDefaultActions: string[];
  StatefulDefaultActions: string[];
  StatefulEngineOptions: Record<string, string>;
  StatefulRuleGroupReferences: { Priority: number; ResourceArn: unknown }[];
};

type RuleGroup = {
  Type: string;
  RuleGroup: {
    RuleVariables: { IPSets: Record<string, { Definition: string[] }> };
    RulesSource: { RulesString?: string; RulesSourceList?: Record<string, unknown> };
    StatefulRuleOptions: { RuleOrder: string };
  };
};

const policyOf = (t: Template) =>
  only(t, 'AWS::NetworkFirewall::FirewallPolicy')[1].Properties?.FirewallPolicy as Policy;

const ruleGroup = (t: Template, name: string): [string, RuleGroup] => {
  const [id, group] = only(t, 'AWS::NetworkFirewall::RuleGroup', { RuleGroupName: name });
  return [id, group.Properties as RuleGroup];
};

/** An AWS managed threat group, strict-order variant, as the template names it. */
const managed = (group: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':network-firewall:',
      { Ref: 'AWS::Region' },
      `:aws-managed:stateful-rulegroup/${group}StrictOrder`,
    ],
  ],
});

/** The rule files number their rules by category: sid 10001xx is crossSegment, 10002xx corporate... */
const CATEGORY_OF_SID_BLOCK: Record<string, string> = {
  '10001': 'crossSegment',
  '10002': 'corporate',
  '10003': 'plaintextProtocols',
  '10004': 'externalDns',
  '10005': 'nonTlsOn443',
};

/** The IPS rules of a rule group as `action header` and category, from its Suricata rules string. */
function suricataRules(group: RuleGroup) {
  return (group.RuleGroup.RulesSource.RulesString ?? '').split('\n').map((line) => {
    const [, action, header, sid] = /^(\w+) (.+?) \(.*\bsid:(\d+);/.exec(line) ?? [];
    return { rule: `${action} ${header}`, action, category: CATEGORY_OF_SID_BLOCK[sid?.slice(0, 5)] };
  });
}

/** Each loaded category with the actions of its rules. */
const actionsByCategory = (rules: ReturnType<typeof suricataRules>) => {
  const out: Record<string, string[]> = {};
  for (const { category, action } of rules)
    out[category] = [...new Set([...(out[category] ?? []), action])].sort();
  return out;
};

type Destination = { LogType: string; LogDestinationType: string; LogDestination: Record<string, string> };

const ALERTS_AND_FLOWS: Destination[] = [
  {
    LogType: 'ALERT',
    LogDestinationType: 'CloudWatchLogs',
    LogDestination: { logGroup: 'acme-lab-firewall-alerts' },
  },
  {
    LogType: 'FLOW',
    LogDestinationType: 'S3',
    LogDestination: { bucketName: 'acme-audit-111122223333', prefix: 'network-firewall/lab/' },
  },
];

const DEFAULT_THREAT_GROUP_REFERENCES = [
  { Priority: 200, ResourceArn: managed('ThreatSignaturesBotnet') },
  { Priority: 210, ResourceArn: managed('ThreatSignaturesMalware') },
  { Priority: 220, ResourceArn: managed('ThreatSignaturesEmergingEvents') },
  { Priority: 230, ResourceArn: managed('BotNetCommandAndControlDomains') },
  { Priority: 240, ResourceArn: managed('MalwareDomains') },
];

function build(scope: App | Stage) {
  // No internet egress: a tripwire, every IPS category dropping, the default threat groups.
  const tripwire = firewallStack(scope, 'Tripwire', {});
  // Internet egress through an allowlist; crossSegment in IDS mode, externalDns
  // off, no corporate ranges; literal zones, so one firewall spans both.
  const allowlisted = firewallStack(scope, 'Allowlisted', {
    egressAllowlist: SAMPLE_ALLOWLIST,
    ips: { ...ALL_DROP, crossSegment: 'alert', externalDns: 'off' },
    corporateCidrs: [],
  });
  // Internet egress with zones resolved at deploy time: a firewall per zone; every IPS category
  // and every threat group off, and the protections off for a first deploy.
  const perZone = firewallStack(scope, 'PerZone', {
    zones: 'deploy-time',
    egressAllowlist: ['pypi.org'],
    ips: {
      crossSegment: 'off',
      corporate: 'off',
      plaintextProtocols: 'off',
      externalDns: 'off',
      nonTlsOn443: 'off',
    },
    managedThreatGroups: [],
    protect: false,
  });
  return { tripwire, allowlisted, perZone };
}

describe('SegmentFirewall', () => {
  const gate = gateCheck('segment-firewall', build);
  const { tripwire, allowlisted, perZone } = build(testApp());
  const t = {
    tripwire: Template.fromStack(tripwire.stack),
    allowlisted: Template.fromStack(allowlisted.stack),
    perZone: Template.fromStack(perZone.stack),
  };

  test('every packet goes to the strict-order stateful engine, which drops and alerts by default', () => {
    const [tripwirePolicy, allowlistPolicy, perZonePolicy] = Object.values(t).map(policyOf);
    for (const policy of [tripwirePolicy, allowlistPolicy, perZonePolicy]) {
      expect(policy.StatelessDefaultActions).toEqual(['aws:forward_to_sfe']);
      expect(policy.StatelessFragmentDefaultActions).toEqual(['aws:forward_to_sfe']);
      expect(policy.StatefulEngineOptions).toEqual({
        RuleOrder: 'STRICT_ORDER',
        StreamExceptionPolicy: 'DROP',
      });
    }
    // Without egress not even a handshake passes; with an allowlist, established flows are
    // dropped once the server name has been read.
    expect(tripwirePolicy.StatefulDefaultActions).toEqual(['aws:drop_strict', 'aws:alert_strict']);
    for (const policy of [allowlistPolicy, perZonePolicy]) {
      expect(policy.StatefulDefaultActions).toEqual(['aws:drop_established', 'aws:alert_established']);
    }
  });

  test('evaluates the IPS rules first, then the default AWS managed threat groups (strict order), then the allowlist', () => {
    const [tripwireIps] = ruleGroup(t.tripwire, 'acme-lab-ips');
    expect(policyOf(t.tripwire).StatefulRuleGroupReferences).toEqual([
      { Priority: 100, ResourceArn: { 'Fn::GetAtt': [tripwireIps, 'RuleGroupArn'] } },
      ...DEFAULT_THREAT_GROUP_REFERENCES,
    ]);
    const [ips] = ruleGroup(t.allowlisted, 'acme-lab-ips');
    const [alerts] = ruleGroup(t.allowlisted, 'acme-lab-allowlist-alerts');
    const [allowlist] = ruleGroup(t.allowlisted, 'acme-lab-allowlist');
    expect(policyOf(t.allowlisted).StatefulRuleGroupReferences).toEqual([
      { Priority: 100, ResourceArn: { 'Fn::GetAtt': [ips, 'RuleGroupArn'] } },
      ...DEFAULT_THREAT_GROUP_REFERENCES,
      { Priority: 900, ResourceArn: { 'Fn::GetAtt': [alerts, 'RuleGroupArn'] } },
      { Priority: 1000, ResourceArn: { 'Fn::GetAtt': [allowlist, 'RuleGroupArn'] } },
    ]);
  });

  test('IPS rules: every category drops, both ways between the segment and the other segments and corporate ranges', () => {
    const [, group] = ruleGroup(t.tripwire, 'acme-lab-ips');
    expect(group.Type).toBe('STATEFUL');
    expect(group.RuleGroup.StatefulRuleOptions).toEqual({ RuleOrder: 'STRICT_ORDER' });
    expect(group.RuleGroup.RuleVariables.IPSets).toEqual({
      HOME_NET: { Definition: ['10.50.0.0/16'] },
      OTHER_SEGMENTS: { Definition: ['10.60.0.0/16', '10.70.0.0/16'] },
      CORPORATE_NET: { Definition: ['172.16.0.0/12'] },
    });
    const rules = suricataRules(group);
    expect(actionsByCategory(rules)).toEqual({
      crossSegment: ['drop'],
      corporate: ['drop'],
      plaintextProtocols: ['drop'],
      externalDns: ['drop'],
      nonTlsOn443: ['drop'],
    });
    expect(
      rules.filter((r) => ['crossSegment', 'corporate'].includes(r.category)).map((r) => r.rule),
    ).toEqual([
      'drop ip $HOME_NET any -> $OTHER_SEGMENTS any',
      'drop ip $OTHER_SEGMENTS any -> $HOME_NET any',
      'drop ip $HOME_NET any -> $CORPORATE_NET any',
      'drop ip $CORPORATE_NET any -> $HOME_NET any',
    ]);
  });

  test('a category in IDS mode alerts instead of dropping; one switched off, or without ranges, is not loaded', () => {
    const [, group] = ruleGroup(t.allowlisted, 'acme-lab-ips');
    expect(actionsByCategory(suricataRules(group))).toEqual({
      crossSegment: ['alert'],
      plaintextProtocols: ['drop'],
      nonTlsOn443: ['drop'],
    });
    expect(Object.keys(group.RuleGroup.RuleVariables.IPSets)).toEqual(['HOME_NET', 'OTHER_SEGMENTS']);
    // Every category off and no threat group: the allowlist and its alerts alone, behind the default drop.
    t.perZone.resourceCountIs('AWS::NetworkFirewall::RuleGroup', 2);
    const [alerts] = ruleGroup(t.perZone, 'acme-lab-allowlist-alerts');
    const [allowlist] = ruleGroup(t.perZone, 'acme-lab-allowlist');
    expect(policyOf(t.perZone).StatefulRuleGroupReferences).toEqual([
      { Priority: 900, ResourceArn: { 'Fn::GetAtt': [alerts, 'RuleGroupArn'] } },
      { Priority: 1000, ResourceArn: { 'Fn::GetAtt': [allowlist, 'RuleGroupArn'] } },
    ]);
  });

  test('the allowlist admits exactly the configured domains, by TLS server name and HTTP host; none without egress', () => {
    const [, group] = ruleGroup(t.allowlisted, 'acme-lab-allowlist');
    expect(group.Type).toBe('STATEFUL');
    expect(group.RuleGroup.StatefulRuleOptions).toEqual({ RuleOrder: 'STRICT_ORDER' });
    expect(group.RuleGroup.RuleVariables.IPSets.HOME_NET).toEqual({ Definition: ['10.50.0.0/16'] });
    expect(group.RuleGroup.RulesSource).toEqual({
      RulesSourceList: {
        GeneratedRulesType: 'ALLOWLIST',
        TargetTypes: ['TLS_SNI', 'HTTP_HOST'],
        Targets: SAMPLE_ALLOWLIST,
      },
    });
    expect(Object.keys(t.tripwire.findResources('AWS::NetworkFirewall::RuleGroup'))).toHaveLength(1);
    expect(JSON.stringify(t.tripwire.toJSON())).not.toContain('RulesSourceList');
  });

  test('every flow the allowlist passes raises an alert first: one rule per domain and per TLS server name or HTTP host', () => {
    const [, single] = ruleGroup(t.perZone, 'acme-lab-allowlist-alerts');
    expect(single.RuleGroup.StatefulRuleOptions).toEqual({ RuleOrder: 'STRICT_ORDER' });
    expect(single.RuleGroup.RulesSource.RulesString?.split('\n')).toEqual([
      'alert tls $HOME_NET any -> any any (msg:"egress allowed: TLS server name pypi.org"; flow:to_server; tls.sni; content:"pypi.org"; nocase; startswith; endswith; sid:3000001; rev:1;)',
      'alert http $HOME_NET any -> any any (msg:"egress allowed: HTTP host pypi.org"; flow:to_server; http.host; content:"pypi.org"; startswith; endswith; sid:3000002; rev:1;)',
    ]);
    const [, group] = ruleGroup(t.allowlisted, 'acme-lab-allowlist-alerts');
    const rules = (group.RuleGroup.RulesSource.RulesString ?? '').split('\n');
    expect(rules).toHaveLength(2 * SAMPLE_ALLOWLIST.length);
    // A leading dot is the domain and its subdomains, as the allowlist reads it.
    expect(rules.filter((r) => r.includes('dotprefix;')).length).toBe(
      2 * SAMPLE_ALLOWLIST.filter((d) => d.startsWith('.')).length,
    );
    const parsed = rules.map((r, i) => parseRule(r, `alert ${i}`, new Set(['HOME_NET'])));
    expect(new Set(parsed.map((r) => r.sid)).size).toBe(rules.length);
    expect(parsed.every((r) => r.action === 'alert')).toBe(true);
    expect(Object.keys(t.tripwire.findResources('AWS::NetworkFirewall::RuleGroup'))).toHaveLength(1);
  });

  test('without egress one tripwire endpoint, in the first zone, serves every zone', () => {
    const [firewallId, firewall] = only(t.tripwire, 'AWS::NetworkFirewall::Firewall');
    expect(firewall.Properties).toMatchObject({
      FirewallName: 'acme-lab',
      VpcId: 'vpc-0123456789abcdef0',
      SubnetMappings: [{ SubnetId: SUBNET_A }],
    });
    const onlyEndpoint = {
      'Fn::Select': [
        1,
        { 'Fn::Split': [':', { 'Fn::Select': [0, { 'Fn::GetAtt': [firewallId, 'EndpointIds'] }] }] },
      ],
    };
    const [a, b] = tripwire.subnets;
    expect(tripwire.stack.resolve(tripwire.firewall.endpointId(a))).toEqual(onlyEndpoint);
    expect(tripwire.stack.resolve(tripwire.firewall.endpointId(b))).toEqual(onlyEndpoint);
  });

  test('with egress and literal zones one firewall spans both zones, and each zone routes to its own endpoint', () => {
    const [firewallId, firewall] = only(t.allowlisted, 'AWS::NetworkFirewall::Firewall');
    expect(firewall.Properties?.SubnetMappings).toEqual([{ SubnetId: SUBNET_A }, { SubnetId: SUBNET_B }]);
    const endpointIn = (zone: string) => ({
      'Fn::Select': [
        0,
        {
          'Fn::Split': [
            ',',
            {
              'Fn::Select': [
                1,
                {
                  'Fn::Split': [
                    `${zone}:`,
                    { 'Fn::Join': [',', { 'Fn::GetAtt': [firewallId, 'EndpointIds'] }] },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    const [a, b] = allowlisted.subnets;
    expect(allowlisted.stack.resolve(allowlisted.firewall.endpointId(a))).toEqual(endpointIn('eu-west-1a'));
    expect(allowlisted.stack.resolve(allowlisted.firewall.endpointId(b))).toEqual(endpointIn('eu-west-1b'));
  });

  test('with zones resolved at deploy time, a firewall per zone sharing the one policy', () => {
    const [policyId] = only(t.perZone, 'AWS::NetworkFirewall::FirewallPolicy');
    const firewalls = Object.entries(t.perZone.findResources('AWS::NetworkFirewall::Firewall')) as [
      string,
      Resource,
    ][];
    expect(
      firewalls.map(([, f]) => [
        f.Properties?.FirewallName,
        f.Properties?.SubnetMappings,
        f.Properties?.FirewallPolicyArn,
      ]),
    ).toEqual([
      ['acme-lab-1', [{ SubnetId: SUBNET_A }], { 'Fn::GetAtt': [policyId, 'FirewallPolicyArn'] }],
      ['acme-lab-2', [{ SubnetId: SUBNET_B }], { 'Fn::GetAtt': [policyId, 'FirewallPolicyArn'] }],
    ]);
    perZone.subnets.forEach((subnet, i) => {
      expect(JSON.stringify(perZone.stack.resolve(perZone.firewall.endpointId(subnet)))).toContain(
        `{"Fn::GetAtt":["${firewalls[i][0]}","EndpointIds"]}`,
      );
    });
  });

  test('deletion, subnet changes and policy changes are protected unless protect is false', () => {
    const protections = (template: Template) =>
      Object.values(template.findResources('AWS::NetworkFirewall::Firewall')).map((f) => {
        const p = (f as Resource).Properties ?? {};
        return [p.DeleteProtection, p.SubnetChangeProtection, p.FirewallPolicyChangeProtection];
      });
    expect(protections(t.tripwire)).toEqual([[true, true, true]]);
    expect(protections(t.allowlisted)).toEqual([[true, true, true]]);
    expect(protections(t.perZone)).toEqual([
      [false, false, false],
      [false, false, false],
    ]);
  });

  test('every firewall sends its alert logs to the log group and its flow logs to the audit bucket', () => {
    for (const template of Object.values(t)) {
      const firewallIds = Object.keys(template.findResources('AWS::NetworkFirewall::Firewall'));
      const logging = Object.values(template.findResources('AWS::NetworkFirewall::LoggingConfiguration')).map(
        (l) => (l as Resource).Properties as { FirewallArn: unknown; LoggingConfiguration: unknown },
      );
      expect(logging).toEqual(
        firewallIds.map((id) => ({
          FirewallArn: { 'Fn::GetAtt': [id, 'FirewallArn'] },
          LoggingConfiguration: { LogDestinationConfigs: ALERTS_AND_FLOWS },
        })),
      );
    }
  });

  test('passes the gate', () => {
    expect(
      gate.unacknowledged().filter((f) => / at (Tripwire|Allowlisted|PerZone)\/Firewall(\/|$)/.test(f)),
    ).toEqual([]);
  });
});
