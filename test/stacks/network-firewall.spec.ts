import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_MANAGED_THREAT_GROUPS, IPS_CATEGORIES } from '../../lib/config/network-defaults';
import { DEFAULT_SEGMENTS } from '../../lib/config/schema';
import { categoryRules, RULE_VARIABLES } from '../../lib/firewall/ips-rules';
import { parseRules } from '../../lib/firewall/suricata';
import { defaultAppDir, defaultTemplate } from '../support/default-app';
import { synthBlueprint } from '../support/synth';
import { allowlistedApp } from '../support/allowlisted-app';
import { only, type Resource } from '../support/template';
import { requirements } from '../../lib/tools/preflight/requirements';
import { readAssembly } from '../../lib/tools/verify/assembly';

const CORPORATE = ['172.16.0.0/12', '192.168.0.0/16'];

type RuleGroupProps = {
  Type: string;
  Capacity: number;
  RuleGroup: {
    RuleVariables: { IPSets: Record<string, { Definition: string[] }> };
    RulesSource: {
      RulesString?: string;
      RulesSourceList?: { GeneratedRulesType: string; TargetTypes: string[]; Targets: string[] };
    };
    StatefulRuleOptions: { RuleOrder: string };
  };
};

function ipsRules(template: Template) {
  const [, group] = only(template, 'AWS::NetworkFirewall::RuleGroup', {
    RuleGroupName: Match.stringLikeRegexp('-ips$'),
  });
  const props = group.Properties as RuleGroupProps;
  return {
    props,
    rules: parseRules(props.RuleGroup.RulesSource.RulesString ?? '', 'template', new Set(RULE_VARIABLES)),
  };
}

function ruleGroups(template: Template): [string, RuleGroupProps][] {
  return Object.entries(template.findResources('AWS::NetworkFirewall::RuleGroup')).map(([id, r]) => [
    id,
    (r as Resource).Properties as RuleGroupProps,
  ]);
}

const sidsOf = (category: (typeof IPS_CATEGORIES)[number]) => categoryRules(category).map((r) => r.sid);

