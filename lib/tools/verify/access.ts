import {
  DATA_CLASSIFICATION_TAG,
  DATA_CLASSIFICATIONS,
  ROLE_TYPES,
  type DataClassification,
  type DataZone,
} from '../../contract/classification';
import { STATEFUL_RESOURCE_TYPES } from '../../contract/stateful-types';
import { DATA_ZONE_TAG, ROLE_TAG, ROLE_TYPE_TAG } from '../../contract/tags';
import type { Assembly, CfnResource, StackTemplate } from './assembly';
import type { Evidence, Violation } from './invariants';
import { actionMatches, list, matches, strings, type Statement } from './policy';
import { allResources, ofType, tagsOf, type LocatedResource, type Resolver } from './resolve';

/** Classes of data about people: only the raw readers may read them in the raw zone. */
const PERSONAL: readonly string[] = ['phi', 'pii'] satisfies DataClassification[];
const RAW_ZONE: DataZone = 'raw';
const QUARANTINE_ZONE: DataZone = 'quarantine';
/** Roles that may read raw phi/pii. */
const RAW_READERS = new Set(['pseudonymization', 'break-glass']);
/** Actions that name no resource: a `*` resource is the only way to grant them. */
const RESOURCELESS =
  /^(ec2:Describe\w+|ec2:(Create|Delete)NetworkInterface(Permission)?|ecr:GetAuthorizationToken|cloudwatch:PutMetricData|cloudtrail:(DescribeTrails|LookupEvents)|config:\w+|logs:(DescribeLogGroups|GetQueryResults)|sagemaker:List\w+|xray:(PutTraceSegments|PutTelemetryRecords)|[a-z0-9-]+:List\w+)$/;
const SAGEMAKER_CREATE = new Set([
  'sagemaker:CreateTrainingJob',
  'sagemaker:CreateProcessingJob',
  'sagemaker:CreateModel',
]);

interface Role {
  readonly stack: string;
  readonly id: string;
  readonly template: StackTemplate;
  readonly resource: CfnResource;
  /** The role's inline policies; `statements` adds the managed policies attached to it. */
  readonly inline: Statement[];
  readonly arn: string;
  readonly name: string;
  readonly tags: Record<string, string>;
  readonly statements: Statement[];
}

export interface AccessMatrix {
  /** Data zones (bucket names) with their classification. */
  readonly zones: { name: string; classification: string }[];
  /** Per role name: per zone, R, W, RW or '-'. */
  readonly rows: Record<string, Record<string, string>>;
}

export interface AccessResult {
  readonly access: AccessMatrix;
  readonly violations: Violation[];
  readonly evidence: Evidence[];
}

