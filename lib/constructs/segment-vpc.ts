import { Stack, Tags, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { SegmentKind } from '../config/schema';
import { acknowledge } from '../gate/acknowledge';
import { SegmentIsolationAcl, type IsolatedRange } from './segment-isolation-acl';
import { SEGMENT_KIND_TAG, SEGMENT_TAG, SUBNET_TIER_TAG } from '../tags';

/**
 * Flow log fields: the default set plus what an investigation needs to place a flow (VPC,
 * subnet, instance, direction, TCP flags, the addresses before NAT, the path taken).
 */
const FLOW_LOG_FIELDS = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
  'vpc-id',
  'subnet-id',
  'instance-id',
  'tcp-flags',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'flow-direction',
  'traffic-path',
];
const FLOW_LOG_FORMAT = FLOW_LOG_FIELDS.map((field) => `\${${field}}`).join(' ');

/** The subnet tier that holds a segment's workloads. */
export const WORKLOAD_TIER = 'workload';

export interface SegmentVpcProps {
  readonly segmentName: string;
  readonly kind: SegmentKind;
  readonly cidr: string;
  /** The zones to span, one workload subnet in each. */
  readonly availabilityZones: string[];
  /** Prefix length of each workload subnet. */
  readonly workloadPrefixLength: number;
  /** Encrypted, retained log group receiving every flow of the VPC. */
  readonly flowLogGroup: logs.ILogGroup;
  /** The audit bucket, which receives a second copy of the flow logs. */
  readonly flowLogBucket: s3.IBucket;
  /** Key prefix in the audit bucket that flow log delivery may write to. */
  readonly flowLogPrefix: string;
  /** Ranges the workload subnets may never exchange traffic with: other segments, corporate network. */
  readonly isolatedRanges: readonly IsolatedRange[];
}

/**
 * A segment's VPC: isolated workload subnets only (no internet gateway, no NAT, no public IPs),
 * a network ACL denying the other segments and the corporate network in both directions, the
 * default security group stripped of its rules, and every flow (accepted and rejected) logged to
 * CloudWatch Logs and to the audit bucket.
 */
export class SegmentVpc extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: SegmentVpcProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      availabilityZones: props.availabilityZones,
      natGateways: 0,
      createInternetGateway: false,
      restrictDefaultSecurityGroup: true,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      subnetConfiguration: [
        {
          name: WORKLOAD_TIER,
          subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
          cidrMask: props.workloadPrefixLength,
        },
      ],
    });
    Tags.of(this.vpc).add(SEGMENT_TAG, props.segmentName);
    Tags.of(this.vpc).add(SEGMENT_KIND_TAG, props.kind);
    // By group name, not subnet type: further isolated tiers (firewall) must not be taken for workloads.
    const workloadSubnets = this.vpc.selectSubnets({ subnetGroupName: WORKLOAD_TIER }).subnets;
    for (const subnet of workloadSubnets) {
      Tags.of(subnet).add(SUBNET_TIER_TAG, WORKLOAD_TIER);
      if (!Token.isUnresolved(subnet.availabilityZone)) {
        acknowledge(subnet, {
          pack: 'CloudFormation-Validate',
          rule: 'W3010',
          reason:
            'The zone names come from the validated config (environment.availabilityZones) because synth makes no ' +
            'look-ups; they are the zones the organisation chose for this account.',
        });
      }
    }

    this.acknowledgeDefaultSecurityGroupHandler();

    new SegmentIsolationAcl(this, 'IsolationAcl', {
      vpc: this.vpc,
      vpcCidr: props.cidr,
      subnets: workloadSubnets,
      deniedRanges: props.isolatedRanges,
    });

    // Our own role, so that its permissions are a managed policy and only flow logs of this
    // account can assume it (confused-deputy protection); the L2's implicit grants are dropped.
    const stack = Stack.of(this);
    const flowLogRole = new iam.Role(this, 'FlowLogRole', {
      description: `Delivers VPC flow logs of segment ${props.segmentName} to CloudWatch Logs`,
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({ service: 'ec2', resource: 'vpc-flow-log', resourceName: '*' }),
          },
        },
      }),
    });
    new iam.ManagedPolicy(this, 'FlowLogDeliveryPolicy', {
      description: `Writes VPC flow logs of segment ${props.segmentName} to its log group`,
      roles: [flowLogRole],
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [props.flowLogGroup.logGroupArn],
        }),
      ],
    });
    this.vpc.addFlowLog('FlowLogToCloudWatch', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        props.flowLogGroup,
        flowLogRole.withoutPolicyUpdates(),
      ),
      trafficType: ec2.FlowLogTrafficType.ALL,
      maxAggregationInterval: ec2.FlowLogMaxAggregationInterval.ONE_MINUTE,
      logFormat: [ec2.LogFormat.custom(FLOW_LOG_FORMAT)],
    });
    // L1: the L2's S3 destination would write its own statements into the audit stack's bucket
    // policy; the audit stack owns that policy and already admits flow log delivery.
    new ec2.CfnFlowLog(this, 'FlowLogToAuditBucket', {
      resourceId: this.vpc.vpcId,
      resourceType: 'VPC',
      trafficType: 'ALL',
      logDestinationType: 's3',
      logDestination: `${props.flowLogBucket.bucketArn}/${props.flowLogPrefix}/`,
      logFormat: FLOW_LOG_FORMAT,
      maxAggregationInterval: 600,
    });
  }

  /**
   * Stripping the default security group takes a deploy-time custom resource, a Lambda function
   * that aws-cdk-lib creates once per stack and that calls only the EC2 API.
   */
  private acknowledgeDefaultSecurityGroupHandler(): void {
    const provider = Stack.of(this).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    if (!provider) return;
    acknowledge(provider, {
      pack: 'cdk-validator-cfnguard',
      rule: 'lambda_inside_vpc_check',
      reason:
        "aws-cdk-lib's handler that strips the default security group runs only during deployment and calls " +
        "only ec2:RevokeSecurityGroupIngress/Egress on this VPC's default group; this VPC has no path to the EC2 API for it.",
    });
  }
}
