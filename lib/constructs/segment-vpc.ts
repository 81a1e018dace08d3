import { CfnResource, Stack, Tags, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { SegmentKind } from '../segment-kinds';
import { acknowledge } from '../gate/acknowledge';
import { SegmentIsolationAcl, type IsolatedRange } from './segment-isolation-acl';
import {
  INTERNET_EGRESS,
  INTERNET_EGRESS_TAG,
  SEGMENT_KIND_TAG,
  SEGMENT_TAG,
  SUBNET_TIER_TAG,
} from '../contract/tags';
import { FIREWALL_SUBNET_PREFIX, PUBLIC_SUBNET_PREFIX } from '../config/network-defaults';

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

/** The subnet tiers of a segment: workloads, firewall endpoints, and NAT gateways where egress is allowed. */
export const WORKLOAD_TIER = 'workload';
export const FIREWALL_TIER = 'firewall';
export const PUBLIC_TIER = 'public';

export interface SegmentVpcProps {
  readonly segmentName: string;
  readonly kind: SegmentKind;
  readonly cidr: string;
  /** The zones to span, one workload subnet in each. */
  readonly availabilityZones: string[];
  /** Prefix length of each workload subnet. */
  readonly workloadPrefixLength: number;
  /**
   * Whether the segment may reach the internet (through its firewall): adds a public tier with an
   * internet gateway and a NAT gateway per zone. Workload subnets never get a public route.
   */
  readonly internetEgress: boolean;
  /** Encrypted, retained log group receiving every flow of the VPC. */
  readonly flowLogGroup: logs.ILogGroup;
  /** Encrypted, retained log group for the deploy-time handler that strips the default security group. */
  readonly deployHandlerLogGroup: logs.ILogGroup;
  /** The audit bucket, which receives a second copy of the flow logs. */
  readonly flowLogBucket: s3.IBucket;
  /** Key prefix in the audit bucket that flow log delivery may write to. */
  readonly flowLogPrefix: string;
  /** Ranges the workload subnets may never exchange traffic with: other segments, corporate network. */
  readonly isolatedRanges: readonly IsolatedRange[];
}

/**
 * A segment's VPC: per zone a workload subnet, a firewall subnet and, only where the segment may
 * reach the internet, a public subnet holding a NAT gateway (no subnet assigns public IPs); a
 * network ACL on the workload subnets denying the other segments and the corporate network in
 * both directions; a workload security group with no ingress from outside itself; the default
 * security group stripped of its rules; and every flow (accepted and rejected) logged to
 * CloudWatch Logs and to the audit bucket. Routing through the firewall is the network stack's.
 */
export class SegmentVpc extends Construct {
  readonly vpc: ec2.Vpc;
  readonly workloadSubnets: ec2.ISubnet[];
  readonly firewallSubnets: ec2.ISubnet[];
  /** Empty without internet egress. */
  readonly publicSubnets: ec2.ISubnet[];
  /** The NAT gateways, one per zone, with internet egress. */
  readonly natGateways: ec2.NatProvider;
  /** For the segment's workloads: HTTPS out, anything among its own members, nothing else in. */
  readonly workloadSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: SegmentVpcProps) {
    super(scope, id);
    this.natGateways = ec2.NatProvider.gateway();
    const tiers: ec2.SubnetConfiguration[] = [
      // Largest first, so every block stays aligned (the config's fit check assumes this order).
      {
        name: WORKLOAD_TIER,
        subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
        cidrMask: props.workloadPrefixLength,
      },
      { name: FIREWALL_TIER, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: FIREWALL_SUBNET_PREFIX },
    ];
    if (props.internetEgress) {
      tiers.push({
        name: PUBLIC_TIER,
        subnetType: ec2.SubnetType.PUBLIC,
        cidrMask: PUBLIC_SUBNET_PREFIX,
        mapPublicIpOnLaunch: false,
      });
    }
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      availabilityZones: props.availabilityZones,
      natGateways: props.internetEgress ? props.availabilityZones.length : 0,
      natGatewayProvider: this.natGateways,
      natGatewaySubnets: { subnetGroupName: PUBLIC_TIER },
      createInternetGateway: props.internetEgress,
      restrictDefaultSecurityGroup: true,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      subnetConfiguration: tiers,
    });
    Tags.of(this.vpc).add(SEGMENT_TAG, props.segmentName);
    Tags.of(this.vpc).add(SEGMENT_KIND_TAG, props.kind);
    Tags.of(this.vpc).add(
      INTERNET_EGRESS_TAG,
      props.internetEgress ? INTERNET_EGRESS.allowlist : INTERNET_EGRESS.none,
      {
        includeResourceTypes: ['AWS::EC2::VPC'],
      },
    );
    // By group name, not subnet type: the firewall tier is isolated too.
    const tier = (name: string) => this.vpc.selectSubnets({ subnetGroupName: name }).subnets;
    this.workloadSubnets = tier(WORKLOAD_TIER);
    this.firewallSubnets = tier(FIREWALL_TIER);
    this.publicSubnets = props.internetEgress ? tier(PUBLIC_TIER) : [];
    for (const [name, subnets] of [
      [WORKLOAD_TIER, this.workloadSubnets],
      [FIREWALL_TIER, this.firewallSubnets],
      [PUBLIC_TIER, this.publicSubnets],
    ] as const) {
      subnets.forEach((subnet) => Tags.of(subnet).add(SUBNET_TIER_TAG, name));
    }
    for (const subnet of [...this.workloadSubnets, ...this.firewallSubnets, ...this.publicSubnets]) {
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

    this.acknowledgeDefaultSecurityGroupHandler(props.deployHandlerLogGroup);
    for (const subnet of this.publicSubnets) {
      const reason =
        'The public tier holds only the NAT gateways (no workload, no public IPs assigned); workload traffic ' +
        'reaches it only through the firewall endpoint, which admits allowlisted domains alone.';
      acknowledge(
        subnet.node.findChild('DefaultRoute'),
        { pack: 'HIPAA.Security', rule: 'VPCNoUnrestrictedRouteToIGW', reason },
        { pack: 'NIST.800.53.R5', rule: 'VPCNoUnrestrictedRouteToIGW', reason },
      );
    }

    new SegmentIsolationAcl(this, 'IsolationAcl', {
      vpc: this.vpc,
      vpcCidr: props.cidr,
      subnets: this.workloadSubnets,
      deniedRanges: props.isolatedRanges,
    });

    this.workloadSecurityGroup = new ec2.SecurityGroup(this, 'WorkloadSecurityGroup', {
      vpc: this.vpc,
      description: `Workloads of segment ${props.segmentName}: HTTPS out (endpoints, S3, allowlisted sites), members among themselves`,
      allowAllOutbound: false,
    });
    const members = this.workloadSecurityGroup;
    members.addIngressRule(
      members,
      ec2.Port.allTraffic(),
      'Members of the segment among themselves (distributed jobs)',
    );
    const selfIngress = members.node.children.find((c) => c instanceof ec2.CfnSecurityGroupIngress);
    if (!selfIngress) throw new Error('the workload security group has no self-referencing ingress rule');
    const selfOnly =
      'The only ingress source is this security group itself: members of the segment (nodes of one distributed job) ' +
      'reach each other on any port; no address range, let alone 0.0.0.0/0, is admitted.';
    acknowledge(
      selfIngress,
      { pack: 'HIPAA.Security', rule: 'EC2RestrictedCommonPorts', reason: selfOnly },
      { pack: 'NIST.800.53.R5', rule: 'EC2RestrictedCommonPorts', reason: selfOnly },
    );
    members.addEgressRule(
      members,
      ec2.Port.allTraffic(),
      'Members of the segment among themselves (distributed jobs)',
    );
    members.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS: interface endpoints, S3 through its gateway endpoint, and allowlisted sites through the firewall',
    );

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
  private acknowledgeDefaultSecurityGroupHandler(logGroup: logs.ILogGroup): void {
    const provider = Stack.of(this).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    if (!provider) return;
    // Its logs go to an encrypted, retained group instead of one Lambda would create on first use
    // (no key, kept forever). Its role's AWSLambdaBasicExecutionRole lets it write there.
    const handler = provider.node.tryFindChild('Handler');
    if (!(handler instanceof CfnResource)) {
      throw new Error(
        `${provider.node.path}: aws-cdk-lib no longer names its handler "Handler"; give its logs a group`,
      );
    }
    handler.addPropertyOverride('LoggingConfig', { LogGroup: logGroup.logGroupName, LogFormat: 'JSON' });
    acknowledge(provider, {
      pack: 'cdk-validator-cfnguard',
      rule: 'lambda_inside_vpc_check',
      reason:
        "aws-cdk-lib's handler that strips the default security group runs only during deployment and calls " +
        "only ec2:RevokeSecurityGroupIngress/Egress on this VPC's default group; this VPC has no path to the EC2 API for it.",
    });
  }
}
