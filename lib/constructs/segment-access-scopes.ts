import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

export interface SegmentAccessScopesProps {
  readonly vpc: ec2.IVpc;
  readonly workloadSubnets: readonly ec2.ISubnet[];
  /** Whether the segment may reach the internet, through its firewall only. */
  readonly internetEgress: boolean;
  /** The other segments' ranges and the corporate ranges. */
  readonly isolatedCidrs: readonly string[];
}

/**
 * Network Access Analyzer scopes that state invariants 1 to 3 for the live network, so that an
 * analysis (from the console, the CLI or a schedule) finds any path the templates did not have:
 * inbound from the internet, outbound to the internet other than through the firewall (or at all,
 * for a segment without egress), and towards another segment or the corporate network.
 */
export class SegmentAccessScopes extends Construct {
  readonly inbound: ec2.CfnNetworkInsightsAccessScope;
  readonly outbound: ec2.CfnNetworkInsightsAccessScope;
  readonly isolation?: ec2.CfnNetworkInsightsAccessScope;

  constructor(scope: Construct, id: string, props: SegmentAccessScopesProps) {
    super(scope, id);
    const vpc = { resourceStatement: { resources: [props.vpc.vpcId] } };
    const workloads = { resourceStatement: { resources: props.workloadSubnets.map((s) => s.subnetId) } };
    const internetGateway = { resourceStatement: { resourceTypes: ['AWS::EC2::InternetGateway'] } };

    this.inbound = new ec2.CfnNetworkInsightsAccessScope(this, 'InboundFromInternet', {
      matchPaths: [{ source: internetGateway, destination: vpc }],
    });
    this.outbound = new ec2.CfnNetworkInsightsAccessScope(this, 'OutboundToInternet', {
      matchPaths: [{ source: workloads, destination: internetGateway }],
      excludePaths: props.internetEgress
        ? [
            {
              source: workloads,
              destination: internetGateway,
              throughResources: [
                { resourceStatement: { resourceTypes: ['AWS::NetworkFirewall::Firewall'] } },
              ],
            },
          ]
        : undefined,
    });
    if (props.isolatedCidrs.length > 0) {
      this.isolation = new ec2.CfnNetworkInsightsAccessScope(this, 'ToOtherSegmentsOrCorporate', {
        matchPaths: [
          {
            source: vpc,
            destination: { packetHeaderStatement: { destinationAddresses: [...props.isolatedCidrs] } },
          },
        ],
      });
    }
  }
}
