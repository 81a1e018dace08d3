import { Stack, type App, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { SegmentIsolationAcl } from '../../lib/constructs/segment-isolation-acl';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';
import { only } from '../support/template';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const WORKLOAD_A = 'subnet-0a1a1a1a1a1a1a1a1';
const WORKLOAD_B = 'subnet-0b2b2b2b2b2b2b2b2';

type Entry = {
  RuleNumber: number;
  RuleAction: 'allow' | 'deny';
  Egress: boolean;
  CidrBlock: string;
  Protocol: number;
  PortRange?: { From: number; To: number };
  Icmp?: { Type: number; Code: number };
  NetworkAclId: unknown;
};

/** An entry as one line: `in 100 deny 10.60.0.0/16 all`, `in 32002 allow 0.0.0.0/0 tcp 1024-3388`. */
const line = (e: Entry) => {
  const protocol = { [-1]: 'all', 1: 'icmp', 6: 'tcp', 17: 'udp' }[e.Protocol] ?? String(e.Protocol);
  const detail = e.PortRange
    ? ` ${e.PortRange.From}-${e.PortRange.To}`
    : e.Icmp
      ? ` type ${e.Icmp.Type} code ${e.Icmp.Code}`
      : '';
  return `${e.Egress ? 'out' : 'in'} ${e.RuleNumber} ${e.RuleAction} ${e.CidrBlock} ${protocol}${detail}`;
};

function build(scope: App | Stage): Stack {
  const stack = new Stack(scope, 'Isolation', { env: ENV });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    vpcCidrBlock: '10.50.0.0/16',
  });
  const subnet = (id: string, subnetId: string, zone: string, cidr: string) =>
    ec2.Subnet.fromSubnetAttributes(stack, id, {
      subnetId,
      availabilityZone: zone,
      ipv4CidrBlock: cidr,
      routeTableId: `rtb-${subnetId.slice('subnet-'.length)}`,
    });
  new SegmentIsolationAcl(stack, 'Acl', {
    vpc,
    vpcCidr: '10.50.0.0/16',
    subnets: [
      subnet('WorkloadA', WORKLOAD_A, 'eu-west-1a', '10.50.0.0/20'),
      subnet('WorkloadB', WORKLOAD_B, 'eu-west-1b', '10.50.16.0/20'),
    ],
    deniedRanges: [
      { cidr: '10.60.0.0/16', label: 'segment-training' },
      { cidr: '10.70.0.0/16', label: 'segment-inference' },
      { cidr: '172.16.0.0/12', label: 'corporate-0' },
    ],
  });
  return stack;
}

describe('SegmentIsolationAcl', () => {
  const gate = gateCheck('segment-isolation-acl', build);
  const stack = build(testApp());
  const t = Template.fromStack(stack);
  const [aclId, acl] = only(t, 'AWS::EC2::NetworkAcl');
  const entries = Object.values(t.findResources('AWS::EC2::NetworkAclEntry')).map(
    (e) => (e as { Properties: Entry }).Properties,
  );
  const byDirectionAndNumber = (a: Entry, b: Entry) =>
    Number(a.Egress) - Number(b.Egress) || a.RuleNumber - b.RuleNumber;

  test('guards exactly the subnets it is given, in their VPC', () => {
    expect(acl.Properties?.VpcId).toBe('vpc-0123456789abcdef0');
    const associations = Object.values(t.findResources('AWS::EC2::SubnetNetworkAclAssociation')).map(
      (a) => (a as { Properties: unknown }).Properties,
    );
    expect(associations).toEqual([
      { NetworkAclId: { Ref: aclId }, SubnetId: WORKLOAD_A },
      { NetworkAclId: { Ref: aclId }, SubnetId: WORKLOAD_B },
    ]);
    for (const entry of entries) expect(entry.NetworkAclId).toEqual({ Ref: aclId });
  });

  test('denies each isolated range, every protocol, in both directions, before anything is allowed', () => {
    expect([...entries].sort(byDirectionAndNumber).map(line)).toEqual([
      'in 100 deny 10.60.0.0/16 all',
      'in 101 deny 10.70.0.0/16 all',
      'in 102 deny 172.16.0.0/12 all',
      'in 32001 allow 10.50.0.0/16 all',
      'in 32002 allow 0.0.0.0/0 tcp 1024-3388',
      'in 32003 allow 0.0.0.0/0 udp 1024-3388',
      'in 32004 allow 0.0.0.0/0 tcp 3390-65535',
      'in 32005 allow 0.0.0.0/0 udp 3390-65535',
      'in 32006 allow 0.0.0.0/0 icmp type 3 code 4',
      'out 100 deny 10.60.0.0/16 all',
      'out 101 deny 10.70.0.0/16 all',
      'out 102 deny 172.16.0.0/12 all',
      'out 32000 allow 0.0.0.0/0 all',
    ]);
    // AWS evaluates the lowest rule number first: every deny wins over every allow.
    for (const egress of [false, true]) {
      const mine = entries.filter((e) => e.Egress === egress);
      const lastDeny = Math.max(...mine.filter((e) => e.RuleAction === 'deny').map((e) => e.RuleNumber));
      const firstAllow = Math.min(...mine.filter((e) => e.RuleAction === 'allow').map((e) => e.RuleNumber));
      expect(lastDeny).toBeLessThan(firstAllow);
    }
  });

  test('admits from outside the VPC neither SSH nor RDP, and nothing below the ephemeral ports', () => {
    const fromOutside = entries.filter(
      (e) => !e.Egress && e.RuleAction === 'allow' && e.CidrBlock !== '10.50.0.0/16',
    );
    for (const port of [22, 80, 443, 1023, 3389]) {
      const admitting = fromOutside.filter(
        (e) => e.Protocol === -1 || (e.PortRange && e.PortRange.From <= port && port <= e.PortRange.To),
      );
      expect([port, admitting.map(line)]).toEqual([port, []]);
    }
  });

  test('passes the gate', () => {
    expect(gate.unacknowledged().filter((f) => / at Isolation\/Acl(\/|$)/.test(f))).toEqual([]);
  });
});
