import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { IMAGE_CACHES, imageCachePrefix, PACKAGE_REPOSITORIES, packageDomainName } from '../mirrors';
import { roleArn } from '../names';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * Statements that several roles of the blueprint hold, each with its sid. They name resources by
 * the stack's partition, region and account; the roles add them to their managed policy.
 */

/**
 * A statement on `*` for actions that have no resource to name (List, Describe, tokens). Its sid
 * starts with `Unscoped` so that the gate acknowledgement and the tests can find it.
 */
export function unscoped(
  purpose: string,
  actions: string[],
  conditions?: Record<string, Record<string, unknown>>,
): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid: `Unscoped${purpose}`, actions, resources: ['*'], conditions });
}

/** The ARN of SageMaker resources of this account and region (`name` may hold wildcards). */
export function sagemakerArn(scope: Construct, resource: string, name: string): string {
  return Stack.of(scope).formatArn({ service: 'sagemaker', resource, resourceName: name });
}

/**
 * Network interfaces for work in a VPC, in the given VPCs only (ARNs). The Allow has to be on `*`:
 * Lambda and SageMaker check the role's right to create interfaces before naming a subnet. The
 * Deny then refuses every interface action on an interface, subnet or security group of any other
 * VPC (EC2 puts `ec2:Vpc` into each), so that the role's credentials cannot open an interface, or
 * hand one to another account, in a VPC with another way out.
 */
export function networkInterfaces(vpcArns: readonly string[]): iam.PolicyStatement[] {
  return [
    unscoped('NetworkInterfacesInTheSegment', [
      'ec2:CreateNetworkInterface',
      'ec2:CreateNetworkInterfacePermission',
      'ec2:DeleteNetworkInterface',
      'ec2:DeleteNetworkInterfacePermission',
      'ec2:DescribeDhcpOptions',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeSubnets',
      'ec2:DescribeVpcs',
    ]),
    new iam.PolicyStatement({
      sid: 'NoNetworkInterfaceOutsideTheSegment',
      effect: iam.Effect.DENY,
      actions: [...NETWORK_INTERFACE_CHANGES],
      resources: [
        'arn:*:ec2:*:*:network-interface/*',
        'arn:*:ec2:*:*:subnet/*',
        'arn:*:ec2:*:*:security-group/*',
      ],
      conditions: {
        Null: { 'ec2:Vpc': 'false' },
        ArnNotEquals: { 'ec2:Vpc': [...vpcArns] },
      },
    }),
  ];
}

/** The EC2 actions that create, hand over (or take back), delete or re-address a network interface. */
const NETWORK_INTERFACE_CHANGES = [
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:CreateNetworkInterfacePermission',
  'ec2:DeleteNetworkInterface',
  'ec2:DeleteNetworkInterfacePermission',
  'ec2:UnassignPrivateIpAddresses',
] as const;

/** Lambda in a VPC also moves private addresses between its interfaces. */
function functionNetworkAddresses(scope: Construct): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'FunctionNetworkAddresses',
    actions: ['ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
    resources: [
      Stack.of(scope).formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' }),
    ],
  });
}

/** Writing a function's own log group, which exists already (the audit stack's); none without one. */
export function functionLogs(group: logs.ILogGroup | undefined): iam.PolicyStatement[] {
  if (!group) return [];
  return [
    new iam.PolicyStatement({
      sid: 'WriteItsFunctionsLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      // The group's ARN ends in `:*`, which covers its log streams.
      resources: [group.logGroupArn],
    }),
  ];
}

/** Reading the blueprint's stacks and templates (never changing them). */
export function readBlueprintStacks(scope: Construct, namePrefix: string, sid: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: [
      'cloudformation:DescribeStacks',
      'cloudformation:DescribeStackResources',
      'cloudformation:GetTemplate',
      'cloudformation:ListStackResources',
    ],
    resources: [
      Stack.of(scope).formatArn({
        service: 'cloudformation',
        resource: 'stack',
        resourceName: `${namePrefix}-*/*`,
      }),
    ],
  });
}