describe.each(DEFAULT_SEGMENTS.map((s) => [s.name, s.kind, s.vpcCidr] as const))(
  'segment %s (%s)',
  (name, _kind, cidr) => {
    const template = defaultTemplate(`Network-${name}`);
    const [policyId, policy] = only(template, 'AWS::NetworkFirewall::FirewallPolicy');
    const firewallPolicy = policy.Properties?.FirewallPolicy as {
      StatelessDefaultActions: string[];
      StatelessFragmentDefaultActions: string[];
      StatefulDefaultActions: string[];
      StatefulEngineOptions: Record<string, string>;
      StatefulRuleGroupReferences: { Priority: number; ResourceArn: unknown }[];
    };
    // No segment of the default blueprint reaches the internet; the allowlisted firewall is below.

    test('strict-order policy whose default action drops and alerts', () => {
      expect(firewallPolicy.StatefulEngineOptions).toEqual({
        RuleOrder: 'STRICT_ORDER',
        StreamExceptionPolicy: 'DROP',
      });
      expect(firewallPolicy.StatefulDefaultActions).toEqual(['aws:drop_strict', 'aws:alert_strict']);
      expect(firewallPolicy.StatelessDefaultActions).toEqual(['aws:forward_to_sfe']);
      expect(firewallPolicy.StatelessFragmentDefaultActions).toEqual(['aws:forward_to_sfe']);
    });

    test('evaluates its IPS rules first, then the AWS managed threat groups; no allowlist', () => {
      const groups = Object.fromEntries(ruleGroups(template).map(([id, p]) => [id, p]));
      const refs = [...firewallPolicy.StatefulRuleGroupReferences].sort((a, b) => a.Priority - b.Priority);
      const names = refs.map(({ ResourceArn }) => {
        const getAtt = (ResourceArn as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'];
        if (getAtt)
          return groups[getAtt[0]]
            ? getAtt[0].includes('Ips')
              ? 'ips'
              : getAtt[0].includes('AllowlistAlerts')
                ? 'allowlist alerts'
                : 'allowlist'
            : 'unknown';
        return JSON.stringify(ResourceArn).match(/stateful-rulegroup\/(\w+)StrictOrder"/)?.[1];
      });
      expect(names).toEqual(['ips', ...DEFAULT_MANAGED_THREAT_GROUPS]);
      expect(JSON.stringify(refs[1].ResourceArn)).toContain(':aws-managed:stateful-rulegroup/');
    });

    test('IPS rules: every category of rules/suricata/, as drops, over the ranges this segment must never reach', () => {
      const { props, rules } = ipsRules(template);
      expect(props.Type).toBe('STATEFUL');
      expect(props.RuleGroup.StatefulRuleOptions.RuleOrder).toBe('STRICT_ORDER');
      expect(rules.map((r) => r.sid).sort()).toEqual(IPS_CATEGORIES.flatMap(sidsOf).sort());
      expect(new Set(rules.map((r) => r.action))).toEqual(new Set(['drop']));
      expect(props.RuleGroup.RuleVariables.IPSets).toEqual({
        HOME_NET: { Definition: [cidr] },
        OTHER_SEGMENTS: {
          Definition: DEFAULT_SEGMENTS.filter((s) => s.name !== name).map((s) => s.vpcCidr),
        },
        CORPORATE_NET: { Definition: CORPORATE },
      });
      expect(rules.length).toBeLessThanOrEqual(props.Capacity);
    });

    test('no allowlist', () => {
      expect(ruleGroups(template).filter(([, p]) => p.RuleGroup.RulesSource.RulesSourceList)).toEqual([]);
    });

    const firewalls = Object.values(template.findResources('AWS::NetworkFirewall::Firewall')) as Resource[];
    test('one tripwire endpoint, in the first zone firewall subnet, protected against deletion and change', () => {
      expect(firewalls).toHaveLength(1);
      const firewallSubnets = Object.keys(
        template.findResources('AWS::EC2::Subnet', {
          Properties: {
            Tags: Match.arrayWith([{ Key: 'ai-segmentation:subnet-tier', Value: 'firewall' }]),
            AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
          },
        }),
      );
      expect(firewallSubnets).toHaveLength(1);
      expect(
        firewalls
          .flatMap((f) =>
            (f.Properties?.SubnetMappings as { SubnetId: { Ref: string } }[]).map((m) => m.SubnetId.Ref),
          )
          .sort(),
      ).toEqual(firewallSubnets.sort());
      for (const firewall of firewalls) {
        expect(firewall.Properties).toMatchObject({
          FirewallPolicyArn: { 'Fn::GetAtt': [policyId, 'FirewallPolicyArn'] },
          DeleteProtection: true,
          SubnetChangeProtection: true,
          FirewallPolicyChangeProtection: true,
        });
      }
    });

    test('every firewall logs alerts to its encrypted log group and flows to the audit bucket', () => {
      const logging = Object.values(
        template.findResources('AWS::NetworkFirewall::LoggingConfiguration'),
      ) as Resource[];
      expect(logging).toHaveLength(firewalls.length);
      const firewallIds = Object.keys(template.findResources('AWS::NetworkFirewall::Firewall'));
      expect(
        logging.map((l) => (l.Properties?.FirewallArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]).sort(),
      ).toEqual(firewallIds.sort());
      for (const config of logging) {
        const destinations = (
          config.Properties?.LoggingConfiguration as {
            LogDestinationConfigs: {
              LogType: string;
              LogDestinationType: string;
              LogDestination: Record<string, unknown>;
            }[];
          }
        ).LogDestinationConfigs;
        expect(destinations.map((d) => [d.LogType, d.LogDestinationType])).toEqual([
          ['ALERT', 'CloudWatchLogs'],
          ['FLOW', 'S3'],
        ]);
        expect(JSON.stringify(destinations[0].LogDestination.logGroup)).toMatch(
          new RegExp(`FirewallAlerts${name}LogGroup`),
        );
        expect(JSON.stringify(destinations[1].LogDestination.bucketName)).toMatch(/AuditBucket/);
        expect(destinations[1].LogDestination.prefix).toBe('network-firewall');
      }
    });
  },
);

describe('configured IPS modes, threat groups and allowlists', () => {
  const { blueprint } = allowlistedApp();
  const dev = Template.fromStack(blueprint.networks.get('dev')!);

  test('a category in IDS mode alerts instead of dropping; a category switched off is not loaded', () => {
    const { rules } = ipsRules(dev);
    const bySid = new Map(rules.map((r) => [r.sid, r.action]));
    for (const sid of sidsOf('crossSegment')) expect(bySid.get(sid)).toBe('alert');
    for (const sid of sidsOf('externalDns')) expect(bySid.has(sid)).toBe(false);
    for (const sid of [...sidsOf('plaintextProtocols'), ...sidsOf('nonTlsOn443')])
      expect(bySid.get(sid)).toBe('drop');
  });

  test('with no corporate ranges the corporate rules and their variable are left out', () => {
    const { props, rules } = ipsRules(dev);
    expect(Object.keys(props.RuleGroup.RuleVariables.IPSets).sort()).toEqual(['HOME_NET', 'OTHER_SEGMENTS']);
    expect(rules.some((r) => sidsOf('corporate').includes(r.sid))).toBe(false);
  });

  test('the configured allowlist, by TLS SNI and HTTP host, after the alerts on the flows it passes; no managed group when none is configured', () => {
    const lists = ruleGroups(dev).filter(([, p]) => p.RuleGroup.RulesSource.RulesSourceList);
    expect(lists).toHaveLength(1);
    expect(lists[0][1].RuleGroup.RulesSource.RulesSourceList).toEqual({
      GeneratedRulesType: 'ALLOWLIST',
      TargetTypes: ['TLS_SNI', 'HTTP_HOST'],
      Targets: ['pypi.org', '.example.org'],
    });
    expect(lists[0][1].RuleGroup.StatefulRuleOptions.RuleOrder).toBe('STRICT_ORDER');
    const [, policy] = only(dev, 'AWS::NetworkFirewall::FirewallPolicy');
    expect(JSON.stringify(policy.Properties)).not.toContain('aws-managed');
    const firewallPolicy = policy.Properties?.FirewallPolicy as {
      StatefulDefaultActions: string[];
      StatefulRuleGroupReferences: { Priority: number; ResourceArn: { 'Fn::GetAtt': string[] } }[];
    };
    // Allowed flows are established TLS sessions: the default drops only established flows.
    expect(firewallPolicy.StatefulDefaultActions).toEqual(['aws:drop_established', 'aws:alert_established']);
    const order = [...firewallPolicy.StatefulRuleGroupReferences]
      .sort((a, b) => a.Priority - b.Priority)
      .map((r) => r.ResourceArn['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, ''));
    expect(order).toEqual([
      expect.stringContaining('Ips'),
      expect.stringContaining('AllowlistAlerts'),
      expect.stringMatching(/Allowlist(?!Alerts)/),
    ]);
  });

  test('with an allowlist and zones resolved at deploy time, a firewall endpoint in each zone, protected', () => {
    const firewalls = Object.values(dev.findResources('AWS::NetworkFirewall::Firewall')) as Resource[];
    expect(firewalls).toHaveLength(2);
    for (const firewall of firewalls)
      expect(firewall.Properties).toMatchObject({
        DeleteProtection: true,
        SubnetChangeProtection: true,
        FirewallPolicyChangeProtection: true,
      });
  });

  test('a single-zone segment has one firewall; a lone segment has no cross-segment rules', () => {
    const lonely = Template.fromStack(blueprint.networks.get('lonely')!);
    lonely.resourceCountIs('AWS::NetworkFirewall::Firewall', 1);
    const { rules } = ipsRules(lonely);
    expect(rules.some((r) => sidsOf('crossSegment').includes(r.sid))).toBe(true); // dev is another segment
    const solo = synthBlueprint({
      config: { corporateCidrs: [], segments: [{ name: 'solo', kind: 'training', vpcCidr: '10.1.0.0/16' }] },
    });
    const soloRules = ipsRules(Template.fromStack(solo.blueprint.networks.get('solo')!)).rules;
    expect(soloRules.some((r) => sidsOf('crossSegment').includes(r.sid))).toBe(false);
    expect(soloRules.length).toBeGreaterThan(0);
  });
});

describe('networkProtection false, for a first deploy that may have to roll back', () => {
  const { blueprint, outdir } = synthBlueprint({
    config: {
      networkProtection: false,
      segments: [{ name: 'study', kind: 'training', vpcCidr: '10.50.0.0/16' }],
    },
  });
  const network = Template.fromStack(blueprint.networks.get('study')!);

  test('the firewall can be deleted and changed, and the DNS Firewall association too', () => {
    network.hasResourceProperties('AWS::NetworkFirewall::Firewall', {
      DeleteProtection: false,
      SubnetChangeProtection: false,
      FirewallPolicyChangeProtection: false,
    });
    network.hasResourceProperties('AWS::Route53Resolver::FirewallRuleGroupAssociation', {
      MutationProtection: 'DISABLED',
    });
  });

  test('preflight says to switch it back on once the first deploy has succeeded', () => {
    const line = requirements(readAssembly(outdir).stacks).find((r) => r.name === 'network protections');
    expect(line).toMatchObject({
      status: 'check',
      action: 'once the first deploy has succeeded, set networkProtection to true and deploy again',
    });
  });

  test('on by default: preflight says a failed first create cannot roll back past them', () => {
    const line = requirements(readAssembly(defaultAppDir()).stacks).find(
      (r) => r.name === 'network protections',
    );
    expect(line?.action).toMatch(
      /^a network stack whose first create fails cannot roll back past them \(ROLLBACK_FAILED\)/,
    );
  });
});
