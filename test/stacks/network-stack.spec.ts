import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_SEGMENTS, MAX_ISOLATED_RANGES } from '../../lib/config/schema';
import { defaultTemplate } from '../support/default-app';
import { ACCEPTED_RISK, DEPLOYABLE } from '../support/fixtures';
import { synthBlueprint } from '../support/synth';
import { only, resourcesOf, statements, type Resource } from '../support/template';

/** Internet path resources: only in a segment with an egress allowlist, behind its firewall. */
const INTERNET_PATH = [
  'AWS::EC2::InternetGateway',
  'AWS::EC2::VPCGatewayAttachment',
  'AWS::EC2::NatGateway',
  'AWS::EC2::EIP',
];

/** Resource types that would open a path into or between segments: never in any segment. */
const PATH_OPENERS = [
  'AWS::EC2::EgressOnlyInternetGateway',
  'AWS::EC2::VPCPeeringConnection',
  'AWS::EC2::TransitGateway',
  'AWS::EC2::TransitGatewayAttachment',
  'AWS::EC2::TransitGatewayVpcAttachment',
  'AWS::EC2::VPNGateway',
  'AWS::EC2::CustomerGateway',
];

describe.each(DEFAULT_SEGMENTS.map((s) => [s.name, s.vpcCidr, s.kind] as const))(
  'segment %s',
  (name, cidr, kind) => {
    const template = defaultTemplate(`Network-${name}`);
    const [vpcId, vpc] = only(template, 'AWS::EC2::VPC');
    const vpcRef = { Ref: vpcId };

    test('has its own VPC with the configured range, tagged with its segment and kind', () => {
      expect(vpc.Properties).toMatchObject({
        CidrBlock: cidr,
        EnableDnsSupport: true,
        EnableDnsHostnames: true,
      });
      expect(vpc.Properties?.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'ai-segmentation:segment', Value: name },
          { Key: 'ai-segmentation:segment-kind', Value: kind },
        ]),
      );
    });

    test.each(PATH_OPENERS)('has no %s', (type) => {
      template.resourceCountIs(type, 0);
    });

    // No segment of the default blueprint reaches the internet (the routing spec covers one that does).
    test.each(INTERNET_PATH)('has no %s', (type) => {
      template.resourceCountIs(type, 0);
    });

    const tiers = ['workload', 'firewall'];
    test(`has per zone a subnet of each tier (${tiers.join(', ')}), none assigning public IPs`, () => {
      const subnets = Object.values(template.findResources('AWS::EC2::Subnet')) as {
        Properties: { Tags: { Key: string; Value: string }[]; AvailabilityZone: unknown; CidrBlock: string };
      }[];
      const tierOf = (s: (typeof subnets)[number]) =>
        s.Properties.Tags.find((t) => t.Key === 'ai-segmentation:subnet-tier')?.Value;
      expect(subnets.map(tierOf)).toEqual(tiers.flatMap((t) => [t, t]));
      for (const subnet of subnets) {
        expect(subnet.Properties).toMatchObject({ VpcId: vpcRef, MapPublicIpOnLaunch: false });
      }
      for (const tier of tiers) {
        expect(subnets.filter((s) => tierOf(s) === tier).map((s) => s.Properties.AvailabilityZone)).toEqual([
          { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
          { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] },
        ]);
      }
      const prefixes = subnets.map((s) => Number(s.Properties.CidrBlock.split('/')[1]));
      expect(prefixes).toEqual(tiers.flatMap((t) => (t === 'workload' ? [20, 20] : [28, 28])));
    });

    test('workload security group: no ingress but from its own members, HTTPS out', () => {
      const [sgId, sg] = only(template, 'AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('^Workloads of segment'),
      });
      expect(sg.Properties?.SecurityGroupIngress).toBeUndefined();
      expect(sg.Properties?.SecurityGroupEgress).toEqual([
        expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      ]);
      const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')) as {
        Properties: Record<string, unknown>;
      }[];
      const self = { 'Fn::GetAtt': [sgId, 'GroupId'] };
      expect(ingress.map((i) => i.Properties)).toEqual([
        expect.objectContaining({ GroupId: self, SourceSecurityGroupId: self, IpProtocol: '-1' }),
      ]);
      // No security group of the segment admits the internet.
      for (const group of Object.values(template.findResources('AWS::EC2::SecurityGroup')) as Resource[]) {
        for (const rule of (group.Properties?.SecurityGroupIngress ?? []) as { CidrIp?: string }[]) {
          expect(rule.CidrIp).not.toBe('0.0.0.0/0');
        }
      }
    });

    describe('isolation network ACL', () => {
      const entries = Object.values(template.findResources('AWS::EC2::NetworkAclEntry')) as {
        Properties: {
          CidrBlock: string;
          Egress: boolean;
          Protocol: number;
          RuleAction: string;
          RuleNumber: number;
          PortRange?: { From: number; To: number };
        };
      }[];
      const denied = [
        ...DEFAULT_SEGMENTS.filter((s) => s.name !== name).map((s) => s.vpcCidr),
        '172.16.0.0/12',
        '192.168.0.0/16',
      ];

      test('guards every workload subnet', () => {
        const [aclId] = only(template, 'AWS::EC2::NetworkAcl', { VpcId: vpcRef });
        const associations = Object.values(
          template.findResources('AWS::EC2::SubnetNetworkAclAssociation'),
        ) as {
          Properties: { NetworkAclId: unknown; SubnetId: { Ref: string } };
        }[];
        expect(associations.map((a) => a.Properties.NetworkAclId)).toEqual([{ Ref: aclId }, { Ref: aclId }]);
        expect(associations.map((a) => a.Properties.SubnetId.Ref).sort()).toEqual(
          Object.keys(
            template.findResources('AWS::EC2::Subnet', {
              Properties: {
                Tags: Match.arrayWith([{ Key: 'ai-segmentation:subnet-tier', Value: 'workload' }]),
              },
            }),
          ).sort(),
        );
      });

      test.each([
        ['ingress', false],
        ['egress', true],
      ])(
        'denies the other segments and the corporate ranges (%s), before any allow',
        (_direction, egress) => {
          const inDirection = entries.filter((e) => e.Properties.Egress === egress);
          const denies = inDirection.filter((e) => e.Properties.RuleAction === 'deny');
          expect(denies.map((e) => e.Properties.CidrBlock).sort()).toEqual([...denied].sort());
          for (const deny of denies) expect(deny.Properties.Protocol).toBe(-1);
          const firstAllow = Math.min(
            ...inDirection
              .filter((e) => e.Properties.RuleAction === 'allow')
              .map((e) => e.Properties.RuleNumber),
          );
          for (const deny of denies) expect(deny.Properties.RuleNumber).toBeLessThan(firstAllow);
        },
      );

      test('admits from outside the VPC only return traffic on ephemeral ports, never SSH or RDP', () => {
        const outsideAllows = entries.filter(
          (e) =>
            !e.Properties.Egress &&
            e.Properties.RuleAction === 'allow' &&
            e.Properties.CidrBlock === '0.0.0.0/0',
        );
        expect(outsideAllows.length).toBeGreaterThan(0);
        for (const allow of outsideAllows) {
          if (allow.Properties.Protocol === 1) continue; // ICMP: path MTU discovery only
          const range = allow.Properties.PortRange as { From: number; To: number };
          expect(range.From).toBeGreaterThanOrEqual(1024);
          for (const port of [22, 3389]) expect(port >= range.From && port <= range.To).toBe(false);
        }
        const vpcAllow = entries.filter(
          (e) => !e.Properties.Egress && e.Properties.RuleAction === 'allow' && e.Properties.Protocol === -1,
        );
        expect(vpcAllow.map((e) => e.Properties.CidrBlock)).toEqual([cidr]);
      });
    });

    test('strips every rule from the default security group', () => {
      template.hasResourceProperties('Custom::VpcRestrictDefaultSG', {
        DefaultSecurityGroupId: { 'Fn::GetAtt': [vpcId, 'DefaultSecurityGroup'] },
      });
    });

    test("the default group's deploy-time handler logs to an encrypted, retained group of the audit stack", () => {
      const [, handler] = only(template, 'AWS::Lambda::Function');
      const group = (handler.Properties?.LoggingConfig as { LogGroup: unknown }).LogGroup;
      expect(JSON.stringify(group)).toMatch(
        new RegExp(`"StackName":"aiseg-audit".*"OutputName":"PublishOutputRefDeployHandler${name}LogGroup`),
      );
      const audit = defaultTemplate('Audit');
      const [, logGroup] = Object.entries(resourcesOf(audit)).find(([id]) =>
        id.startsWith(`DeployHandler${name}LogGroup`),
      )!;
      expect(logGroup.Properties?.KmsKeyId).toBeDefined();
      expect(logGroup.Properties?.LogGroupName).toBeUndefined();
      expect(logGroup.Properties?.Tags).toContainEqual({ Key: 'DataClassification', Value: 'proprietary' });
      expect(logGroup).toMatchObject({ DeletionPolicy: 'Retain', Properties: { RetentionInDays: 2192 } });
    });

    test('logs all traffic to its encrypted log group in the audit stack, through a dedicated role', () => {
      const [, flowLog] = only(template, 'AWS::EC2::FlowLog', { LogDestinationType: 'cloud-watch-logs' });
      expect(flowLog.Properties).toMatchObject({
        ResourceId: vpcRef,
        ResourceType: 'VPC',
        TrafficType: 'ALL',
        MaxAggregationInterval: 60,
        LogGroupName: {
          'Fn::GetStackOutput': expect.objectContaining({
            StackName: 'aiseg-audit',
            OutputName: expect.stringMatching(`FlowLogs${name}LogGroup`),
          }),
        },
      });
      const roleId = (flowLog.Properties?.DeliverLogsPermissionArn as { 'Fn::GetAtt': string[] })[
        'Fn::GetAtt'
      ][0];
      const role = resourcesOf(template)[roleId ?? ''];
      expect(statements(role?.Properties?.AssumeRolePolicyDocument)).toEqual([
        expect.objectContaining({
          Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
          Condition: expect.objectContaining({
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          }),
        }),
      ]);
    });

    test('the flow-log role may only write to its own log group', () => {
      const [, policy] = only(template, 'AWS::IAM::ManagedPolicy');
      expect(statements(policy.Properties?.PolicyDocument)).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
          Resource: {
            'Fn::GetStackOutput': expect.objectContaining({
              OutputName: expect.stringMatching(`FlowLogs${name}LogGroup.*Arn`),
            }),
          },
        },
      ]);
      template.resourceCountIs('AWS::IAM::Policy', 0);
    });

    test('also logs all traffic to the audit bucket', () => {
      const [, flowLog] = only(template, 'AWS::EC2::FlowLog', { LogDestinationType: 's3' });
      expect(flowLog.Properties).toMatchObject({
        ResourceId: vpcRef,
        ResourceType: 'VPC',
        TrafficType: 'ALL',
      });
      expect(JSON.stringify(flowLog.Properties?.LogDestination)).toMatch(/AuditBucket.*\/vpc-flow-logs\//);
    });

    test('records the fields an investigation needs in both flow logs', () => {
      for (const flowLog of Object.values(template.findResources('AWS::EC2::FlowLog')) as {
        Properties: { LogFormat: string };
      }[]) {
        for (const field of [
          'srcaddr',
          'dstaddr',
          'dstport',
          'action',
          'vpc-id',
          'subnet-id',
          'pkt-srcaddr',
          'flow-direction',
          'traffic-path',
        ]) {
          expect(flowLog.Properties.LogFormat).toContain(`\${${field}}`);
        }
      }
    });
  },
);

