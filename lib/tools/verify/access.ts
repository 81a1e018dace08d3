import {
  DATA_CLASSIFICATION_TAG,
  DATA_CLASSIFICATIONS,
  ROLE_TYPES,
  type DataClassification,
  type DataZone,
} from '../../contract/classification';
import { STATEFUL_RESOURCE_TYPES } from '../../contract/stateful-types';
import { DATA_ZONE_TAG, MFA_TAG, ROLE_TAG, ROLE_TYPE_TAG } from '../../contract/tags';
import type { Assembly, CfnResource, StackTemplate } from './assembly';
import { Concretizer, type PolicyDocument } from './engine';
import type { Evidence, Violation } from './invariants';
import {
  accessMatrix,
  cellText,
  granted,
  SOME_ORGANISATION,
  union,
  type AccessPrincipal,
  type Cell,
  type Origin,
  type Zone,
} from './matrix';
import type { NetworkResult } from './network';
import { endpointWaysOf, originsOf } from './origins';
import { separationOfDuties } from './duties';
import { followTrust } from './trust';
import { list, strings, type Statement } from './policy';
import { allResources, ofType, tagsOf, type LocatedResource, type Resolver } from './resolve';

/** Classes of data about people: only the raw readers may read them in the raw zone. */
const PERSONAL: readonly string[] = ['phi', 'pii'] satisfies DataClassification[];
const RAW_ZONE: DataZone = 'raw';
const QUARANTINE_ZONE: DataZone = 'quarantine';
/** Roles that may read raw phi/pii. */
const RAW_READERS = new Set(['pseudonymization', 'break-glass']);
/** Actions that name no resource: a `*` resource is the only way to grant them. */
const RESOURCELESS =
  /^(ec2:Describe\w+|ec2:(Create|Delete)NetworkInterface(Permission)?|ecr:GetAuthorizationToken|sts:GetServiceBearerToken|cloudwatch:PutMetricData|cloudtrail:(DescribeTrails|LookupEvents)|config:\w+|logs:(DescribeLogGroups|GetQueryResults|(Create|Get|Update|Delete)LogDelivery|(Put|Describe)ResourcePolic(y|ies))|sagemaker:List\w+|xray:(PutTraceSegments|PutTelemetryRecords|GetSampling(Rules|Targets))|states:SendTask(Success|Failure|Heartbeat)|[a-z0-9-]+:List\w+)$/;
const SAGEMAKER_CREATE = new Set([
  'sagemaker:CreateTrainingJob',
  'sagemaker:CreateProcessingJob',
  'sagemaker:CreateModel',
]);

/** AWS managed policies roles of the assembly attach that grant no access to data (logs, network interfaces). */
const NO_DATA_ACCESS_MANAGED =
  /^arn:aws(-[a-z]+)*:iam::aws:policy\/service-role\/(AWSLambdaBasicExecutionRole|AWSLambdaVPCAccessExecutionRole)$/;
/** What a managed policy the verifier cannot read may grant: anything. */
const UNKNOWN_MANAGED: PolicyDocument = {
  Statement: [{ Sid: 'UnreadableManagedPolicy', Effect: 'Allow', Action: '*', Resource: '*' }],
};
const ADMIN: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
export const ANOTHER_ADMIN = 'another admin in this account';
export const ANOTHER_ACCOUNT = 'a principal in another account';

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
  /** Its identity policies, concrete for the policy engine. */
  readonly documents: PolicyDocument[];
}

export interface AccessMatrix {
  /** Data zones (bucket names) with their classification. */
  readonly zones: { name: string; classification: string }[];
  /** Where requests come from: each segment, and off every network of the blueprint. */
  readonly origins: string[];
  /** Per principal: per zone, what it may do from anywhere: R, W, RW, '-', prefix-limited as `W[data-capture/]`. */
  readonly rows: Record<string, Record<string, string>>;
  /** Per principal, zone and origin: what the policy engine allows. */
  readonly cells: Record<string, Record<string, Record<string, Cell>>>;
  /**
   * The roles another admin of the account and a principal of another account may assume (their
   * trust policies, by the engine). Another account's reach includes theirs; another admin's is
   * shown, not added (an administrator of the account is trusted with IAM: issue 17's insider paths).
   */
  readonly assumable: Record<string, string[]>;
}

