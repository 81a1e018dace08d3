import { Stack, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { AirlockZone, DataClassification, DataZone as LifecycleZone } from '../contract/classification';
import type { BlueprintRole } from '../identity/blueprint-role';
import { DATA_ZONE_TAG } from '../contract/tags';
import { roleArn } from '../names';
import type { ProtectedKey } from './protected-key';
import { onlyTheDeploymentChangesTheBucket, SecureBucket, deploymentRoleArn } from './secure-bucket';

/**
 * What a zone's readers and writers may do, both sides of the access in one place. A grant gives
 * the role `objects`, `bucket` and `key`; the zone's policy refuses the `reserved` actions to every
 * role it does not name, and each granted object action is among them. Writers put objects and
 * never delete them: versions and Object Lock keep what was stored. (Readers are not given
 * GetObjectAttributes, which the permission boundary does not hold; the zone reserves it anyway.)
 */
export const ZONE_ACCESS = {
  read: {
    objects: ['s3:GetObject', 's3:GetObjectVersion'],
    bucket: ['s3:ListBucket'],
    key: ['kms:Decrypt'],
    reserved: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes'],
  },
  write: {
    objects: ['s3:PutObject'],
    bucket: [] as string[],
    // Decrypt too: S3 needs it to assemble a multipart upload encrypted with the key.
    key: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
    reserved: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
  },
} as const;

/** The calls that list a zone's object keys (current, every version, uploads in progress). */
export const ZONE_LISTING = [
  's3:ListBucket',
  's3:ListBucketVersions',
  's3:ListBucketMultipartUploads',
] as const;

/** Everything that touches data: the perimeter (TLS, endpoint, organisation) applies to these. */
export const DATA_ACTIONS = [
  ...ZONE_ACCESS.read.reserved,
  ...ZONE_ACCESS.write.reserved,
  's3:ListBucket',
  's3:ListBucketVersions',
];

/** A data zone of the lifecycle, or the airlock's import zone. */
type ZoneName = LifecycleZone | AirlockZone;

/** The roles a zone admits, by ARN, as its controls and the configuration resolve them. */
export interface ZoneRoles {
  readonly readers: readonly string[];
  readonly writers: readonly string[];
  /** Roles that may write under their prefix only. */
  readonly prefixWriters: readonly { readonly roles: readonly string[]; readonly prefix: string }[];
  /** Roles that reach the zone without a segment's endpoint. */
  readonly offNetwork: readonly string[];
  /** Roles that may place and lift legal holds on the zone's objects (break-glass, when enabled). */
  readonly legalHold?: readonly string[];
}

export interface DataZoneProps {
  readonly zone: ZoneName;
  readonly bucketName: string;
  readonly classification: DataClassification;
  /** The key of the zone's classification (shared by the zones of that class). */
  readonly key: ProtectedKey;
  readonly roles: ZoneRoles;
  /** The S3 gateway endpoints of the segments whose kinds may reach the zone. */
  readonly endpoints: readonly string[];
  /** Only principals of this organisation; @default - only principals of this account */
  readonly organizationId?: string;
  readonly serverAccessLogs: { readonly bucket: s3.IBucket; readonly prefix: string };
  readonly objectLock: 'holds-only';
  readonly lifecycle: { readonly archiveAfterDays?: number; readonly noncurrentVersionDays: number };
}

/**
 * A data zone: a SecureBucket under the key of its classification, tagged with the zone, whose
 * policy is a data perimeter (its key only, this account's or organisation's principals only,
 * through an allowed segment's endpoint or as a named off-network role) and reserves reading and
 * writing to the roles it names. `grantRead` and `grantWrite` write the role side from the same
 * action lists, and refuse a role the zone does not name; a named role that is never granted
 * fails synth, so that the two sides agree.
 */
export class DataZone extends SecureBucket {
  readonly zone: ZoneName;
  readonly key: ProtectedKey;
  private readonly roles: ZoneRoles;
  private readonly granted = new Set<string>();

  constructor(scope: Construct, id: string, props: DataZoneProps) {
    super(scope, id, {
      bucketName: props.bucketName,
      encryptionKey: props.key.key,
      classification: props.classification,
      serverAccessLogs: props.serverAccessLogs,
      objectLock: props.objectLock,
      lifecycle: props.lifecycle,
    });
    this.zone = props.zone;
    this.key = props.key;
    this.roles = props.roles;
    Tags.of(this.bucket).add(DATA_ZONE_TAG, props.zone);
    for (const statement of zonePolicy(this.bucket, props.key.key.keyArn, {
      ...props.roles,
      endpoints: props.endpoints,
      account: Stack.of(this).account,
      organizationId: props.organizationId,
      deployment: deploymentRoleArn(this),
    })) {
      this.bucket.addToResourcePolicy(statement);
    }
    this.node.addValidation({
      validate: () => {
        const declared = [
          ...props.roles.readers.map((r) => `read by ${r}`),
          ...props.roles.writers.map((r) => `written by ${r}`),
          ...props.roles.prefixWriters.flatMap((w) =>
            w.roles.map((r) => `written under ${w.prefix} by ${r}`),
          ),
        ];
        return declared
          .filter((access) => !this.granted.has(access))
          .map(
            (access) =>
              `zone ${this.zone} is declared ${access}, which no grant gives: declare less or grant it`,
          );
      },
    });
  }

  /** Lets `role` read the zone's objects (and list them) and decrypt them through S3. */
  grantRead(role: BlueprintRole): void {
    const arn = this.admitted(role, 'read by', this.roles.readers);
    this.granted.add(`read by ${arn}`);
    this.addRoleStatements(role, 'Read', 'Decrypt', ZONE_ACCESS.read, '*');
  }

  /** Lets `role` put objects into the zone, or only under `prefix`, encrypted with its key through S3. */
  grantWrite(role: BlueprintRole, options: { readonly prefix?: string } = {}): void {
    const prefix = options.prefix ?? '';
    const arn = prefix
      ? this.admitted(
          role,
          `written under ${prefix} by`,
          this.roles.prefixWriters.filter((w) => w.prefix === prefix).flatMap((w) => w.roles),
        )
      : this.admitted(role, 'written by', this.roles.writers);
    this.granted.add(prefix ? `written under ${prefix} by ${arn}` : `written by ${arn}`);
    this.addRoleStatements(role, 'Write', 'Encrypt', ZONE_ACCESS.write, `${prefix}*`);
  }

  private admitted(role: BlueprintRole, access: string, admitted: readonly string[]): string {
    // By its fixed name, as the data stack names the zone's roles.
    const arn = roleArn(this, role.fixedName);
    if (!admitted.includes(arn)) {
      throw new Error(
        `zone ${this.zone} is not ${access} ${role.fixedName}: only its controls say who may (lib/classification.ts, lib/segment-kinds.ts)`,
      );
    }
    return arn;
  }

  private addRoleStatements(
    role: BlueprintRole,
    verb: string,
    keyVerb: string,
    access: (typeof ZONE_ACCESS)['read' | 'write'],
    objects: string,
  ): void {
    const zone = this.zone
      .split('-')
      .map((part) => part[0].toUpperCase() + part.slice(1))
      .join('');
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `${verb}${zone}Zone`,
        actions: [...access.objects, ...access.bucket],
        resources: [
          ...(access.bucket.length > 0 ? [this.bucket.bucketArn] : []),
          this.bucket.arnForObjects(objects),
        ],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `${keyVerb}${zone}Zone`,
        actions: [...access.key],
        resources: [this.key.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(role).region}.amazonaws.com` } },
      }),
    );
  }
}

interface ZonePolicyInput extends ZoneRoles {
  /** S3 gateway endpoints of the segments allowed to reach the zone. */
  readonly endpoints: readonly string[];
  readonly account: string;
  readonly organizationId?: string;
  /** The role that deploys the stack (CloudFormation's execution role): the only one that changes the bucket's settings. */
  readonly deployment?: string;
}

/** The statements of a zone's bucket policy, besides the TLS ones every SecureBucket has. */
export function zonePolicy(
  bucket: s3.IBucket,
  keyArn: string,
  input: ZonePolicyInput,
): iam.PolicyStatement[] {
  const anyone = [new iam.AnyPrincipal()];
  const everything = [bucket.bucketArn, bucket.arnForObjects('*')];
  const unless = (roles: readonly string[]) =>
    roles.length > 0 ? { ArnNotEquals: { 'aws:PrincipalArn': [...roles] } } : {};
  return [
    new iam.PolicyStatement({
      sid: 'DenyUploadsWithAnotherKey',
      effect: iam.Effect.DENY,
      principals: anyone,
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects('*')],
      conditions: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': keyArn } },
    }),
    new iam.PolicyStatement({
      sid: 'DenyUploadsNotEncryptedWithKms',
      effect: iam.Effect.DENY,
      principals: anyone,
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects('*')],
      conditions: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
    }),
    new iam.PolicyStatement({
      sid: input.organizationId ? 'DenyPrincipalsOutsideOrganization' : 'DenyPrincipalsOutsideAccount',
      effect: iam.Effect.DENY,
      principals: anyone,
      actions: ['s3:*'],
      resources: everything,
      conditions: {
        ...(input.organizationId
          ? { StringNotEquals: { 'aws:PrincipalOrgID': input.organizationId } }
          : { StringNotEquals: { 'aws:PrincipalAccount': input.account } }),
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      },
    }),
    new iam.PolicyStatement({
      sid: 'DenyDataAccessOffThePerimeter',
      effect: iam.Effect.DENY,
      principals: anyone,
      actions: DATA_ACTIONS,
      resources: everything,
      conditions: {
        ...(input.endpoints.length > 0
          ? { StringNotEquals: { 'aws:SourceVpce': [...input.endpoints] } }
          : {}),
        ...unless(input.offNetwork),
      },
    }),
    new iam.PolicyStatement({
      sid: 'DenyReadsButByTheZoneReaders',
      effect: iam.Effect.DENY,
      principals: anyone,
      actions: [...ZONE_ACCESS.read.reserved],
      resources: [bucket.arnForObjects('*')],
      conditions: unless(input.readers),
    }),
    // A listing names every object (raw keys may name patients): only the zone's own roles list it.
    new iam.PolicyStatement({
      sid: 'DenyListingButByTheZoneRoles',
      effect: iam.Effect.DENY,
      principals: anyone,
      actions: [...ZONE_LISTING],
      resources: [bucket.bucketArn],
      conditions: unless([
        ...input.readers,
        ...input.writers,
        ...input.prefixWriters.flatMap((w) => w.roles),
      ]),
    }),
    new iam.PolicyStatement({
      sid: 'DenyWritesButByTheZoneWriters',
      effect: iam.Effect.DENY,
      principals: anyone,
      actions: [...ZONE_ACCESS.write.reserved],
      resources: [bucket.arnForObjects('*')],
      conditions: unless([...input.writers, ...input.prefixWriters.flatMap((w) => w.roles)]),
    }),
    // No one sets an object's retention (a zone's default retention, where it has one, is the
    // bucket's, set by its stack); legal holds only the roles named for them.
    // Only the deployment changes how the zone keeps and guards its data: no one else rewrites
    // this policy, switches versioning off, shortens the lifecycle or replicates it away.
    ...(input.deployment
      ? [
          onlyTheDeploymentChangesTheBucket(
            'OnlyTheDeploymentChangesTheZonesSettings',
            bucket,
            input.deployment,
          ),
        ]
      : []),
    new iam.PolicyStatement({
      sid: 'DenyObjectRetention',
      effect: iam.Effect.DENY,
      principals: anyone,
      actions: ['s3:PutObjectRetention', 's3:BypassGovernanceRetention'],
      resources: [bucket.arnForObjects('*')],
    }),
    new iam.PolicyStatement({
      sid: 'DenyLegalHoldsButByTheirRoles',
      effect: iam.Effect.DENY,
      principals: anyone,
      actions: ['s3:PutObjectLegalHold'],
      resources: [bucket.arnForObjects('*')],
      conditions: unless(input.legalHold ?? []),
    }),
    ...input.prefixWriters
      .filter((w) => w.roles.length > 0)
      .map(
        (w, i) =>
          new iam.PolicyStatement({
            sid: `DenyPrefixWritersOutsideTheirPrefix${i === 0 ? '' : i + 1}`,
            effect: iam.Effect.DENY,
            principals: anyone,
            actions: [...ZONE_ACCESS.write.reserved],
            notResources: [bucket.arnForObjects(`${w.prefix}*`)],
            conditions: { ArnEquals: { 'aws:PrincipalArn': [...w.roles] } },
          }),
      ),
  ];
}