export function analyzeAccess(assembly: Assembly, r: Resolver): AccessResult {
  const violations: Violation[] = [];
  const evidence: Evidence[] = [];
  const resources = allResources(assembly);
  const resolvedDoc = (doc: unknown, stack: StackTemplate) =>
    list((r.resolve(doc, stack) as { Statement?: unknown } | undefined)?.Statement) as Statement[];

  // ---- identities ----
  const boundaries = new Set<string>();
  const roles: Role[] = ofType(resources, 'AWS::IAM::Role').map(({ stack, id, resource }) => {
    const p = resource.Properties ?? {};
    const name = p.RoleName !== undefined ? String(r.resolve(p.RoleName, stack)) : `${stack.id}/${id}`;
    const inline = list(p.Policies).flatMap((x) =>
      resolvedDoc((x as { PolicyDocument: unknown }).PolicyDocument, stack),
    );
    if (p.PermissionsBoundary) boundaries.add(String(r.resolve(p.PermissionsBoundary, stack)));
    return {
      stack: stack.id,
      id,
      template: stack,
      resource,
      inline,
      arn: String(r.resolve({ 'Fn::GetAtt': [id, 'Arn'] }, stack)),
      name,
      tags: tagsOf(resource),
      statements: [...inline],
    };
  });
  const roleByRef = new Map(roles.map((role) => [`ref|${role.stack}/${role.id}`, role]));
  for (const { stack, id, resource } of resources) {
    if (resource.Type !== 'AWS::IAM::ManagedPolicy' && resource.Type !== 'AWS::IAM::Policy') continue;
    const statements = resolvedDoc(resource.Properties?.PolicyDocument, stack);
    const attached = list(r.resolve(resource.Properties?.Roles, stack)).map((ref) =>
      roleByRef.get(String(ref)),
    );
    const name = resource.Properties?.ManagedPolicyName;
    const isBoundary =
      attached.length === 0 &&
      name !== undefined &&
      [...boundaries].some((b) => b.endsWith(`:policy/${String(r.resolve(name, stack))}`));
    for (const role of attached) role?.statements.push(...statements);
    if (isBoundary) {
      evidence.push({ invariant: 7, stack: stack.id, logicalId: id, type: resource.Type });
      continue;
    }
    checkStatements(statements, stack.id, id, violations, evidence);
  }
  for (const role of roles) {
    checkStatements(role.inline, role.stack, role.id, violations, evidence);
    checkRole(role, r, violations, evidence);
  }

  // ---- data stores ----
  const keys = new Map(ofType(resources, 'AWS::KMS::Key').map((x) => [`${x.stack.id}/${x.id}`, x]));
  for (const [key, { stack, id, resource }] of keys) {
    // MAC and asymmetric keys encrypt no data store (S3, SQS and logs take symmetric keys only),
    // and KMS rotates symmetric encryption keys only.
    const spec = (resource.Properties?.KeySpec as string | undefined) ?? 'SYMMETRIC_DEFAULT';
    if (spec !== 'SYMMETRIC_DEFAULT') {
      evidence.push({ invariant: 5, stack: stack.id, logicalId: id, type: resource.Type });
    } else if (resource.Properties?.EnableKeyRotation !== true) {
      violations.push({
        invariant: 5,
        stack: stack.id,
        logicalId: id,
        detail: `KMS key ${key} does not rotate`,
      });
    } else {
      evidence.push({ invariant: 5, stack: stack.id, logicalId: id, type: resource.Type });
    }
  }
  const bucketPolicies = new Map<string, Statement[]>();
  for (const { stack, resource } of ofType(resources, 'AWS::S3::BucketPolicy')) {
    const bucket = String(r.resolve(resource.Properties?.Bucket, stack));
    bucketPolicies.set(bucket, resolvedDoc(resource.Properties?.PolicyDocument, stack));
  }
  const zones: AccessMatrix['zones'] = [];
  const rows: AccessMatrix['rows'] = Object.fromEntries(roles.map((role) => [role.name, {}]));
  // Buckets that receive another bucket's server access logs (the verifier judges them as such).
  const logDestinations = new Set(
    ofType(resources, 'AWS::S3::Bucket').flatMap(({ stack, resource }) => {
      const logging = resource.Properties?.LoggingConfiguration as
        { DestinationBucketName?: unknown } | undefined;
      return logging?.DestinationBucketName === undefined
        ? []
        : [String(r.resolve(logging.DestinationBucketName, stack))];
    }),
  );
  for (const { stack, id, resource } of resources) {
    const where = { stack: stack.id, logicalId: id };
    const p = resource.Properties ?? {};
    if (STATEFUL_RESOURCE_TYPES.has(resource.Type)) {
      const classification = tagsOf(resource)[DATA_CLASSIFICATION_TAG];
      if (!(DATA_CLASSIFICATIONS as readonly string[]).includes(classification ?? '')) {
        violations.push({
          invariant: 6,
          ...where,
          detail: `${resource.Type} has no ${DATA_CLASSIFICATION_TAG} tag from ${DATA_CLASSIFICATIONS.join('/')}`,
        });
      }
      // RetainExceptOnCreate deletes only what a failed create made, which can hold nothing yet.
      const retainedOnDelete = ['Retain', 'RetainExceptOnCreate'].includes(resource.DeletionPolicy ?? '');
      if (!retainedOnDelete || resource.UpdateReplacePolicy !== 'Retain') {
        violations.push({
          invariant: 9,
          ...where,
          detail: `${resource.Type} is not retained on deletion and replacement`,
        });
      } else {
        evidence.push({ invariant: 9, ...where, type: resource.Type });
      }
    }
    if (resource.Type === 'AWS::Logs::LogGroup' && !p.KmsKeyId) {
      violations.push({
        invariant: 5,
        ...where,
        detail: 'log group is not encrypted with a customer-managed key',
      });
    }
    if (resource.Type !== 'AWS::S3::Bucket') continue;
    const bucketRef = `ref|${stack.id}/${id}`;
    const policy = bucketPolicies.get(bucketRef) ?? [];
    const encryption = (
      r.resolve(p.BucketEncryption, stack) as
        | {
            ServerSideEncryptionConfiguration?: {
              ServerSideEncryptionByDefault?: { SSEAlgorithm?: string; KMSMasterKeyID?: string };
            }[];
          }
        | undefined
    )?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault;
    const keyTarget = r.target(encryption?.KMSMasterKeyID);
    // S3 refuses SSE-KMS on a server access log destination: there, and only there, SSE-S3.
    const logDestinationWithS3Keys =
      encryption?.SSEAlgorithm === 'AES256' &&
      logDestinations.has(bucketRef) &&
      !tagsOf(resource)[DATA_ZONE_TAG];
    if (logDestinationWithS3Keys) {
      evidence.push({ invariant: 5, ...where, type: resource.Type });
    } else if (encryption?.SSEAlgorithm !== 'aws:kms' || keyTarget?.resource.Type !== 'AWS::KMS::Key') {
      violations.push({
        invariant: 5,
        ...where,
        detail: 'bucket is not encrypted with a customer-managed KMS key of the assembly',
      });
    } else if (keyTarget.resource.Properties?.EnableKeyRotation !== true) {
      violations.push({ invariant: 5, ...where, detail: `bucket key ${keyTarget.id} does not rotate` });
    }
    const tlsOnly = policy.some(
      (s) =>
        s.Effect === 'Deny' &&
        strings(s.Action).some((a) => a === 's3:*') &&
        String(s.Condition?.Bool?.['aws:SecureTransport']) === 'false',
    );
    if (!tlsOnly)
      violations.push({
        invariant: 5,
        ...where,
        detail: 'bucket policy does not refuse requests without TLS',
      });
    const block = (p.PublicAccessBlockConfiguration ?? {}) as Record<string, unknown>;
    if (
      !['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'].every(
        (k) => block[k] === true,
      )
    ) {
      violations.push({
        invariant: 5,
        ...where,
        detail: 'bucket does not block every kind of public access',
      });
    }
    if ((p.VersioningConfiguration as { Status?: string } | undefined)?.Status !== 'Enabled') {
      violations.push({ invariant: 5, ...where, detail: 'bucket does not keep versions' });
    }
    const zone = tagsOf(resource)[DATA_ZONE_TAG];
    if (!zone) continue;
    // ---- access to a data zone: identity policy allows, bucket policy does not deny ----
    const classification = tagsOf(resource)[DATA_CLASSIFICATION_TAG] ?? '?';
    const name = String(r.resolve(p.BucketName ?? `${stack.id}/${id}`, stack));
    const arn = String(r.resolve({ 'Fn::GetAtt': [id, 'Arn'] }, stack));
    zones.push({ name: zone, classification });
    // Reading needs the zone key's Decrypt, writing its GenerateDataKey: the key policy may refuse them.
    const keyArn = String(encryption?.KMSMasterKeyID ?? '');
    const keyPolicy = keyTarget ? resolvedDoc(keyTarget.resource.Properties?.KeyPolicy, keyTarget.stack) : [];
    for (const role of roles) {
      const read =
        can(role, 's3:GetObject', `${arn}/any-object`, policy) && can(role, 'kms:Decrypt', keyArn, keyPolicy);
      const write =
        can(role, 's3:PutObject', `${arn}/any-object`, policy) &&
        can(role, 'kms:GenerateDataKey', keyArn, keyPolicy);
      rows[role.name][zone] = read && write ? 'RW' : read ? 'R' : write ? 'W' : '-';
      if (
        read &&
        PERSONAL.includes(classification) &&
        zone === RAW_ZONE &&
        !RAW_READERS.has(role.tags[ROLE_TAG] ?? '')
      ) {
        violations.push({
          invariant: 6,
          stack: role.stack,
          logicalId: role.id,
          detail: `role ${role.name} can read raw ${classification} zone ${name}`,
        });
      }
      if (read && zone === QUARANTINE_ZONE && role.tags[ROLE_TAG] !== 'break-glass') {
        violations.push({
          invariant: 6,
          stack: role.stack,
          logicalId: role.id,
          detail: `role ${role.name} can read quarantined ${classification} records`,
        });
      }
    }
    evidence.push({ invariant: 6, ...where, type: resource.Type });
  }

  violations.push(...trailViolations(assembly, resources, r, evidence));
  return { access: { zones, rows }, violations, evidence };
}

