import { Stack, type App, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { InterfaceEndpointName } from '../../lib/config/network-defaults';
import { privateDnsDomains, SegmentEndpoints } from '../../lib/constructs/segment-endpoints';
import { SEGMENT_KIND_PROFILES } from '../../lib/segment-kinds';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';
import { only, statements, type Resource } from '../support/template';
import { EXPECTED_ONLY_ACCOUNT_PRINCIPALS } from '../support/expected-controls';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const VPC_ID = 'vpc-0123456789abcdef0';
const WORKLOAD_A = 'subnet-0a1a1a1a1a1a1a1a1';
const WORKLOAD_B = 'subnet-0b2b2b2b2b2b2b2b2';

/** The endpoints of segment `lab` on a bare stack, for two workload subnets of an imported VPC. */
function endpointsStack(
  scope: App | Stage,
  id: string,
  interfaceEndpoints: readonly InterfaceEndpointName[],
  organizationId?: string,
) {
  const stack = new Stack(scope, id, { env: ENV });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: VPC_ID,
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    vpcCidrBlock: '10.50.0.0/16',
  });
  const subnet = (name: string, subnetId: string, zone: string, cidr: string) =>
    ec2.Subnet.fromSubnetAttributes(stack, name, {
      subnetId,
      availabilityZone: zone,
      ipv4CidrBlock: cidr,
      routeTableId: `rtb-${subnetId.slice('subnet-'.length)}`,
    });
  new SegmentEndpoints(stack, 'Endpoints', {
    segmentName: 'lab',
    vpc,
    workloadSubnets: [
      subnet('WorkloadA', WORKLOAD_A, 'eu-west-1a', '10.50.0.0/20'),
      subnet('WorkloadB', WORKLOAD_B, 'eu-west-1b', '10.50.16.0/20'),
    ],
    interfaceEndpoints,
    organizationId,
    namePrefix: 'acme',
    codeArtifactAssetsBucket: 'assets-438097961670-eu-west-1',
  });
  return stack;
}

const endpointsOf = (t: Template, type: 'Gateway' | 'Interface') =>
  Object.values(t.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: type } })).map(
    (e) => (e as Resource).Properties ?? {},
  );

/** A regional AWS service's endpoint name in eu-west-1. */
const aws = (service: string) => `com.amazonaws.eu-west-1.${service}`;

function build(scope: App | Stage) {
  // Each kind with the interface endpoints it gets by default, for this account.
  const kinds = {
    development: endpointsStack(
      scope,
      'Development',
      SEGMENT_KIND_PROFILES.development.defaultInterfaceEndpoints,
    ),
    training: endpointsStack(scope, 'Training', SEGMENT_KIND_PROFILES.training.defaultInterfaceEndpoints),
    inference: endpointsStack(scope, 'Inference', SEGMENT_KIND_PROFILES.inference.defaultInterfaceEndpoints),
    pipeline: endpointsStack(scope, 'Pipeline', SEGMENT_KIND_PROFILES.pipeline.defaultInterfaceEndpoints),
  };
  // A configured list, for an organisation.
  const organization = endpointsStack(scope, 'Organization', ['secretsmanager'], 'o-a1b2c3d4e5');
  return { kinds, organization };
}

