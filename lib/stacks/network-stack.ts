import { Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { SegmentConfig } from '../config/schema';
import type { IsolatedRange } from '../constructs/segment-isolation-acl';
import { SegmentVpc } from '../constructs/segment-vpc';

export interface NetworkStackProps extends StackProps {
  readonly segment: SegmentConfig;
  /**
   * Availability zone names from config.
   * @default - the first `segment.azCount` zones of the deployment region, resolved at deploy time
   */
  readonly availabilityZoneNames?: readonly string[];
  readonly flowLogGroup: logs.ILogGroup;
  readonly auditBucket: s3.IBucket;
  readonly flowLogPrefix: string;
  /** Ranges this segment may never exchange traffic with: the other segments and the corporate network. */
  readonly isolatedRanges: readonly IsolatedRange[];
}

/** One segment's network: its VPC, subnets and flow logs. Holds no data of its own. */
export class NetworkStack extends Stack {
  readonly segmentVpc: SegmentVpc;
  private readonly zoneNames: string[];

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { segment } = props;
    this.zoneNames = props.availabilityZoneNames
      ? props.availabilityZoneNames.slice(0, segment.azCount)
      : Array.from({ length: segment.azCount }, (_, i) => Fn.select(i, Fn.getAzs()));

    this.segmentVpc = new SegmentVpc(this, 'Segment', {
      segmentName: segment.name,
      kind: segment.kind,
      cidr: segment.vpcCidr,
      availabilityZones: this.zoneNames,
      workloadPrefixLength: segment.subnetPrefixLengths.workload,
      flowLogGroup: props.flowLogGroup,
      flowLogBucket: props.auditBucket,
      flowLogPrefix: props.flowLogPrefix,
      isolatedRanges: props.isolatedRanges,
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
