/**
 * A scoped CDK bootstrap for the blueprint: the CDK CLI's own bootstrap template, changed in two
 * places. The roles people deploy through (deploy, publishing, look-up) trust only the named
 * deployers (the platform admin role, and any pipeline role the caller adds), not every principal
 * of the account; and CloudFormation's execution role holds a policy made from the blueprint's
 * templates instead of `AdministratorAccess`: every action of the services the templates use, IAM
 * and S3 only on the blueprint's own names, every role created with the blueprint's permission
 * boundary.
 */
import { boundaryPolicyName, type BOOTSTRAP_ROLES } from '../../contract/bootstrap';

/** A CloudFormation template, as parsed from JSON or YAML. */
export interface CfnTemplate {
  Parameters?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown }>;
  [key: string]: unknown;
}

/**
 * The IAM service prefixes each CloudFormation resource namespace of the blueprint needs at
 * deploy time. IAM and S3 are left out: the execution policy grants them on the blueprint's names
 * only. A namespace the templates use and this table lacks is an error, not a silent gap.
 */
export const DEPLOY_SERVICES: Readonly<Record<string, readonly string[]>> = {
  'AWS::AccessAnalyzer': ['access-analyzer'],
  'AWS::ApiGateway': ['apigateway'],
  'AWS::CloudTrail': ['cloudtrail'],
  'AWS::CloudWatch': ['cloudwatch'],
  'AWS::CodeArtifact': ['codeartifact'],
  'AWS::Config': ['config'],
  'AWS::DynamoDB': ['dynamodb'],
  'AWS::EC2': ['ec2'],
  'AWS::ECR': ['ecr'],
  'AWS::Events': ['events'],
  'AWS::GuardDuty': ['guardduty'],
  'AWS::IAM': [],
  'AWS::KMS': ['kms'],
  // Custom resources run as Lambda functions CloudFormation invokes.
  'AWS::Lambda': ['lambda'],
  'AWS::Logs': ['logs'],
  'AWS::NetworkFirewall': ['network-firewall'],
  'AWS::Route53Resolver': ['route53resolver'],
  'AWS::S3': [],
  // A Studio domain's home directories are an EFS file system SageMaker creates as the caller.
  'AWS::SageMaker': ['sagemaker', 'elasticfilesystem'],
  'AWS::SecurityHub': ['securityhub'],
  'AWS::Signer': ['signer'],
  'AWS::SNS': ['sns'],
  'AWS::SQS': ['sqs'],
  'AWS::SSM': ['ssm'],
  'AWS::StepFunctions': ['states'],
  'AWS::WAFv2': ['wafv2'],
};

/** The service prefixes the templates need, sorted; throws on a resource namespace the table lacks. */
export function deployServices(templates: readonly CfnTemplate[]): string[] {
  const services = new Set<string>();
  const unknown = new Set<string>();
  for (const template of templates) {
    for (const resource of Object.values(template.Resources ?? {})) {
      if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource') {
        services.add('lambda');
        continue;
      }
      if (resource.Type === 'AWS::CDK::Metadata') continue;
      const namespace = resource.Type.split('::').slice(0, 2).join('::');
      const prefixes = DEPLOY_SERVICES[namespace];
      if (prefixes === undefined) unknown.add(namespace);
      else for (const p of prefixes) services.add(p);
    }
  }
  if (unknown.size > 0) {
    throw new Error(
      `the templates use ${[...unknown].sort().join(', ')}, which the scoped execution policy does not cover: add each to DEPLOY_SERVICES in lib/tools/bootstrap/scoped.ts with the IAM service prefixes it needs at deploy time`,
    );
  }
  return [...services].sort();
}

const sub = (text: string) => ({ 'Fn::Sub': text });