/**
 * Identity-policy grants of one action on one resource, less the resource policy's denies for this
 * role (a bucket policy, or a key policy, whose account delegation makes the identity grant count).
 */
function can(role: Role, action: string, resource: string, resourcePolicy: Statement[]): boolean {
  const granted = role.statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      strings(s.Action).some((a) => actionMatches(a, action)) &&
      strings(s.Resource).some((res) => matches(res, resource)),
  );
  if (!granted) return false;
  const denied = resourcePolicy.some(
    (s) =>
      s.Effect === 'Deny' &&
      strings(s.Action).some((a) => actionMatches(a, action)) &&
      principalConditionsApply(s.Condition, role.arn) &&
      !hasOtherConditions(s.Condition),
  );
  return !denied;
}

/** Whether the statement's principal-ARN conditions hold for the role (no such condition: they hold). */
function principalConditionsApply(condition: Statement['Condition'], arn: string): boolean {
  for (const [operator, pairs] of Object.entries(condition ?? {})) {
    const values = strings(pairs['aws:PrincipalArn']);
    if (pairs['aws:PrincipalArn'] === undefined) continue;
    const listed = values.some((v) => matches(v, arn));
    if (
      operator.startsWith('ArnNotEquals') ||
      operator.startsWith('ArnNotLike') ||
      operator.startsWith('StringNotEquals')
    ) {
      if (listed) return false;
    } else if (!listed) return false;
  }
  return true;
}