describe('with a configuration', () => {
  const { blueprint } = synthBlueprint({
    config: {
      namePrefix: 'acme',
      ...DEPLOYABLE,
      segments: [
        {
          name: 'dev',
          kind: 'development',
          vpcCidr: '10.100.0.0/16',
          azCount: 1,
          egressAllowlist: ['cloud.r-project.org'],
        },
        {
          name: 'study-a',
          kind: 'training',
          vpcCidr: '10.101.0.0/16',
          azCount: 3,
          subnetPrefixLengths: { workload: 24 },
        },
        { name: 'study-b', kind: 'training', vpcCidr: '10.102.0.0/16' },
        { name: 'serve', kind: 'inference', vpcCidr: '10.103.0.0/16' },
      ],
      acceptedRisks: [{ ...ACCEPTED_RISK, opening: 'path dev -> internet: via-firewall' }],
    },
  });

  test('builds one network stack per segment, named with the prefix', () => {
    expect([...blueprint.networks.values()].map((s) => s.stackName)).toEqual([
      'acme-network-dev',
      'acme-network-study-a',
      'acme-network-study-b',
      'acme-network-serve',
    ]);
  });

  test('uses the configured zone names and AZ count, with no context look-up', () => {
    const studyA = Template.fromStack(blueprint.networks.get('study-a') as Stack);
    const subnets = Object.values(studyA.findResources('AWS::EC2::Subnet')) as {
      Properties: Record<string, unknown>;
    }[];
    expect(subnets.map((s) => [s.Properties.AvailabilityZone, s.Properties.CidrBlock])).toEqual([
      ['eu-west-1a', '10.101.0.0/24'],
      ['eu-west-1b', '10.101.1.0/24'],
      ['eu-west-1c', '10.101.2.0/24'],
      ['eu-west-1a', '10.101.3.0/28'],
      ['eu-west-1b', '10.101.3.16/28'],
      ['eu-west-1c', '10.101.3.32/28'],
    ]);
    // One zone: a workload, a firewall and a public subnet.
    const dev = Template.fromStack(blueprint.networks.get('dev') as Stack);
    dev.resourceCountIs('AWS::EC2::Subnet', 3);
    dev.resourceCountIs('AWS::NetworkFirewall::Firewall', 1);
    for (const stack of [blueprint.audit, ...blueprint.networks.values()]) {
      expect(stack.node.metadata.filter((m) => m.type === 'aws:cdk:missing-context')).toEqual([]);
      expect(stack.account).toBe('123456789012');
    }
  });
});

describe('at the most isolated ranges the config accepts', () => {
  const segments = Array.from({ length: MAX_ISOLATED_RANGES - 1 }, (_, i) => ({
    name: `s${i}`,
    kind: 'training',
    vpcCidr: `10.${100 + i}.0.0/16`,
    azCount: 1,
  }));
  const { blueprint } = synthBlueprint({
    config: { segments, corporateCidrs: ['172.16.0.0/12', '192.168.0.0/16'] },
  });

  test('the config is at its limit (other segments plus corporate ranges)', () => {
    expect(segments.length - 1 + 2).toBe(MAX_ISOLATED_RANGES);
  });

  test.each([
    ['ingress', false],
    ['egress', true],
  ])('each isolation ACL still fits the default 20 entries (%s)', (_direction, egress) => {
    for (const network of blueprint.networks.values()) {
      const entries = Object.values(
        Template.fromStack(network).findResources('AWS::EC2::NetworkAclEntry'),
      ) as {
        Properties: { Egress: boolean };
      }[];
      expect(entries.filter((e) => e.Properties.Egress === egress).length).toBeLessThanOrEqual(20);
    }
  });
});
