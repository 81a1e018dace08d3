import { Stack, type App, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { SegmentAccessScopes } from '../../lib/constructs/segment-access-scopes';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';
import { resourcesOf } from '../support/template';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const VPC = 'vpc-0a1b2c3d4e5f60718';
const WORKLOAD_SUBNETS = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'];

const INTERNET_GATEWAY = { ResourceStatement: { ResourceTypes: ['AWS::EC2::InternetGateway'] } };
const THE_VPC = { ResourceStatement: { Resources: [VPC] } };
const THE_WORKLOADS = { ResourceStatement: { Resources: WORKLOAD_SUBNETS } };

type Scope = { MatchPaths: unknown; ExcludePaths?: unknown };

/** The three variants: no egress with isolated ranges, egress, and no ranges at all. */
function buildAll(scope: App | Stage) {
  const build = (id: string, internetEgress: boolean, isolatedCidrs: string[]) => {
    const stack = new Stack(scope, id, { env: ENV });
    const scopes = new SegmentAccessScopes(stack, 'AccessScopes', {
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
        vpcId: VPC,
        availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      }),
      workloadSubnets: WORKLOAD_SUBNETS.map((subnetId) => ec2.Subnet.fromSubnetId(stack, subnetId, subnetId)),
      internetEgress,
      isolatedCidrs,
    });
    return { stack, scopes };
  };
  return {
    offline: build('Offline', false, ['10.60.0.0/16', '10.70.0.0/16', '172.16.0.0/12']),
    online: build('Online', true, ['10.50.0.0/16']),
    alone: build('Alone', false, []),
  };
}

describe('SegmentAccessScopes', () => {
  const gate = gateCheck('segment-access-scopes', buildAll);
  const { offline, online, alone } = buildAll(testApp());
  /** The resources of a stack by logical id without its hash, each a scope's properties or another type. */
  const resourcesByName = ({ stack }: { stack: Stack }) =>
    Object.fromEntries(
      Object.entries(resourcesOf(Template.fromStack(stack))).map(([id, r]) => [
        id.replace(/[0-9A-F]{8}$/, ''),
        r.Type === 'AWS::EC2::NetworkInsightsAccessScope' ? (r.Properties as Scope) : r.Type,
      ]),
    ) as Record<string, Scope>;
  const [o, n, a] = [offline, online, alone].map(resourcesByName);

  test('one scope per invariant, the isolation one only when there are ranges to isolate from; nothing else', () => {
    const both = ['AccessScopesInboundFromInternet', 'AccessScopesOutboundToInternet'];
    expect(Object.keys(o).sort()).toEqual([...both, 'AccessScopesToOtherSegmentsOrCorporate']);
    expect(Object.keys(n).sort()).toEqual([...both, 'AccessScopesToOtherSegmentsOrCorporate']);
    expect(Object.keys(a).sort()).toEqual(both);
    expect(alone.scopes.isolation).toBeUndefined();
  });

  test('inbound: any path from an internet gateway into the VPC is a finding, with or without egress', () => {
    for (const scopes of [o, n, a]) {
      expect(scopes.AccessScopesInboundFromInternet).toEqual({
        MatchPaths: [{ Source: INTERNET_GATEWAY, Destination: THE_VPC }],
      });
    }
  });

  test('outbound, without egress: any path from the workload subnets to an internet gateway is a finding', () => {
    for (const scopes of [o, a]) {
      expect(scopes.AccessScopesOutboundToInternet).toEqual({
        MatchPaths: [{ Source: THE_WORKLOADS, Destination: INTERNET_GATEWAY }],
      });
    }
  });

  test('outbound, with egress: such a path is a finding unless it passes through a Network Firewall', () => {
    expect(n.AccessScopesOutboundToInternet).toEqual({
      MatchPaths: [{ Source: THE_WORKLOADS, Destination: INTERNET_GATEWAY }],
      ExcludePaths: [
        {
          Source: THE_WORKLOADS,
          Destination: INTERNET_GATEWAY,
          ThroughResources: [{ ResourceStatement: { ResourceTypes: ['AWS::NetworkFirewall::Firewall'] } }],
        },
      ],
    });
  });

  test('isolation: any path from the VPC to any of the given ranges (other segments, corporate) is a finding', () => {
    expect(o.AccessScopesToOtherSegmentsOrCorporate).toEqual({
      MatchPaths: [
        {
          Source: THE_VPC,
          Destination: {
            PacketHeaderStatement: {
              DestinationAddresses: ['10.60.0.0/16', '10.70.0.0/16', '172.16.0.0/12'],
            },
          },
        },
      ],
    });
    expect(n.AccessScopesToOtherSegmentsOrCorporate).toEqual({
      MatchPaths: [
        {
          Source: THE_VPC,
          Destination: { PacketHeaderStatement: { DestinationAddresses: ['10.50.0.0/16'] } },
        },
      ],
    });
  });

  test('passes the gate', () => {
    expect(gate.unacknowledged().filter((f) => / at (Offline|Online|Alone)\/AccessScopes\//.test(f))).toEqual(
      [],
    );
  });
});