/** A deny also conditioned on something the verifier cannot evaluate for a role (network path, encryption headers). */
function hasOtherConditions(condition: Statement['Condition']): boolean {
  // aws:PrincipalIsAWSService is known: false for a role.
  return Object.entries(condition ?? {}).some(([operator, pairs]) =>
    Object.keys(pairs).some(
      (k) => k !== 'aws:PrincipalArn' && !(k === 'aws:PrincipalIsAWSService' && operator.startsWith('Bool')),
    ),
  );
}

function checkStatements(
  statements: Statement[],
  stack: string,
  logicalId: string,
  violations: Violation[],
  evidence: Evidence[],
): void {
  for (const s of statements.filter((x) => x.Effect === 'Allow')) {
    const actions = strings(s.Action);
    const at = `${s.Sid ? `statement ${s.Sid}` : 'a statement'}`;
    if (s.NotAction !== undefined)
      violations.push({ invariant: 7, stack, logicalId, detail: `${at} allows NotAction` });
    for (const action of actions.filter((a) => a.includes('*'))) {
      violations.push({
        invariant: 7,
        stack,
        logicalId,
        detail: `${at} grants the wildcard action ${action}`,
      });
    }
    if (strings(s.Resource).includes('*') && !actions.every((a) => RESOURCELESS.test(a))) {
      violations.push({
        invariant: 7,
        stack,
        logicalId,
        detail: `${at} grants ${actions.filter((a) => !RESOURCELESS.test(a)).join(', ')} on * although they take a resource`,
      });
    }
    const creates = actions.filter((a) => SAGEMAKER_CREATE.has(a));
    if (creates.length > 0) {
      const c = s.Condition ?? {};
      const pinned =
        c.Null?.['sagemaker:VpcSubnets'] === 'false' &&
        c['ForAllValues:StringEquals']?.['sagemaker:VpcSubnets'] !== undefined &&
        c['ForAllValues:StringEquals']?.['sagemaker:VpcSecurityGroupIds'] !== undefined;
      const isolated = String(c.Bool?.['sagemaker:NetworkIsolation']) === 'true';
      const jobs = creates.some((a) => a.endsWith('Job'));
      const keyed = !jobs || c.StringEquals?.['sagemaker:VolumeKmsKey'] !== undefined;
      const encrypted = !jobs || String(c.Bool?.['sagemaker:InterContainerTrafficEncryption']) === 'true';
      if (!pinned || !isolated || !keyed || !encrypted) {
        const missing = [
          !pinned && 'VPC subnets and security groups',
          !isolated && 'network isolation',
          !keyed && 'a volume key',
          !encrypted && 'inter-container encryption',
        ].filter(Boolean);
        violations.push({
          invariant: 10,
          stack,
          logicalId,
          detail: `${at} allows ${creates.join(', ')} without ${missing.join(', ')}`,
        });
      } else {
        evidence.push({ invariant: 10, stack, logicalId, type: 'AWS::IAM::ManagedPolicy' });
      }
    }
  }
}

