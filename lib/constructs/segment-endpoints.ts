import { Aws } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { InterfaceEndpointName } from '../config/network-defaults';

/** The AWS service behind each endpoint name of the config. */
export const ENDPOINT_SERVICES: Record<InterfaceEndpointName, ec2.InterfaceVpcEndpointAwsService> = {
  'sagemaker-api': ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
  'sagemaker-runtime': ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
  'sagemaker-notebook': ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_NOTEBOOK,
  'sagemaker-studio': ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_STUDIO,
  'ecr-api': ec2.InterfaceVpcEndpointAwsService.ECR,
  'ecr-dkr': ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  monitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
  sts: ec2.InterfaceVpcEndpointAwsService.STS,
  kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  secretsmanager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  'execute-api': ec2.InterfaceVpcEndpointAwsService.APIGATEWAY,
};

/**
 * Names an interface endpoint's private DNS answers outside `amazonaws.com`: Studio and notebook
 * URLs live under `sagemaker.aws`, which the DNS Firewall must let resolve.
 */
export function privateDnsDomains(endpoints: readonly InterfaceEndpointName[], region: string): string[] {
  const names: Partial<Record<InterfaceEndpointName, string>> = {
    'sagemaker-studio': `*.studio.${region}.sagemaker.aws`,
    'sagemaker-notebook': `*.notebook.${region}.sagemaker.aws`,
  };
  return endpoints.flatMap((endpoint) => names[endpoint] ?? []);
}

/** Endpoint logical ids, e.g. `sagemaker-runtime` -> `SagemakerRuntime`. */
const pascal = (name: string) =>
  name
    .split('-')
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');

export interface SegmentEndpointsProps {
  readonly segmentName: string;
  readonly vpc: ec2.IVpc;
  /** The subnets whose workloads use the endpoints; interface endpoints are placed in them too. */
  readonly workloadSubnets: readonly ec2.ISubnet[];
  readonly interfaceEndpoints: readonly InterfaceEndpointName[];
  /** When set, the organisation's principals and resources are admitted; otherwise this account's. */
  readonly organizationId?: string;
}

/**
 * Private paths to AWS: an S3 gateway endpoint on the workload route tables and the segment's
 * interface endpoints, each with a policy that admits only the organisation's (or account's)
 * principals acting on its own resources, behind a security group open on 443 to the workload
 * subnets only.
 */
export class SegmentEndpoints extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  readonly s3: ec2.GatewayVpcEndpoint;
  readonly interfaces = new Map<InterfaceEndpointName, ec2.InterfaceVpcEndpoint>();

  constructor(scope: Construct, id: string, props: SegmentEndpointsProps) {
    super(scope, id);
    const subnets = [...props.workloadSubnets];

    this.s3 = new ec2.GatewayVpcEndpoint(this, 'S3', {
      vpc: props.vpc,
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [{ subnets }],
    });
    // ECR keeps image layers in an AWS-owned bucket of the region, reached through this endpoint.
    const ecrLayers = `arn:${Aws.PARTITION}:s3:::prod-${Aws.REGION}-starport-layer-bucket/*`;
    for (const statement of perimeterStatements(props.organizationId, [ecrLayers])) {
      this.s3.addToPolicy(statement);
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Interface endpoints of segment ${props.segmentName}: HTTPS from its workload subnets only`,
      allowAllOutbound: false,
    });
    for (const subnet of subnets) {
      this.securityGroup.addIngressRule(
        ec2.Peer.ipv4(subnet.ipv4CidrBlock),
        ec2.Port.tcp(443),
        `HTTPS from workload subnet ${subnet.ipv4CidrBlock}`,
      );
    }

    for (const name of props.interfaceEndpoints) {
      const endpoint = new ec2.InterfaceVpcEndpoint(this, pascal(name), {
        vpc: props.vpc,
        service: ENDPOINT_SERVICES[name],
        subnets: { subnets },
        securityGroups: [this.securityGroup],
        privateDnsEnabled: true,
        open: false,
      });
      for (const statement of perimeterStatements(props.organizationId)) endpoint.addToPolicy(statement);
      this.interfaces.set(name, endpoint);
    }
  }
}

/**
 * An endpoint policy for a data perimeter: only our principals may use the endpoint, and only on
 * our resources (actions without a resource, such as sts:GetCallerIdentity, pass the second
 * test). `awsOwned` lists AWS-owned resources a workload must still reach.
 */
export function perimeterStatements(
  organizationId: string | undefined,
  awsOwned: string[] = [],
): iam.PolicyStatement[] {
  const [principalKey, resourceKey, value] = organizationId
    ? ['aws:PrincipalOrgID', 'aws:ResourceOrgID', organizationId]
    : ['aws:PrincipalAccount', 'aws:ResourceAccount', Aws.ACCOUNT_ID];
  return [
    new iam.PolicyStatement({
      sid: organizationId ? 'OnlyOrganizationPrincipals' : 'OnlyAccountPrincipals',
      principals: [new iam.AnyPrincipal()],
      actions: ['*'],
      resources: ['*'],
      conditions: { StringEquals: { [principalKey]: value } },
    }),
    new iam.PolicyStatement({
      sid: organizationId ? 'OnlyOrganizationResources' : 'OnlyAccountResources',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['*'],
      ...(awsOwned.length > 0 ? { notResources: awsOwned } : { resources: ['*'] }),
      conditions: { StringNotEqualsIfExists: { [resourceKey]: value } },
    }),
  ];
}
