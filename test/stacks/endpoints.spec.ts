import { Match, Template } from 'aws-cdk-lib/assertions';
import { SEGMENT_KIND_PROFILES } from '../../lib/segment-kinds';
import { DEFAULT_SEGMENTS } from '../../lib/config/schema';
import { ENDPOINT_SERVICES } from '../../lib/constructs/segment-endpoints';
import { defaultTemplate } from '../support/default-app';
import { synthBlueprint } from '../support/synth';
import { only, statements, type Resource } from '../support/template';
import { EXPECTED_ONLY_ACCOUNT_PRINCIPALS } from '../support/expected-controls';

const WORKLOAD = { Tags: Match.arrayWith([{ Key: 'ai-segmentation:subnet-tier', Value: 'workload' }]) };

/** `com.amazonaws.${AWS::Region}.sagemaker.api` -> `sagemaker.api` */
const serviceOf = (endpoint: Resource) =>
  (
    (endpoint.Properties?.ServiceName as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1) as string
  ).replace(/^\./, '');
const expectedService = (name: keyof typeof ENDPOINT_SERVICES) =>
  ENDPOINT_SERVICES[name].shortName.replace(/^\./, '');

describe.each(DEFAULT_SEGMENTS.map((s) => [s.name, s.kind] as const))('segment %s (%s)', (name, kind) => {
  const template = defaultTemplate(`Network-${name}`);
  const endpoints = template.findResources('AWS::EC2::VPCEndpoint') as Record<string, Resource>;
  const interfaces = Object.values(endpoints).filter((e) => e.Properties?.VpcEndpointType === 'Interface');
  const workloadSubnets = Object.keys(template.findResources('AWS::EC2::Subnet', { Properties: WORKLOAD }));
  const [sgId, sg] = only(template, 'AWS::EC2::SecurityGroup', {
    GroupDescription: Match.stringLikeRegexp('^Interface endpoints'),
  });

  test('an S3 gateway endpoint on the workload route tables', () => {
    const [, s3] = only(template, 'AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    expect(serviceOf(s3)).toBe('s3');
    const tables = Object.values(template.findResources('AWS::EC2::SubnetRouteTableAssociation'))
      .map((a) => (a as Resource).Properties as { SubnetId: { Ref: string }; RouteTableId: unknown })
      .filter((a) => workloadSubnets.includes(a.SubnetId.Ref))
      .map((a) => a.RouteTableId);
    expect(s3.Properties?.RouteTableIds).toEqual(tables);
  });

  test(`the interface endpoints a ${kind} segment needs, in the workload subnets, with private DNS`, () => {
    expect(interfaces.map(serviceOf).sort()).toEqual(
      SEGMENT_KIND_PROFILES[kind].defaultInterfaceEndpoints.map(expectedService).sort(),
    );
    for (const endpoint of interfaces) {
      expect(endpoint.Properties).toMatchObject({
        PrivateDnsEnabled: true,
        SecurityGroupIds: [{ 'Fn::GetAtt': [sgId, 'GroupId'] }],
        SubnetIds: workloadSubnets.map((id) => ({ Ref: id })),
      });
    }
  });

  test('every endpoint admits only this account, acting on its own resources', () => {
    for (const endpoint of Object.values(endpoints)) {
      const [allow, deny] = statements(endpoint.Properties?.PolicyDocument);
      expect(allow).toEqual(EXPECTED_ONLY_ACCOUNT_PRINCIPALS);
      expect(deny).toMatchObject({
        Sid: 'OnlyAccountResources',
        Effect: 'Deny',
        Action: '*',
        Condition: { StringNotEqualsIfExists: { 'aws:ResourceAccount': { Ref: 'AWS::AccountId' } } },
      });
      // Only S3 makes an exception: ECR's image layers live in an AWS-owned bucket.
      if (endpoint.Properties?.VpcEndpointType === 'Gateway') {
        expect(JSON.stringify(deny.NotResource)).toContain('-starport-layer-bucket/*');
        expect(deny.Resource).toBeUndefined();
      } else {
        expect(deny.Resource).toBe('*');
      }
    }
  });

  test('the endpoint security group admits HTTPS from the workload subnets only, and sends nothing', () => {
    const cidrs = workloadSubnets.map(
      (id) =>
        (template.toJSON() as { Resources: Record<string, Resource> }).Resources[id].Properties?.CidrBlock,
    );
    expect(sg.Properties?.SecurityGroupIngress).toEqual(
      cidrs.map((cidr): unknown =>
        expect.objectContaining({ CidrIp: cidr, IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      ),
    );
    // aws-cdk-lib's placeholder for "no egress": a rule matching nothing.
    expect(sg.Properties?.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '255.255.255.255/32', IpProtocol: 'icmp' }),
    ]);
  });
});

describe('configured endpoints and organisation', () => {
  const { blueprint } = synthBlueprint({
    config: {
      organizationId: 'o-a1b2c3d4e5',
      segments: [
        {
          name: 'serve',
          kind: 'inference',
          vpcCidr: '10.50.0.0/16',
          interfaceEndpoints: ['execute-api', 'sts'],
        },
      ],
    },
  });
  const template = Template.fromStack(blueprint.networks.get('serve')!);
  const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')) as Resource[];

  test('the configured list replaces the kind default', () => {
    expect(
      endpoints
        .filter((e) => e.Properties?.VpcEndpointType === 'Interface')
        .map(serviceOf)
        .sort(),
    ).toEqual(['execute-api', 'sts']);
  });

  test('policies admit the organisation instead of the account', () => {
    for (const endpoint of endpoints) {
      const [allow, deny] = statements(endpoint.Properties?.PolicyDocument);
      expect(allow.Condition).toEqual({ StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } });
      expect(deny.Condition).toEqual({ StringNotEqualsIfExists: { 'aws:ResourceOrgID': 'o-a1b2c3d4e5' } });
    }
  });
});
