import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { acknowledge } from '../gate/acknowledge';

/** A range a segment must never exchange traffic with, and why (shown in the entry's id). */
export interface IsolatedRange {
  readonly cidr: string;
  /** Short label, e.g. `segment-training` or `corporate-0`. */
  readonly label: string;
}

export interface SegmentIsolationAclProps {
  readonly vpc: ec2.IVpc;
  /** The VPC's range, as configured (a literal, so readers of the template see it). */
  readonly vpcCidr: string;
  /** The subnets the ACL guards. */
  readonly subnets: ec2.ISubnet[];
  /** Ranges denied in both directions: the other segments and the corporate network. */
  readonly deniedRanges: readonly IsolatedRange[];
}

/** Rule number of the first deny; denies come before the allow, so they always win. */
export const FIRST_DENY_RULE = 100;
/** Rule number of the first closing allow: AWS evaluates entries in ascending order, these last. */
export const ALLOW_REST_RULE = 32000;

/**
 * Return traffic from outside the VPC (S3 through its gateway endpoint, the internet through the
 * firewall) arrives on ephemeral ports. SSH (22) and RDP (3389) are never admitted from outside.
 */
const RETURN_PORT_RANGES = [
  { from: 1024, to: 3388 },
  { from: 3390, to: 65535 },
];

/**
 * A network ACL on a segment's workload subnets that denies, in both directions and for every
 * protocol, the other segments' ranges and the corporate ranges, then allows traffic within the
 * VPC, all egress, and return traffic on ephemeral ports. It is a stateless second wall behind
 * routing: even a route added by mistake cannot carry traffic to or from those ranges.
 */
export class SegmentIsolationAcl extends Construct {
  readonly acl: ec2.NetworkAcl;

  constructor(scope: Construct, id: string, props: SegmentIsolationAclProps) {
    super(scope, id);
    this.acl = new ec2.NetworkAcl(this, 'Acl', {
      vpc: props.vpc,
      subnetSelection: { subnets: props.subnets },
    });
    props.deniedRanges.forEach((range, i) => {
      for (const direction of [ec2.TrafficDirection.INGRESS, ec2.TrafficDirection.EGRESS]) {
        this.acl.addEntry(
          `Deny-${range.label}-${direction === ec2.TrafficDirection.INGRESS ? 'in' : 'out'}`,
          {
            ruleNumber: FIRST_DENY_RULE + i,
            cidr: ec2.AclCidr.ipv4(range.cidr),
            traffic: ec2.AclTraffic.allTraffic(),
            direction,
            ruleAction: ec2.Action.DENY,
          },
        );
      }
    });
    this.allowTheRest(props.vpcCidr);
    acknowledge(this, {
      pack: 'AwsSolutions',
      rule: 'VPC3',
      reason:
        'This ACL is a deliberate stateless second wall: it only denies other segments and corporate ranges; ' +
        'routing, the firewall and security groups remain the primary controls.',
    });
  }

  /** Allows everything within the VPC, all egress, and return traffic from outside on ephemeral ports. */
  private allowTheRest(vpcCidr: string): void {
    const { INGRESS, EGRESS } = ec2.TrafficDirection;
    const anywhere = ec2.AclCidr.anyIpv4();
    const allows: {
      id: string;
      direction: ec2.TrafficDirection;
      cidr: ec2.AclCidr;
      traffic: ec2.AclTraffic;
    }[] = [
      { id: 'AllowEgress', direction: EGRESS, cidr: anywhere, traffic: ec2.AclTraffic.allTraffic() },
      {
        id: 'AllowVpcIngress',
        direction: INGRESS,
        cidr: ec2.AclCidr.ipv4(vpcCidr),
        traffic: ec2.AclTraffic.allTraffic(),
      },
      ...RETURN_PORT_RANGES.flatMap(({ from, to }) => [
        {
          id: `AllowTcpReturn${from}`,
          direction: INGRESS,
          cidr: anywhere,
          traffic: ec2.AclTraffic.tcpPortRange(from, to),
        },
        {
          id: `AllowUdpReturn${from}`,
          direction: INGRESS,
          cidr: anywhere,
          traffic: ec2.AclTraffic.udpPortRange(from, to),
        },
      ]),
      // Path MTU discovery (destination unreachable, fragmentation needed).
      {
        id: 'AllowPathMtu',
        direction: INGRESS,
        cidr: anywhere,
        traffic: ec2.AclTraffic.icmp({ type: 3, code: 4 }),
      },
    ];
    allows.forEach(({ id, ...entry }, i) => {
      this.acl.addEntry(id, { ...entry, ruleNumber: ALLOW_REST_RULE + i, ruleAction: ec2.Action.ALLOW });
    });
  }
}