function checkRole(role: Role, r: Resolver, violations: Violation[], evidence: Evidence[]): void {
  const p = role.resource.Properties ?? {};
  const where = { stack: role.stack, logicalId: role.id };
  if (!p.PermissionsBoundary)
    violations.push({ invariant: 7, ...where, detail: `role ${role.name} has no permission boundary` });
  const trust = list(
    (r.resolve(p.AssumeRolePolicyDocument, role.template) as { Statement?: unknown })?.Statement,
  ) as Statement[];
  const assumedByPeople = trust.some(
    (s) => s.Effect === 'Allow' && JSON.stringify(s.Principal ?? {}).includes('"AWS"'),
  );
  const human =
    role.tags[ROLE_TYPE_TAG] === ROLE_TYPES.human ||
    (assumedByPeople && role.tags[ROLE_TYPE_TAG] !== ROLE_TYPES.service);
  if (!human) return;
  for (const s of trust.filter((x) => x.Effect === 'Allow')) {
    if (String(s.Condition?.Bool?.['aws:MultiFactorAuthPresent']) !== 'true') {
      violations.push({
        invariant: 7,
        ...where,
        detail: `human role ${role.name} can be assumed without MFA`,
      });
    }
  }
  const session = Number(p.MaxSessionDuration ?? 3600);
  if (session > 3600)
    violations.push({
      invariant: 7,
      ...where,
      detail: `human role ${role.name} allows sessions of ${session} s`,
    });
  evidence.push({ invariant: 7, ...where, type: 'AWS::IAM::Role' });
}

function trailViolations(
  assembly: Assembly,
  resources: readonly LocatedResource[],
  r: Resolver,
  evidence: Evidence[],
): Violation[] {
  const violations: Violation[] = [];
  const trails = ofType(resources, 'AWS::CloudTrail::Trail');
  const zoneBuckets = ofType(resources, 'AWS::S3::Bucket').filter((x) => tagsOf(x.resource)[DATA_ZONE_TAG]);
  if (trails.length === 0) {
    const [first] = assembly.stacks;
    violations.push({
      invariant: 8,
      stack: first.id,
      logicalId: '-',
      detail: 'the assembly has no CloudTrail trail',
    });
    return violations;
  }
  for (const { stack, id, resource } of trails) {
    const p = resource.Properties ?? {};
    const where = { stack: stack.id, logicalId: id };
    if (p.IsMultiRegionTrail !== true)
      violations.push({ invariant: 8, ...where, detail: 'trail does not cover every region' });
    if (p.EnableLogFileValidation !== true)
      violations.push({ invariant: 8, ...where, detail: 'trail does not validate its log files' });
    if (!p.KMSKeyId)
      violations.push({ invariant: 8, ...where, detail: 'trail is not encrypted with a KMS key' });
    const bucket = r.target(r.resolve(p.S3BucketName, stack));
    const lock = bucket?.resource.Properties?.ObjectLockConfiguration as
      { Rule?: { DefaultRetention?: unknown } } | undefined;
    if (!lock?.Rule?.DefaultRetention)
      violations.push({ invariant: 8, ...where, detail: 'trail bucket has no Object Lock retention' });
    const selectors =
      JSON.stringify(r.resolve(p.EventSelectors ?? [], stack)) +
      JSON.stringify(r.resolve(p.AdvancedEventSelectors ?? [], stack));
    for (const zone of zoneBuckets) {
      const arn = String(r.resolve({ 'Fn::GetAtt': [zone.id, 'Arn'] }, zone.stack));
      if (!selectors.includes(`${arn}/`)) {
        violations.push({ invariant: 8, ...where, detail: `trail records no data events of bucket ${arn}` });
      }
    }
    evidence.push({ invariant: 8, ...where, type: resource.Type });
  }
  return violations;
}
