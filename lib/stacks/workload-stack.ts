import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type { Construct } from 'constructs';
import { classify } from '../classification';
import type { SegmentConfig } from '../config/schema';
import type { NetworkStack } from './network-stack';

export interface WorkloadStackProps extends StackProps {
  readonly namePrefix: string;
  readonly segment: SegmentConfig;
  readonly network: NetworkStack;
  /** The segment's key for SageMaker storage. */
  readonly segmentKey: kms.IKey;
  /** The segment's SageMaker execution role (it must exist before this stack deploys). */
  readonly executionRoleArn: string;
}

/**
 * A development segment's SageMaker Studio domain: VPC only (its apps reach nothing but the
 * segment's subnets, endpoints and firewall), IAM authentication, storage encrypted with the
 * segment's key, apps running as the segment's execution role in the workload security group.
 * The domain keeps users' home directories, so it is retained and the stack protected.
 */
export class WorkloadStack extends Stack {
  readonly studioDomain: sagemaker.CfnDomain;

  constructor(scope: Construct, id: string, props: WorkloadStackProps) {
    super(scope, id, { ...props, terminationProtection: true });
    const { segmentVpc } = props.network;
    const securityGroups = [segmentVpc.workloadSecurityGroup.securityGroupId];
    this.studioDomain = new sagemaker.CfnDomain(this, 'StudioDomain', {
      domainName: `${props.namePrefix}-${props.segment.name}`,
      authMode: 'IAM',
      appNetworkAccessType: 'VpcOnly',
      vpcId: segmentVpc.vpc.vpcId,
      subnetIds: segmentVpc.workloadSubnets.map((s) => s.subnetId),
      kmsKeyId: props.segmentKey.keyArn,
      defaultUserSettings: { executionRole: props.executionRoleArn, securityGroups },
      domainSettings: { securityGroupIds: securityGroups },
    });
    this.studioDomain.applyRemovalPolicy(RemovalPolicy.RETAIN);
    classify(this.studioDomain, 'pii');
  }
}