describe('SegmentEndpoints', () => {
  const gate = gateCheck('segment-endpoints', build);
  const { kinds, organization } = build(testApp());
  const t = Object.fromEntries(
    Object.entries(kinds).map(([kind, stack]) => [kind, Template.fromStack(stack)]),
  );
  const org = Template.fromStack(organization);
  const all = [...Object.values(t), org];

  test('one S3 gateway endpoint, on the route tables of the workload subnets', () => {
    for (const template of all) {
      expect(endpointsOf(template, 'Gateway')).toEqual([
        expect.objectContaining({
          ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
          VpcId: VPC_ID,
          RouteTableIds: ['rtb-0a1a1a1a1a1a1a1a1', 'rtb-0b2b2b2b2b2b2b2b2'],
        }),
      ]);
    }
  });

  test('the interface endpoints of each kind', () => {
    const services = (template: Template) =>
      endpointsOf(template, 'Interface')
        .map((e) => e.ServiceName)
        .sort();
    const common = [aws('ecr.api'), aws('ecr.dkr'), aws('kms'), aws('logs'), aws('monitoring'), aws('sts')];
    expect(services(t.development)).toEqual(
      [
        ...common,
        aws('sagemaker.api'),
        aws('sagemaker.runtime'),
        'aws.sagemaker.eu-west-1.notebook',
        'aws.sagemaker.eu-west-1.studio',
        aws('codeartifact.api'),
        aws('codeartifact.repositories'),
      ].sort(),
    );
    expect(services(t.training)).toEqual([...common, aws('sagemaker.api'), aws('sagemaker.runtime')].sort());
    expect(services(t.inference)).toEqual(
      [...common, aws('sagemaker.api'), aws('sagemaker.runtime'), aws('execute-api')].sort(),
    );
    expect(services(t.pipeline)).toEqual([aws('kms'), aws('states')]);
    expect(services(org)).toEqual([aws('secretsmanager')]);
  });

  test('each interface endpoint sits in the workload subnets with private DNS, behind the one security group', () => {
    for (const template of all) {
      const [sgId] = only(template, 'AWS::EC2::SecurityGroup');
      for (const endpoint of endpointsOf(template, 'Interface')) {
        expect(endpoint).toMatchObject({
          VpcId: VPC_ID,
          PrivateDnsEnabled: true,
          SubnetIds: [WORKLOAD_A, WORKLOAD_B],
          SecurityGroupIds: [{ 'Fn::GetAtt': [sgId, 'GroupId'] }],
        });
      }
    }
  });

  test('the security group admits HTTPS from the workload subnets only, and sends nothing', () => {
    const [, sg] = only(t.development, 'AWS::EC2::SecurityGroup');
    expect(sg.Properties?.VpcId).toBe(VPC_ID);
    expect(sg.Properties?.SecurityGroupIngress).toEqual([
      {
        CidrIp: '10.50.0.0/20',
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        Description: 'HTTPS from workload subnet 10.50.0.0/20',
      },
      {
        CidrIp: '10.50.16.0/20',
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        Description: 'HTTPS from workload subnet 10.50.16.0/20',
      },
    ]);
    // aws-cdk-lib's placeholder for no egress at all: a rule that matches nothing.
    expect(sg.Properties?.SecurityGroupEgress).toEqual([
      expect.objectContaining({
        CidrIp: '255.255.255.255/32',
        IpProtocol: 'icmp',
        FromPort: 252,
        ToPort: 86,
      }),
    ]);
    // No rule added beside the group (an `open` endpoint would admit the whole VPC).
    for (const template of all) {
      template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
      template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    }
  });

  test("every endpoint admits only this account's principals, acting on this account's resources", () => {
    const onlyAccountPrincipals = EXPECTED_ONLY_ACCOUNT_PRINCIPALS;
    const onlyAccountResources = {
      Sid: 'OnlyAccountResources',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: '*',
      Condition: { StringNotEqualsIfExists: { 'aws:ResourceAccount': { Ref: 'AWS::AccountId' } } },
    };
    const ecrLayers = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':s3:::prod-',
          { Ref: 'AWS::Region' },
          '-starport-layer-bucket/*',
        ],
      ],
    };
    const packageFiles = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::assets-438097961670-eu-west-1/*']],
    };
    const codeArtifact = (resource: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':codeartifact:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:${resource}`,
        ],
      ],
    });
    const sortedList = (v: unknown[]) =>
      [...v].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
    for (const [kind, template] of Object.entries(t)) {
      for (const endpoint of endpointsOf(template, 'Interface')) {
        const mirrors = /codeartifact/.test(JSON.stringify(endpoint.ServiceName));
        expect(statements(endpoint.PolicyDocument)).toEqual([
          onlyAccountPrincipals,
          { ...onlyAccountResources, Resource: '*' },
          // The CodeArtifact endpoints reach the blueprint's domain alone.
          ...(mirrors
            ? [
                {
                  Sid: 'OnlyTheBlueprintsPackageDomain',
                  Effect: 'Deny',
                  Principal: { AWS: '*' },
                  Action: 'codeartifact:*',
                  NotResource: [
                    codeArtifact('domain/acme-packages'),
                    codeArtifact('repository/acme-packages/*'),
                    codeArtifact('package/acme-packages/*'),
                  ],
                },
                // And only to read: nothing is published or deleted through them, whoever may.
                {
                  Sid: 'OnlyReadingPackages',
                  Effect: 'Deny',
                  Principal: { AWS: '*' },
                  NotAction: [
                    'codeartifact:Describe*',
                    'codeartifact:Get*',
                    'codeartifact:List*',
                    'codeartifact:ReadFromRepository',
                    'sts:GetServiceBearerToken',
                  ],
                  Resource: '*',
                },
              ]
            : []),
        ]);
      }
      // S3 makes exceptions to the resource test for the AWS-owned buckets of ECR's image layers
      // and (with the CodeArtifact endpoints) CodeArtifact's package files, and only for reads.
      const awsOwned = sortedList(kind === 'development' ? [packageFiles, ecrLayers] : [ecrLayers]);
      const [s3] = endpointsOf(template, 'Gateway');
      // Resource lists compare as sets: aws-cdk-lib orders them differently per statement.
      const sorted = (v: unknown) => (Array.isArray(v) ? sortedList(v as unknown[]) : v);
      const unordered = (st: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(st).map(([k, v]) => [k, /Resource$/.test(k) ? sorted(v) : v]));
      expect(statements(s3.PolicyDocument).map(unordered)).toEqual([
        onlyAccountPrincipals,
        { ...onlyAccountResources, NotResource: awsOwned.length === 1 ? awsOwned[0] : awsOwned },
        {
          Sid: 'AwsOwnedBucketsForTheirServices',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: 's3:GetObject',
          // Signed by the bucket's own account (the service presigning its download), nobody else.
          Condition: { StringEquals: { 'aws:ResourceAccount': '${aws:PrincipalAccount}' } },
          Resource: awsOwned.length === 1 ? awsOwned[0] : awsOwned,
        },
        {
          Sid: 'AwsOwnedBucketsReadOnly',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          NotAction: 's3:GetObject',
          Resource: awsOwned.length === 1 ? awsOwned[0] : awsOwned,
        },
      ]);
    }
  });

  test('the CodeArtifact repositories endpoint needs the bucket it admits', () => {
    expect(
      () =>
        new SegmentEndpoints(new Stack(testApp(), 'NoBucket'), 'Endpoints', {
          segmentName: 'lab',
          vpc: ec2.Vpc.fromVpcAttributes(new Stack(testApp(), 'V'), 'Vpc', {
            vpcId: VPC_ID,
            availabilityZones: ['eu-west-1a'],
          }),
          workloadSubnets: [],
          interfaceEndpoints: ['codeartifact-repositories'],
          namePrefix: 'acme',
        }),
    ).toThrow(
      'segment lab has the codeartifact-repositories endpoint but no CodeArtifact assets bucket to admit',
    );
  });

  test("with an organisation, its principals and resources instead of the account's", () => {
    for (const endpoint of [...endpointsOf(org, 'Gateway'), ...endpointsOf(org, 'Interface')]) {
      const [allow, deny] = statements(endpoint.PolicyDocument);
      expect([allow.Sid, allow.Effect, allow.Condition]).toEqual([
        'OnlyOrganizationPrincipals',
        'Allow',
        { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
      ]);
      expect([deny.Sid, deny.Effect, deny.Condition]).toEqual([
        'OnlyOrganizationResources',
        'Deny',
        { StringNotEqualsIfExists: { 'aws:ResourceOrgID': 'o-a1b2c3d4e5' } },
      ]);
    }
  });

  test("names Studio's and notebooks' private DNS names, which answer outside amazonaws.com", () => {
    expect(
      privateDnsDomains(['sagemaker-api', 'sagemaker-studio', 'kms', 'sagemaker-notebook'], 'eu-west-1'),
    ).toEqual(['*.studio.eu-west-1.sagemaker.aws', '*.notebook.eu-west-1.sagemaker.aws']);
    expect(privateDnsDomains(['sagemaker-api', 'sagemaker-runtime', 'execute-api'], 'eu-west-1')).toEqual([]);
  });

  test('passes the gate', () => {
    expect(
      gate
        .unacknowledged()
        .filter((f) => / at (Development|Training|Inference|Pipeline|Organization)\/Endpoints(\/|$)/.test(f)),
    ).toEqual([]);
  });
});