/** Passing the named SageMaker execution roles, to SageMaker only. */
export function passSageMakerRoles(scope: Construct, roleNames: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'PassOnlyTheSegmentsExecutionRoles',
    actions: ['iam:PassRole'],
    resources: roleNames.map((name) => roleArn(scope, name)),
    conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
  });
}

/** Where SageMaker work of a segment runs: its workload subnets and security group (a SegmentVpc has both). */
export interface WorkloadPlacement {
  readonly workloadSubnets: readonly ec2.ISubnet[];
  readonly workloadSecurityGroup: ec2.ISecurityGroup;
}

/**
 * Conditions that pin SageMaker work to the workload subnets and security group of the given
 * segments, network-isolated and (for jobs) with encrypted traffic between containers. The keys
 * must be present: a request without them is refused.
 */
export function sageMakerVpcGuardrail(
  vpcs: readonly WorkloadPlacement[],
  options: { isolation: boolean; interContainerEncryption?: boolean },
): Record<string, Record<string, unknown>> {
  return {
    'ForAllValues:StringEquals': {
      'sagemaker:VpcSubnets': vpcs.flatMap((v) => v.workloadSubnets.map((s) => s.subnetId)),
      'sagemaker:VpcSecurityGroupIds': vpcs.map((v) => v.workloadSecurityGroup.securityGroupId),
    },
    Null: { 'sagemaker:VpcSubnets': 'false', 'sagemaker:VpcSecurityGroupIds': 'false' },
    Bool: {
      'sagemaker:NetworkIsolation': String(options.isolation),
      ...(options.interContainerEncryption ? { 'sagemaker:InterContainerTrafficEncryption': 'true' } : {}),
    },
  };
}

/** A function in a segment VPC (by ARN): its interfaces and their addresses, in that VPC only. */
export function functionInAVpc(scope: Construct, vpcArn: string): iam.PolicyStatement[] {
  return [...networkInterfaces([vpcArn]), functionNetworkAddresses(scope)];
}

/** The ARN of SageMaker's own log groups (`/aws/sagemaker/*`). */
export function sageMakerLogGroups(scope: Construct): string {
  return Stack.of(scope).formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: '/aws/sagemaker/*',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * Reading packages from the blueprint's CodeArtifact domain: a token for the domain (which
 * CodeArtifact issues through an STS bearer token), and the PyPI and npm repositories' endpoints
 * and packages. Nothing to publish, and no other domain.
 */
export function readPackages(scope: Construct, namePrefix: string): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const domain = packageDomainName(namePrefix);
  return [
    new iam.PolicyStatement({
      sid: 'PackageMirrorToken',
      actions: ['codeartifact:GetAuthorizationToken'],
      resources: [stack.formatArn({ service: 'codeartifact', resource: 'domain', resourceName: domain })],
    }),
    new iam.PolicyStatement({
      sid: 'ReadThePackageMirrors',
      actions: ['codeartifact:GetRepositoryEndpoint', 'codeartifact:ReadFromRepository'],
      resources: PACKAGE_REPOSITORIES.map((r) =>
        stack.formatArn({
          service: 'codeartifact',
          resource: 'repository',
          resourceName: `${domain}/${r.name}`,
        }),
      ),
    }),
    unscoped('PackageMirrorBearerToken', ['sts:GetServiceBearerToken'], {
      StringEquals: { 'sts:AWSServiceName': 'codeartifact.amazonaws.com' },
    }),
  ];
}

/** The repositories of the image caches (each cache's prefix and what is under it). */
export function imageCacheRepositories(scope: Construct, namePrefix: string): string[] {
  return IMAGE_CACHES.map((cache) =>
    Stack.of(scope).formatArn({
      service: 'ecr',
      resource: 'repository',
      resourceName: `${imageCachePrefix(namePrefix, cache)}/*`,
    }),
  );
}

/** The actions Step Functions needs to deliver a state machine's logs to CloudWatch Logs. */
export const WORKFLOW_LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
];

/** The actions of active tracing by Step Functions. */
export const WORKFLOW_TRACING_ACTIONS = [
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];