export interface AccessResult {
  readonly access: AccessMatrix;
  readonly principals: AccessPrincipal[];
  readonly zones: Zone[];
  readonly origins: Origin[];
  /** Per segment: its S3 endpoints that let data into another account's bucket. */
  readonly endpointWays: Record<string, string[]>;
  readonly violations: Violation[];
  readonly evidence: Evidence[];
}

export async function analyzeAccess(
  assembly: Assembly,
  r: Resolver,
  network: NetworkResult,
  /** The account's organisation, from the config; without it, the one the templates' policies name. */
  organisation?: string,
): Promise<AccessResult> {
  const violations: Violation[] = [];
  const evidence: Evidence[] = [];
  const resources = allResources(assembly);
  const concrete = new Concretizer(r);
  const resolvedDoc = (doc: unknown, stack: StackTemplate) =>
    list((r.resolve(doc, stack) as { Statement?: unknown } | undefined)?.Statement) as Statement[];
  const pseudo = (name: string, stack: StackTemplate) =>
    concrete.value(String(r.resolve({ Ref: name }, stack)));

  // ---- identities ----
  const boundaries = new Set<string>();
  const roles: Role[] = ofType(resources, 'AWS::IAM::Role').map(({ stack, id, resource }) => {
    const p = resource.Properties ?? {};
    const name = p.RoleName !== undefined ? String(r.resolve(p.RoleName, stack)) : `${stack.id}/${id}`;
    const inline = list(p.Policies).flatMap((x) =>
      resolvedDoc((x as { PolicyDocument: unknown }).PolicyDocument, stack),
    );
    if (p.PermissionsBoundary) boundaries.add(String(r.resolve(p.PermissionsBoundary, stack)));
    const managed = strings(r.resolve(p.ManagedPolicyArns, stack))
      .filter((arn) => !NO_DATA_ACCESS_MANAGED.test(concrete.value(arn)))
      .map(() => UNKNOWN_MANAGED);
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
      documents: [
        ...list(p.Policies).map((x) =>
          concrete.policy((x as { PolicyDocument: unknown }).PolicyDocument, stack),
        ),
        ...managed,
      ],
    };
  });
  // A policy names its roles by Ref (`ref|`) or by name.
  const roleByRef = new Map(
    roles.flatMap((role) => [
      [`ref|${role.stack}/${role.id}`, role],
      [role.name, role],
    ]),
  );
  const boundaryDocuments = new Map<string, PolicyDocument>();
  for (const { stack, id, resource } of resources) {
    if (!['AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy', 'AWS::IAM::RolePolicy'].includes(resource.Type))
      continue;
    const statements = resolvedDoc(resource.Properties?.PolicyDocument, stack);
    const names =
      resource.Type === 'AWS::IAM::RolePolicy' ? resource.Properties?.RoleName : resource.Properties?.Roles;
    const attached = list(r.resolve(names, stack)).map((ref) => roleByRef.get(String(ref)));
    const name = resource.Properties?.ManagedPolicyName;
    const isBoundary =
      attached.length === 0 &&
      name !== undefined &&
      [...boundaries].some((b) => b.endsWith(`:policy/${String(r.resolve(name, stack))}`));
    const document = concrete.policy(resource.Properties?.PolicyDocument, stack);
    for (const role of attached) {
      role?.statements.push(...statements);
      role?.documents.push(document);
    }
    if (name !== undefined) boundaryDocuments.set(String(r.resolve(name, stack)), document);
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
  const allBucketPolicies = ofType(resources, 'AWS::S3::BucketPolicy');
  const zones: Zone[] = [];
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
    // A bucket has one policy: a policy resource names it by Ref or by name; with two, the last written wins.
    const bucketName = p.BucketName !== undefined ? r.resolve(p.BucketName, stack) : undefined;
    const isThisBucket = (named: unknown) =>
      named === bucketRef || (bucketName !== undefined && named === bucketName);
    const namesThisBucket = (x: LocatedResource) =>
      isThisBucket(r.resolve(x.resource.Properties?.Bucket, x.stack));
    const bucketPolicies = allBucketPolicies.filter(namesThisBucket);
    if (bucketPolicies.length > 1) {
      violations.push({
        invariant: 5,
        ...where,
        detail: `bucket has ${bucketPolicies.length} bucket policies (${bucketPolicies.map((x) => `${x.stack.id}/${x.id}`).join(', ')}): S3 keeps only the last one written`,
      });
    }
    const policies = bucketPolicies.map((x) => resolvedDoc(x.resource.Properties?.PolicyDocument, x.stack));
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
    // Whichever policy S3 keeps must refuse plain HTTP.
    const tlsOnly =
      policies.length > 0 &&
      policies.every((policy) =>
        policy.some(
          (s) =>
            s.Effect === 'Deny' &&
            strings(s.Action).some((a) => a === 's3:*') &&
            String(s.Condition?.Bool?.['aws:SecureTransport']) === 'false',
        ),
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
    // ---- a data zone: the matrix below says who may read and write it, from where ----
    const [bucketPolicy] = bucketPolicies;
    for (const point of ofType(resources, 'AWS::S3::MultiRegionAccessPoint')) {
      const regions = (r.resolve(point.resource.Properties?.Regions, point.stack) ?? []) as {
        Bucket?: unknown;
      }[];
      if (regions.some((region) => isThisBucket(region.Bucket))) {
        violations.push({
          invariant: 6,
          stack: point.stack.id,
          logicalId: point.id,
          detail: `a multi-region access point of zone ${zone}: requests through it are not in the access matrix`,
        });
      }
    }
    for (const point of ofType(resources, 'AWS::S3::AccessPoint')) {
      if (namesThisBucket(point)) {
        violations.push({
          invariant: 6,
          stack: point.stack.id,
          logicalId: point.id,
          detail: `an access point of zone ${zone}: requests through it are not in the access matrix`,
        });
      }
    }
    zones.push({
      name: zone,
      zone,
      classification: tagsOf(resource)[DATA_CLASSIFICATION_TAG] ?? '?',
      stack: stack.id,
      logicalId: id,
      bucketArn: concrete.value(String(r.resolve({ 'Fn::GetAtt': [id, 'Arn'] }, stack))),
      account: pseudo('AWS::AccountId', stack),
      region: pseudo('AWS::Region', stack),
      keyArn: concrete.value(String(encryption?.KMSMasterKeyID ?? '')),
      blockPublicAccess:
        (p.PublicAccessBlockConfiguration as { RestrictPublicBuckets?: unknown } | undefined)
          ?.RestrictPublicBuckets === true,
      bucketKeys:
        (
          r.resolve(p.BucketEncryption, stack) as {
            ServerSideEncryptionConfiguration?: { BucketKeyEnabled?: unknown }[];
          }
        )?.ServerSideEncryptionConfiguration?.[0]?.BucketKeyEnabled === true,
      ...(bucketPolicy
        ? {
            bucketPolicy: concrete.policy(
              bucketPolicy.resource.Properties?.PolicyDocument,
              bucketPolicy.stack,
            ),
          }
        : {}),
      ...(keyTarget
        ? { keyPolicy: concrete.policy(keyTarget.resource.Properties?.KeyPolicy, keyTarget.stack) }
        : {}),
      replication: replicationOf(r.resolve(p.ReplicationConfiguration, stack), concrete),
    });
    evidence.push({ invariant: 6, ...where, type: resource.Type });
  }

  // A service a zone's bucket or key policy admits acts there in ways the matrix does not ask.
  for (const z of zones) {
    for (const [what, doc] of [
      ['bucket policy', z.bucketPolicy],
      ['key policy', z.keyPolicy],
    ] as const) {
      for (const s of doc?.Statement ?? []) {
        const services = strings((s.Principal as { Service?: unknown } | undefined)?.Service);
        if (s.Effect !== 'Allow' || services.length === 0) continue;
        violations.push({
          invariant: 6,
          stack: z.stack,
          logicalId: z.logicalId,
          detail: `the ${what} of zone ${z.zone} allows ${services.join(', ')}: what a service does there for anyone is not in the access matrix`,
        });
      }
    }
  }

  // Two buckets tagged with one zone are two columns: neither hides the other.
  for (const [i, z] of zones.entries()) {
    if (zones.some((other, j) => j !== i && other.zone === z.zone))
      zones[i] = { ...z, name: `${z.zone} (${z.stack}/${z.logicalId})` };
  }

  // ---- who asks, and from where ----
  const account = zones[0]?.account ?? concrete.places.account;
  const otherAccount = account === '999999999999' ? '999999999998' : '999999999999';
  const principals: AccessPrincipal[] = [
    ...roles.map((role) => {
      const boundaryName = /:policy\/(.+)$/.exec(
        String(r.resolve(role.resource.Properties?.PermissionsBoundary, role.template)),
      )?.[1];
      const boundary = boundaryName ? boundaryDocuments.get(boundaryName) : undefined;
      const arn = concrete.value(role.arn);
      return {
        name: role.name,
        kind: 'role' as const,
        arn,
        account: /^arn:[^:]+:iam::(\d+|[^:]+):/.exec(arn)?.[1] ?? account,
        ...(role.tags[ROLE_TAG] ? { role: role.tags[ROLE_TAG] } : {}),
        human: isHuman(role, r),
        stack: role.stack,
        logicalId: role.id,
        identity: role.documents,
        ...(boundary ? { boundary: [boundary] } : {}),
      };
    }),
    {
      name: ANOTHER_ADMIN,
      kind: 'another-admin',
      arn: `arn:${concrete.places.partition}:iam::${account}:role/another-admin`,
      account,
      human: true,
      identity: [ADMIN],
    },
    {
      name: ANOTHER_ACCOUNT,
      kind: 'another-account',
      arn: `arn:${concrete.places.partition}:iam::${otherAccount}:role/another-account-admin`,
      account: otherAccount,
      human: true,
      identity: [ADMIN],
    },
  ];
  const origins = originsOf(network, r, concrete, zones);
  const named = new Set(
    [...JSON.stringify([zones, origins]).matchAll(/"aws:PrincipalOrgID":(?:\[)?"(o-[a-z0-9]+)"/gi)].map(
      (m) => m[1],
    ),
  );
  const org = organisation ?? (named.size === 1 ? [...named][0] : SOME_ORGANISATION);
  const matrix = await accessMatrix(principals, zones, origins, org);

  // ---- who may assume which role: another account reaches what it may assume, roles what they chain to ----
  const trusting = roles.flatMap((role) => {
    const principal = principals.find(
      (p) => p.kind === 'role' && p.stack === role.stack && p.logicalId === role.id,
    );
    return principal
      ? [
          {
            principal,
            trust: concrete.policy(role.resource.Properties?.AssumeRolePolicyDocument, role.template),
          },
        ]
      : [];
  });
  const trust = await followTrust(principals, trusting, zones, matrix.cells, org);
  violations.push(...trust.violations);
  const { assumable } = trust;
  const duties = await separationOfDuties(trusting, zones, matrix.cells, assumable, account, org);
  violations.push(...duties.violations);
  evidence.push(...duties.evidence);

  // ---- ways out that are not a read: S3 endpoints letting data into other accounts, replication ----
  const ownBuckets = new Set(
    ofType(resources, 'AWS::S3::Bucket').map(({ stack, id }) =>
      concrete.value(String(r.resolve({ 'Fn::GetAtt': [id, 'Arn'] }, stack))).replace(/^arn:[^:]+:s3:::/, ''),
    ),
  );
  const endpointWays = await endpointWaysOf(origins, network, r, concrete, {
    account,
    otherAccount,
    organisation: org,
    ownBuckets,
  });
  const errorsSeen = new Set<string>();
  for (const e of matrix.errors) {
    if (errorsSeen.has(`${e.zone}\u0000${e.error}`)) continue;
    errorsSeen.add(`${e.zone}\u0000${e.error}`);
    const z = zones.find((x) => x.name === e.zone);
    violations.push({
      invariant: 6,
      stack: z?.stack ?? '-',
      logicalId: z?.logicalId ?? '-',
      detail: `the policy engine could not evaluate ${e.request} for ${e.principal}: ${e.error}`,
    });
  }
  const through = (name: string) =>
    assumable[name]?.length
      ? `, itself or through the roles it may assume (${assumable[name].join(', ')})`
      : '';
  const rows: AccessMatrix['rows'] = {};
  for (const p of principals) {
    rows[p.name] = {};
    for (const z of zones) {
      const cells = Object.values(matrix.cells[p.name][z.name]);
      const reach: Cell = { read: union(cells.map((c) => c.read)), write: union(cells.map((c) => c.write)) };
      rows[p.name][z.name] = cellText(reach);
      const from = Object.entries(matrix.cells[p.name][z.name])
        .filter(([, c]) => granted(c.read))
        .map(([o]) => o);
      if (!granted(reach.read) && !granted(reach.write)) continue;
      const at =
        p.stack && p.logicalId
          ? { stack: p.stack, logicalId: p.logicalId }
          : { stack: z.stack, logicalId: z.logicalId };
      const who = p.kind === 'role' ? `role ${p.name}` : p.name;
      if (p.kind === 'another-account') {
        violations.push({
          invariant: 6,
          ...at,
          detail: `${who} can ${granted(reach.read) ? 'read' : 'write'} ${z.classification} zone ${z.name} (${rows[p.name][z.name]})${through(p.name)}`,
        });
        continue;
      }
      if (!granted(reach.read)) continue;
      const rawReader = p.kind === 'role' && RAW_READERS.has(p.role ?? '');
      if (PERSONAL.includes(z.classification) && z.zone === RAW_ZONE && !rawReader) {
        violations.push({
          invariant: 6,
          ...at,
          detail: `${who} can read raw ${z.classification} zone ${z.name} (from ${from.join(', ')})${p.kind === 'role' ? through(p.name) : ''}`,
        });
      }
      if (z.zone === QUARANTINE_ZONE && p.role !== 'break-glass') {
        violations.push({
          invariant: 6,
          ...at,
          detail: `${who} can read quarantined ${z.classification} records (from ${from.join(', ')})${p.kind === 'role' ? through(p.name) : ''}`,
        });
      }
      if (
        p.kind === 'another-admin' &&
        PERSONAL.includes(z.classification) &&
        z.zone !== RAW_ZONE &&
        z.zone !== QUARANTINE_ZONE
      ) {
        violations.push({
          invariant: 6,
          ...at,
          detail: `${who} can read ${z.classification} zone ${z.name}: the zone's policies do not limit its readers (from ${from.join(', ')})`,
        });
      }
    }
  }

  violations.push(...trailViolations(assembly, resources, r, evidence));
  return {
    access: {
      zones: zones.map((z) => ({ name: z.name, classification: z.classification })),
      origins: origins.map((o) => o.name),
      rows,
      cells: matrix.cells,
      assumable,
    },
    origins,
    endpointWays,
    principals,
    zones,
    violations,
    evidence,
  };
}

/** A role people assume: tagged so, or trusting an AWS principal without being tagged a service role. */
function isHuman(role: Role, r: Resolver): boolean {
  const trust = list(
    (r.resolve(role.resource.Properties?.AssumeRolePolicyDocument, role.template) as { Statement?: unknown })
      ?.Statement,
  ) as Statement[];
  const assumedByPeople = trust.some(
    (s) => s.Effect === 'Allow' && JSON.stringify(s.Principal ?? {}).includes('"AWS"'),
  );
  return (
    role.tags[ROLE_TYPE_TAG] === ROLE_TYPES.human ||
    (assumedByPeople && role.tags[ROLE_TYPE_TAG] !== ROLE_TYPES.service)
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
  if (!isHuman(role, r)) return;
  // People of an identity provider that enforces MFA carry no MFA key: their statements must name them by aws:PrincipalArn.
  const federated = role.tags[MFA_TAG] === 'identity-provider';
  for (const s of trust.filter((x) => x.Effect === 'Allow')) {
    if (federated && namesPrincipalArns(s)) continue;
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

/** Whether a trust statement admits only principals its conditions name by `aws:PrincipalArn` (none by a pattern that is all `*`). */
function namesPrincipalArns(s: Statement): boolean {
  return Object.entries(s.Condition ?? {}).some(
    ([operator, pairs]) =>
      /^(ArnLike|ArnEquals|StringLike|StringEquals)$/.test(operator) &&
      Object.entries(pairs).some(
        ([key, value]) =>
          key.toLowerCase() === 'aws:principalarn' &&
          strings(value).length > 0 &&
          strings(value).every((arn) => /:(role|user)\/.*[^*]/.test(arn)),
      ),
  );
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

/** Where a bucket replicates its objects: each rule's destination bucket and account. */
function replicationOf(config: unknown, concrete: Concretizer): Zone['replication'] {
  const rules = (
    config as { Rules?: { Destination?: { Bucket?: unknown; Account?: unknown } }[] } | undefined
  )?.Rules;
  const text = (v: unknown) => concrete.value(typeof v === 'string' ? v : JSON.stringify(v ?? ''));
  return (rules ?? []).map((rule) => ({
    bucket: text(rule.Destination?.Bucket),
    ...(rule.Destination?.Account !== undefined ? { account: text(rule.Destination.Account) } : {}),
  }));
}
