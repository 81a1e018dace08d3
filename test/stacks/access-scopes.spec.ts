import { DEFAULT_SEGMENTS } from '../../lib/config/schema';
import { defaultTemplate } from '../support/default-app';
import { only } from '../support/template';

describe.each(DEFAULT_SEGMENTS.map((s) => [s.name, s.kind, s.vpcCidr] as const))(
  'Network Access Analyzer scopes of segment %s (%s)',
  (name, _kind, cidr) => {
    const template = defaultTemplate(`Network-${name}`);
    const [vpcId] = only(template, 'AWS::EC2::VPC');
    const scope = (prefix: string) =>
      Object.entries(template.findResources('AWS::EC2::NetworkInsightsAccessScope')).find(([id]) =>
        id.startsWith(`AccessScopes${prefix}`),
      )?.[1] as { Properties: Record<string, unknown> } | undefined;

    test('invariant 2: any path from an internet gateway into the VPC is a finding', () => {
      expect(scope('InboundFromInternet')?.Properties.MatchPaths).toEqual([
        {
          Source: { ResourceStatement: { ResourceTypes: ['AWS::EC2::InternetGateway'] } },
          Destination: { ResourceStatement: { Resources: [{ Ref: vpcId }] } },
        },
      ]);
    });

    test('invariant 3: a path from the workload subnets to an internet gateway is a finding', () => {
      const outbound = scope('OutboundToInternet')?.Properties;
      expect(outbound?.MatchPaths).toEqual([
        {
          Source: {
            ResourceStatement: {
              Resources: [
                { Ref: expect.stringMatching(/^SegmentVpcworkloadSubnet1Subnet/) as unknown },
                { Ref: expect.stringMatching(/^SegmentVpcworkloadSubnet2Subnet/) as unknown },
              ],
            },
          },
          Destination: { ResourceStatement: { ResourceTypes: ['AWS::EC2::InternetGateway'] } },
        },
      ]);
      // No default segment reaches the internet, so no path through a firewall is excepted.
      expect(outbound?.ExcludePaths).toBeUndefined();
    });

    test('invariant 1: any path from the VPC to another segment or the corporate network is a finding', () => {
      const isolated = [
        ...DEFAULT_SEGMENTS.filter((s) => s.name !== name).map((s) => s.vpcCidr),
        '172.16.0.0/12',
        '192.168.0.0/16',
      ];
      expect(scope('ToOtherSegmentsOrCorporate')?.Properties.MatchPaths).toEqual([
        {
          Source: { ResourceStatement: { Resources: [{ Ref: vpcId }] } },
          Destination: { PacketHeaderStatement: { DestinationAddresses: isolated } },
        },
      ]);
      expect(isolated).not.toContain(cidr);
    });
  },
);
