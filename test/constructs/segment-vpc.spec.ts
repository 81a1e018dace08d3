import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { SegmentVpc } from '../../lib/constructs/segment-vpc';
import { testApp } from '../support/synth';

const ENV = { account: '111122223333', region: 'eu-west-1' };

function vpcTemplate(internetEgress: boolean): Template {
  const stack = new Stack(testApp(), 'Segment', { env: ENV });
  new SegmentVpc(stack, 'Segment', {
    segmentName: 'lab',
    kind: internetEgress ? 'development' : 'training',
    cidr: '10.50.0.0/16',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    workloadPrefixLength: 20,
    internetEgress,
    flowLogGroup: new logs.LogGroup(stack, 'Flows'),
    deployHandlerLogGroup: new logs.LogGroup(stack, 'Handler'),
    flowLogBucket: new s3.Bucket(stack, 'Audit'),
    flowLogPrefix: 'vpc-flow-logs/lab/',
    isolatedRanges: [{ cidr: '10.60.0.0/16', label: 'segment-other' }],
  });
  return Template.fromStack(stack);
}

const tags = (resource: { Properties: { Tags?: { Key: string; Value: string }[] } }) =>
  Object.fromEntries((resource.Properties.Tags ?? []).map((t) => [t.Key, t.Value]));

describe('SegmentVpc', () => {
  const offline = vpcTemplate(false);
  const online = vpcTemplate(true);

  test('per zone a workload and a firewall subnet; a public one only with egress; no subnet assigns public IPs', () => {
    const tiers = (t: Template) =>
      Object.values(t.findResources('AWS::EC2::Subnet'))
        .map((s) => tags(s as never)['ai-segmentation:subnet-tier'])
        .sort();
    expect(tiers(offline)).toEqual(['firewall', 'firewall', 'workload', 'workload']);
    expect(tiers(online)).toEqual(['firewall', 'firewall', 'public', 'public', 'workload', 'workload']);
    for (const t of [offline, online]) {
      for (const subnet of Object.values(t.findResources('AWS::EC2::Subnet'))) {
        expect(
          (subnet as { Properties: { MapPublicIpOnLaunch?: boolean } }).Properties.MapPublicIpOnLaunch,
        ).not.toBe(true);
      }
    }
  });

  test('an internet gateway and a NAT gateway per zone only with egress', () => {
    offline.resourceCountIs('AWS::EC2::InternetGateway', 0);
    offline.resourceCountIs('AWS::EC2::NatGateway', 0);
    online.resourceCountIs('AWS::EC2::InternetGateway', 1);
    online.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  test('the VPC says its segment, kind and whether it has an internet path', () => {
    const [vpc] = Object.values(offline.findResources('AWS::EC2::VPC'));
    expect(tags(vpc as never)).toMatchObject({
      'ai-segmentation:segment': 'lab',
      'ai-segmentation:segment-kind': 'training',
      'ai-segmentation:internet-egress': 'none',
    });
    const [onlineVpc] = Object.values(online.findResources('AWS::EC2::VPC'));
    expect(tags(onlineVpc as never)['ai-segmentation:internet-egress']).toBe('allowlist');
  });

  test('every flow, accepted and rejected, is logged to CloudWatch Logs and to the audit bucket', () => {
    const flowLogs = Object.values(offline.findResources('AWS::EC2::FlowLog')).map(
      (f) => (f as { Properties: { TrafficType: string; LogDestinationType?: string } }).Properties,
    );
    expect(
      flowLogs.map((f) => `${f.TrafficType} ${f.LogDestinationType ?? 'cloud-watch-logs'}`).sort(),
    ).toEqual(['ALL cloud-watch-logs', 'ALL s3']);
  });

  test('the workload subnets deny the isolated ranges in both directions before anything is allowed', () => {
    const denies = Object.values(offline.findResources('AWS::EC2::NetworkAclEntry'))
      .map(
        (e) => (e as { Properties: { CidrBlock?: string; RuleAction: string; Egress?: boolean } }).Properties,
      )
      .filter((e) => e.CidrBlock === '10.60.0.0/16');
    expect(denies.map((e) => `${e.RuleAction} ${e.Egress ? 'out' : 'in'}`).sort()).toEqual([
      'deny in',
      'deny out',
    ]);
  });
});
