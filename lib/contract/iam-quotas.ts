/**
 * IAM's size quotas, in characters of the policy JSON with white space not counted (IAM and AWS
 * STS quotas, "IAM object quotas"): a managed policy 6,144; all inline policies of a role together
 * 10,240; a role trust policy 2,048 by default (a quota an account may raise to 4,096); and 10
 * managed policies attached to a role. A policy over its quota is refused when CloudFormation
 * creates, updates or attaches it.
 */
export const IAM_POLICY_QUOTAS = {
  managed: 6_144,
  inlinePerRole: 10_240,
  trust: 2_048,
  /** Not characters: the managed policies attached to one role (10 by default, 20 at most). */
  managedPerRole: 10,
} as const;

/**
 * What a value counts as when its length is not bounded by what the templates say (the deploy
 * alone knows it): more than the ARN of any resource the blueprint names.
 */
export const UNBOUNDED_VALUE_LENGTH = 256;

/** The longest value each pseudo parameter takes, in any partition (`aws-us-gov`, `amazonaws.com.cn`). */
export const PSEUDO_PARAMETER_LENGTH: Readonly<Record<string, number>> = {
  'AWS::AccountId': 12,
  'AWS::Region': 14,
  'AWS::Partition': 10,
  'AWS::URLSuffix': 16,
};

/**
 * The longest physical id CloudFormation gives a resource of this type (its `Ref`), where AWS fixes
 * its form (`subnet-` and 17 hexadecimal digits; a key id is a UUID, or `mrk-` and 32 digits).
 */
const ID_LENGTH: Readonly<Record<string, number>> = {
  'AWS::EC2::Subnet': 24,
  'AWS::EC2::VPC': 21,
  'AWS::EC2::SecurityGroup': 20,
  'AWS::EC2::RouteTable': 22,
  'AWS::EC2::VPCEndpoint': 22,
  'AWS::KMS::Key': 36,
};

/** The longest value of an attribute whose form AWS fixes (`sg-` and 17 digits; a domain's `d-` and 12). */
const ATTRIBUTE_LENGTH: Readonly<Record<string, number>> = {
  'AWS::EC2::SecurityGroup.GroupId': 20,
  'AWS::EC2::VPC.DefaultSecurityGroup': 20,
  'AWS::SageMaker::Domain.DomainId': 14,
};

/** A reference to a resource: its `Ref` (attribute `Ref`) or an attribute (`Arn`, ...). */
export interface ResourceReference {
  readonly type: string;
  readonly stackName: string;
  readonly logicalId: string;
  readonly attribute: string;
}

/**
 * A generated name: CloudFormation builds it from the stack name, the logical id and a random
 * suffix (13 characters), within the type's own limit (63 for a bucket).
 */
function generatedNameLength({ type, stackName, logicalId }: ResourceReference): number {
  const full = stackName.length + 1 + logicalId.length + 1 + 13;
  return type === 'AWS::S3::Bucket' ? Math.min(full, 63) : full;
}

/**
 * The longest value a reference resolves to, or undefined where the type's form is not known: a
 * `Ref` is the physical id (a fixed form or a generated name), an `Arn`
 * `arn:PARTITION:SERVICE:REGION:ACCOUNT:KIND/NAME` with the service and kind from the type's name
 * (a bound for the ARN forms AWS uses: `key/<id>`, `table/<name>`, `<name>` alone), a log group's
 * its own form.
 */
export function referenceLength(ref: ResourceReference): number | undefined {
  const name = ID_LENGTH[ref.type] ?? generatedNameLength(ref);
  if (ref.attribute === 'Ref') return name;
  const fixed = ATTRIBUTE_LENGTH[`${ref.type}.${ref.attribute}`];
  if (fixed !== undefined) return fixed;
  if (ref.attribute !== 'Arn') return undefined;
  const p = PSEUDO_PARAMETER_LENGTH;
  // A log group's ARN ends in `:*` (its streams): `arn:P:logs:R:A:log-group:NAME:*`.
  if (ref.type === 'AWS::Logs::LogGroup') {
    return (
      'arn::logs:::log-group::*'.length + p['AWS::Partition'] + p['AWS::Region'] + p['AWS::AccountId'] + name
    );
  }
  const [, service, kind] = ref.type.toLowerCase().split('::');
  return (
    'arn:::::/'.length +
    p['AWS::Partition'] +
    service.length +
    p['AWS::Region'] +
    p['AWS::AccountId'] +
    kind.length +
    name
  );
}
