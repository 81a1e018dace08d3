import { Aws } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { InterfaceEndpointName } from '../config/network-defaults';
import { packageDomainName } from '../mirrors';

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
  'codeartifact-api': ec2.InterfaceVpcEndpointAwsService.CODEARTIFACT_API,
  'codeartifact-repositories': ec2.InterfaceVpcEndpointAwsService.CODEARTIFACT_REPOSITORIES,
  states: ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
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
  /** The blueprint's name prefix, which names its CodeArtifact domain. */
  readonly namePrefix: string;
  /**
   * The AWS-owned bucket CodeArtifact serves package files from in the region (a token where the
   * region is chosen at deploy time); admitted for reads when the segment has the CodeArtifact
   * repositories endpoint.
   */
  readonly codeArtifactAssetsBucket?: string;
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
    const packageFiles = props.interfaceEndpoints.includes('codeartifact-repositories');
    if (packageFiles && !props.codeArtifactAssetsBucket) {
      throw new Error(
        `segment ${props.segmentName} has the codeartifact-repositories endpoint but no CodeArtifact assets bucket to admit`,
      );
    }
    const subnets = [...props.workloadSubnets];

    this.s3 = new ec2.GatewayVpcEndpoint(this, 'S3', {
      vpc: props.vpc,
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [{ subnets }],
    });
    // ECR keeps image layers in an AWS-owned bucket of the region, CodeArtifact package files in
    // another (npm downloads them; pip goes through CodeArtifact), both reached through this
    // endpoint and only for reads.
    const awsOwned = [
      `arn:${Aws.PARTITION}:s3:::prod-${Aws.REGION}-starport-layer-bucket/*`,
      ...(packageFiles ? [`arn:${Aws.PARTITION}:s3:::${props.codeArtifactAssetsBucket}/*`] : []),
    ];
    for (const statement of perimeterStatements(props.organizationId, awsOwned)) {
      this.s3.addToPolicy(statement);
    }
    // The downloads from these buckets are presigned by the services (ECR, CodeArtifact) as the
    // account that owns the bucket, not as this one: admitted when the signer owns what it reads.
    // Anyone else's credentials (an outsider's key used from inside, to write data into request
    // URIs that the outsider's trail records) are refused.
    this.s3.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AwsOwnedBucketsForTheirServices',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: awsOwned,
        conditions: { StringEquals: { 'aws:ResourceAccount': '${aws:PrincipalAccount}' } },
      }),
    );
    this.s3.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AwsOwnedBucketsReadOnly',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        notActions: ['s3:GetObject'],
        resources: awsOwned,
      }),
    );

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
      if (name === 'codeartifact-api' || name === 'codeartifact-repositories') {
        endpoint.addToPolicy(onlyTheBlueprintsDomain(props.namePrefix));
        endpoint.addToPolicy(
          new iam.PolicyStatement({
            sid: 'OnlyReadingPackages',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            notActions: [...PACKAGE_READ_ACTIONS],
            resources: ['*'],
          }),
        );
      }
      this.interfaces.set(name, endpoint);
    }
  }
}

/** What pip, npm and `aws codeartifact login` call through the CodeArtifact endpoints: reads. */
export const PACKAGE_READ_ACTIONS = [
  'codeartifact:Describe*',
  'codeartifact:Get*',
  'codeartifact:List*',
  'codeartifact:ReadFromRepository',
  'sts:GetServiceBearerToken',
] as const;

/**
 * The CodeArtifact endpoints serve the blueprint's domain and nothing else: another domain of the
 * account (one that publishes, say) is not reached through them.
 */
function onlyTheBlueprintsDomain(namePrefix: string): iam.PolicyStatement {
  const domain = packageDomainName(namePrefix);
  const arn = (resource: string, name: string) =>
    `arn:${Aws.PARTITION}:codeartifact:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}/${name}`;
  return new iam.PolicyStatement({
    sid: 'OnlyTheBlueprintsPackageDomain',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['codeartifact:*'],
    notResources: [arn('domain', domain), arn('repository', `${domain}/*`), arn('package', `${domain}/*`)],
  });
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