/** The execution policy of CloudFormation for the blueprint of `namePrefix`. */
export function executionPolicy(namePrefix: string, services: readonly string[]): Record<string, unknown> {
  const iamArn = (path: string) => sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:${path}`);
  const boundary = iamArn(`policy/${boundaryPolicyName(namePrefix)}`);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'TheServicesOfTheBlueprint',
        Effect: 'Allow',
        Action: services.map((s) => `${s}:*`),
        Resource: '*',
      },
      {
        Sid: 'TheBucketsOfTheBlueprint',
        Effect: 'Allow',
        Action: 's3:*',
        Resource: [
          sub(`arn:\${AWS::Partition}:s3:::${namePrefix}-*`),
          sub(`arn:\${AWS::Partition}:s3:::${namePrefix}-*/*`),
        ],
      },
      {
        Sid: 'ReadTheStagedAssets',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetBucketLocation', 's3:ListBucket'],
        Resource: [
          sub('arn:${AWS::Partition}:s3:::cdk-${Qualifier}-assets-${AWS::AccountId}-${AWS::Region}'),
          sub('arn:${AWS::Partition}:s3:::cdk-${Qualifier}-assets-${AWS::AccountId}-${AWS::Region}/*'),
        ],
      },
      {
        Sid: 'TheRolesAndPoliciesOfTheBlueprint',
        Effect: 'Allow',
        Action: 'iam:*',
        Resource: [iamArn(`role/${namePrefix}-*`), iamArn(`policy/${namePrefix}-*`)],
      },
      {
        // Created for a service, and passed to it (AWS Config's recorder names its own); only
        // their service may assume them.
        Sid: 'ServiceLinkedRoles',
        Effect: 'Allow',
        Action: ['iam:CreateServiceLinkedRole', 'iam:PassRole'],
        Resource: iamArn('role/aws-service-role/*'),
      },
      {
        // Every template's BootstrapVersion parameter, which CloudFormation reads as this role.
        Sid: 'ReadTheBootstrapVersion',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:GetParameters'],
        Resource: sub(
          'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/cdk-bootstrap/${Qualifier}/version',
        ),
      },
      {
        Sid: 'ReadIamAndTheStacks',
        Effect: 'Allow',
        Action: [
          'iam:GetRole',
          'iam:GetPolicy',
          'iam:ListRoles',
          'cloudformation:DescribeStacks',
          'sts:GetCallerIdentity',
        ],
        Resource: '*',
      },
      {
        Sid: 'EveryRoleWithTheBlueprintsBoundary',
        Effect: 'Deny',
        Action: ['iam:CreateRole', 'iam:PutRolePermissionsBoundary'],
        Resource: '*',
        Condition: { StringNotEquals: { 'iam:PermissionsBoundary': boundary } },
      },
      {
        // The blueprint attaches only its own managed policies: not AdministratorAccess to a role of its name.
        Sid: 'OnlyTheBlueprintsManagedPolicies',
        Effect: 'Deny',
        Action: ['iam:AttachRolePolicy', 'iam:AttachUserPolicy', 'iam:AttachGroupPolicy'],
        Resource: '*',
        Condition: {
          ArnNotLike: {
            'iam:PolicyARN': [iamArn(`policy/${namePrefix}-*`), ...AWS_MANAGED_POLICIES.map(awsManaged)],
          },
        },
      },
      {
        Sid: 'NoRoleLosesTheBoundary',
        Effect: 'Deny',
        Action: 'iam:DeleteRolePermissionsBoundary',
        Resource: '*',
      },
      {
        Sid: 'NoPeopleOrLongLivedCredentials',
        Effect: 'Deny',
        Action: [
          'iam:CreateUser',
          'iam:CreateAccessKey',
          'iam:CreateLoginProfile',
          'iam:UpdateLoginProfile',
          'iam:CreateGroup',
          'iam:AddUserToGroup',
          'iam:CreateOpenIDConnectProvider',
          'iam:CreateSAMLProvider',
        ],
        Resource: '*',
      },
    ],
  };
}

export interface ScopedBootstrapOptions {
  /** The blueprint's name prefix (`namePrefix` of its config). */
  readonly namePrefix: string;
  /** The service prefixes the execution policy grants (from {@link deployServices}). */
  readonly services: readonly string[];
  /** Role ARNs besides the platform admin role that may deploy (a pipeline's role). */
  readonly deployers?: readonly string[];
}

