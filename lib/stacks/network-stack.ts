import { Aws, CfnMapping, Fn, Stack, Tags, Token, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { SegmentConfig } from '../config/schema';
import { SegmentAccessScopes } from '../constructs/segment-access-scopes';
import { SegmentDnsFirewall } from '../constructs/segment-dns-firewall';
import { privateDnsDomains, SegmentEndpoints } from '../constructs/segment-endpoints';
import { SegmentFirewall } from '../constructs/segment-firewall';
import { SegmentVpc } from '../constructs/segment-vpc';
import { SEGMENTATION_METADATA_KEY, type SegmentationMetadata } from '../contract/metadata';
import { SEGMENT_TAG } from '../contract/tags';
import { CODEARTIFACT_ASSET_BUCKETS } from '../mirrors';
import { FIREWALL_LOG_PREFIX, FLOW_LOG_PREFIX, type NetworkLogGroups } from './audit-stack';

export interface NetworkStackProps extends StackProps {
  readonly segment: SegmentConfig;
  /** Prefix of named resources (firewalls, policies, rule groups), as of stack names. */
  readonly namePrefix: string;
  /**
   * Availability zone names from config.
   * @default - the first `segment.azCount` zones of the deployment region, resolved at deploy time
   */
  readonly availabilityZoneNames?: readonly string[];
  /** The audit stack's log groups for this segment. */
  readonly logs: NetworkLogGroups;
  readonly auditBucket: s3.IBucket;
  /** The other segments: never reachable from this one. */
  readonly otherSegments: readonly { readonly name: string; readonly vpcCidr: string }[];
  /** The corporate ranges: never reachable either. */
  readonly corporateCidrs: readonly string[];
  /** AWS managed DNS Firewall domain lists to block. */
  readonly managedDomainListIds: readonly string[];
  readonly organizationId?: string;
  /**
   * Protect the firewall (deletion, subnets, policy) and the DNS Firewall association (mutation).
   * @default true
   */
  readonly protect?: boolean;
}

/**
 * One segment's network: its VPC and subnet tiers, Network Firewall with the routes that send
 * every packet leaving the workload subnets through it, DNS Firewall, VPC endpoints, network
 * ACL and flow logs. Holds no data of its own.
 */
export class NetworkStack extends Stack {
  readonly segmentVpc: SegmentVpc;
  readonly firewall: SegmentFirewall;
  readonly dnsFirewall: SegmentDnsFirewall;
  readonly endpoints: SegmentEndpoints;
  private readonly zoneNames: string[];

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { segment } = props;
    // Every resource of the stack belongs to the segment (the VPC and subnets also carry kind and tier).
    Tags.of(this).add(SEGMENT_TAG, segment.name);
    // For the verifier (and any reader of the template): the ranges the segment must never reach.
    this.templateOptions.metadata = {
      ...this.templateOptions.metadata,
      [SEGMENTATION_METADATA_KEY]: {
        corporateCidrs: [...props.corporateCidrs],
        declaredFlows: [],
      } satisfies SegmentationMetadata,
    };
    this.zoneNames = props.availabilityZoneNames
      ? props.availabilityZoneNames.slice(0, segment.azCount)
      : Array.from({ length: segment.azCount }, (_, i) => Fn.select(i, Fn.getAzs()));

    this.segmentVpc = new SegmentVpc(this, 'Segment', {
      segmentName: segment.name,
      kind: segment.kind,
      cidr: segment.vpcCidr,
      availabilityZones: this.zoneNames,
      workloadPrefixLength: segment.subnetPrefixLengths.workload,
      internetEgress: segment.egressAllowlist.length > 0,
      flowLogGroup: props.logs.flowLogs,
      deployHandlerLogGroup: props.logs.deployHandler,
      flowLogBucket: props.auditBucket,
      flowLogPrefix: FLOW_LOG_PREFIX,
      isolatedRanges: [
        ...props.otherSegments.map((other) => ({ cidr: other.vpcCidr, label: `segment-${other.name}` })),
        ...props.corporateCidrs.map((cidr, i) => ({ cidr, label: `corporate-${i}` })),
      ],
    });
    const { vpc } = this.segmentVpc;

    this.firewall = new SegmentFirewall(this, 'Firewall', {
      namePrefix: props.namePrefix,
      segmentName: segment.name,
      vpc,
      vpcCidr: segment.vpcCidr,
      subnets: this.segmentVpc.firewallSubnets,
      egressAllowlist: segment.egressAllowlist,
      ips: segment.ips,
      managedThreatGroups: segment.managedThreatGroups,
      otherSegmentCidrs: props.otherSegments.map((other) => other.vpcCidr),
      corporateCidrs: props.corporateCidrs,
      alertLogGroup: props.logs.firewallAlerts,
      flowLogBucket: props.auditBucket,
      flowLogPrefix: FIREWALL_LOG_PREFIX,
      protect: props.protect ?? true,
    });
    this.routeThroughFirewall();

    this.dnsFirewall = new SegmentDnsFirewall(this, 'DnsFirewall', {
      namePrefix: props.namePrefix,
      segmentName: segment.name,
      vpc,
      egressAllowlist: segment.egressAllowlist,
      internalZones: segment.internalDnsZones,
      endpointDomains: privateDnsDomains(segment.interfaceEndpoints, this.region),
      managedDomainListIds: props.managedDomainListIds,
      queryLogGroup: props.logs.dnsQueries,
      protect: props.protect ?? true,
    });

    new SegmentAccessScopes(this, 'AccessScopes', {
      vpc,
      workloadSubnets: this.segmentVpc.workloadSubnets,
      internetEgress: segment.egressAllowlist.length > 0,
      isolatedCidrs: [...props.otherSegments.map((other) => other.vpcCidr), ...props.corporateCidrs],
    });

    this.endpoints = new SegmentEndpoints(this, 'Endpoints', {
      segmentName: segment.name,
      vpc,
      workloadSubnets: this.segmentVpc.workloadSubnets,
      interfaceEndpoints: segment.interfaceEndpoints,
      organizationId: props.organizationId,
      namePrefix: props.namePrefix,
      ...(segment.interfaceEndpoints.includes('codeartifact-repositories')
        ? { codeArtifactAssetsBucket: this.codeArtifactAssetsBucket() }
        : {}),
    });
  }

  /**
   * The bucket CodeArtifact serves package files from in this stack's region: from the list when
   * the region is known at synth, otherwise a mapping over the list that the deploy reads (a region
   * missing from it fails the deploy, naming the mapping).
   */
  private codeArtifactAssetsBucket(): string {
    if (!Token.isUnresolved(this.region)) {
      const bucket = CODEARTIFACT_ASSET_BUCKETS[this.region];
      if (!bucket)
        throw new Error(
          `no CodeArtifact assets bucket known for ${this.region}; config validation refuses such a region`,
        );
      return bucket;
    }
    const mapping = new CfnMapping(this, 'CodeArtifactAssetsBuckets', {
      mapping: Object.fromEntries(
        Object.entries(CODEARTIFACT_ASSET_BUCKETS).map(([region, bucket]) => [region, { bucket }]),
      ),
    });
    return mapping.findInMap(Aws.REGION, 'bucket');
  }

  /**
   * Per zone: the workload subnet's default route goes to the zone's firewall endpoint. With
   * internet egress, the firewall subnet's default route goes to the zone's NAT gateway, and the
   * public subnet sends traffic for the workload subnet back through the same endpoint, so both
   * directions of a flow pass one firewall endpoint. Without egress the firewall subnet has no
   * route out: the firewall drops and alerts, and nothing could leave past it anyway.
   */
  private routeThroughFirewall(): void {
    const { workloadSubnets, firewallSubnets, publicSubnets, natGateways } = this.segmentVpc;
    const internet = publicSubnets.length > 0;
    workloadSubnets.forEach((workload, i) => {
      const endpoint = this.firewall.endpointId(firewallSubnets[i]);
      routable(workload).addRoute('DefaultViaFirewall', {
        destinationCidrBlock: '0.0.0.0/0',
        routerType: ec2.RouterType.VPC_ENDPOINT,
        routerId: endpoint,
        enablesInternetConnectivity: internet,
      });
      if (!internet) return;
      const nat = natGateways.configuredGateways.find((g) => g.az === workload.availabilityZone);
      if (!nat) throw new Error(`no NAT gateway in the zone of ${workload.node.path}`);
      routable(firewallSubnets[i]).addRoute('DefaultViaNat', {
        destinationCidrBlock: '0.0.0.0/0',
        routerType: ec2.RouterType.NAT_GATEWAY,
        routerId: nat.gatewayId,
        enablesInternetConnectivity: true,
      });
      routable(publicSubnets[i]).addRoute('WorkloadReturnViaFirewall', {
        destinationCidrBlock: workload.ipv4CidrBlock,
        routerType: ec2.RouterType.VPC_ENDPOINT,
        routerId: endpoint,
      });
    });
  }

  /**
   * The zones come from config, or from Fn::GetAZs at deploy time, never from a context
   * look-up: synth stays offline even when the stack has an account and region.
   */
  override get availabilityZones(): string[] {
    return this.zoneNames;
  }
}

function routable(subnet: ec2.ISubnet): ec2.Subnet {
  if (!(subnet instanceof ec2.Subnet)) throw new Error(`${subnet.node.path} is not a subnet of this VPC`);
  return subnet;
}