/**
 * The AWS managed policies the blueprint's templates attach: aws-cdk-lib's own handler roles (the
 * custom resource that empties a VPC's default security group) take Lambda's basic execution
 * policy, which writes only their logs. A test checks every `ManagedPolicyArns` of both
 * blueprints against this list.
 */
export const AWS_MANAGED_POLICIES = ['service-role/AWSLambdaBasicExecutionRole'] as const;

const awsManaged = (name: string) => sub(`arn:\${AWS::Partition}:iam::aws:policy/${name}`);

/** The logical ids of the bootstrap template's roles that people assume, by the role they are. */
const ASSUMED_ROLES: Record<(typeof BOOTSTRAP_ROLES)[number], string> = {
  deploy: 'DeploymentActionRole',
  'file-publishing': 'FilePublishingRole',
  'image-publishing': 'ImagePublishingRole',
  lookup: 'LookupRole',
};

/** The CDK CLI's bootstrap template, scoped for the blueprint (a new object; `base` is untouched). */
export function scopedBootstrapTemplate(base: CfnTemplate, options: ScopedBootstrapOptions): CfnTemplate {
  const template = JSON.parse(JSON.stringify(base)) as CfnTemplate;
  const resources = template.Resources;
  const deployers = {
    ArnEquals: {
      'aws:PrincipalArn': [
        sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${options.namePrefix}-platform-admin`),
        ...(options.deployers ?? []),
      ],
    },
  };
  for (const id of Object.values(ASSUMED_ROLES)) {
    const role = resources[id];
    if (role?.Type !== 'AWS::IAM::Role') {
      throw new Error(`the bootstrap template has no role ${id}: it is not the CDK CLI's bootstrap template`);
    }
    role.Properties = {
      ...role.Properties,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OnlyTheBlueprintsDeployers',
            Effect: 'Allow',
            Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'],
            Principal: { AWS: { Ref: 'AWS::AccountId' } },
            // As in the CLI's template: with DenyExternalId (its default), no session that names an
            // external id, so a third party's role cannot be steered into these.
            Condition: {
              'Fn::If': [
                'ShouldDenyExternalId',
                { ...deployers, Null: { 'sts:ExternalId': 'true' } },
                deployers,
              ],
            },
          },
        ],
      },
    };
  }
  const exec = resources.CloudFormationExecutionRole;
  if (exec?.Type !== 'AWS::IAM::Role') {
    throw new Error(
      "the bootstrap template has no role CloudFormationExecutionRole: it is not the CDK CLI's bootstrap template",
    );
  }
  resources.BlueprintExecutionPolicy = {
    Type: 'AWS::IAM::ManagedPolicy',
    Properties: {
      ManagedPolicyName: sub(`cdk-\${Qualifier}-${options.namePrefix}-execution-\${AWS::Region}`),
      Description: `What CloudFormation may do for the blueprint ${options.namePrefix}: its services, its own buckets, roles and policies, every role with its boundary`,
      PolicyDocument: executionPolicy(options.namePrefix, options.services),
    },
  };
  exec.Properties = { ...exec.Properties, ManagedPolicyArns: [{ Ref: 'BlueprintExecutionPolicy' }] };
  // A variant of its own: a later plain `cdk bootstrap` does not silently put the CLI's back.
  const variant = template.Parameters?.BootstrapVariant as { Default?: unknown } | undefined;
  if (variant) variant.Default = `AI Segmentation Blueprint: scoped for ${options.namePrefix}`;
  template.Description = `${typeof template.Description === 'string' ? template.Description : 'CDK bootstrap'} (scoped for the blueprint ${options.namePrefix})`;
  return template;
}
