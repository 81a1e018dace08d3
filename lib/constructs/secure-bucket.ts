import { Aws, DefaultStackSynthesizer, Duration, Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { classify } from '../classification';
import type { DataClassification } from '../contract/classification';
import { acknowledge } from '../gate/acknowledge';
import { removalPolicyFor } from '../retention';

export interface ObjectLockProps {
  readonly mode: 'COMPLIANCE' | 'GOVERNANCE';
  /** Default retention of every new object version, in years. */
  readonly years: number;
}

export interface SecureBucketProps {
  /**
   * Customer-managed key for default encryption (SSE-KMS with an S3 bucket key).
   * @default - SSE-S3: only for a server access log destination, where S3 refuses SSE-KMS
   */
  readonly encryptionKey?: kms.IKey;
  readonly classification: DataClassification;
  /**
   * Where S3 server access logs of this bucket go.
   * @default - no server access logs; only acceptable for the access-log bucket itself
   */
  readonly serverAccessLogs?: { readonly bucket: s3.IBucket; readonly prefix: string };
  /**
   * Object Lock with a default retention, for records that must be immutable; or `holds-only`:
   * Object Lock on without a default retention, so that single objects can be put under legal
   * hold or retention while others can still be erased.
   * @default - no Object Lock
   */
  readonly objectLock?: ObjectLockProps | 'holds-only';
  /** @default - a name CloudFormation generates */
  readonly bucketName?: string;
  /**
   * Colder storage for current objects and an end for noncurrent versions; for a store of
   * transient objects only (a staging store), an end for current objects too.
   * @default - objects stay in S3 Standard and every version is kept
   */
  readonly lifecycle?: {
    readonly archiveAfterDays?: number;
    readonly expireAfterDays?: number;
    readonly noncurrentVersionDays: number;
  };
}

/**
 * An S3 bucket with the controls every data store of the blueprint has: SSE-KMS with a
 * customer-managed key, TLS 1.2+ only, all public access blocked, ACLs disabled, versioning,
 * classification tag, and retention on stack deletion.
 */
export class SecureBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      ...(props.encryptionKey
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: removalPolicyFor(props.bucketName),
      objectLockEnabled: props.objectLock !== undefined,
      objectLockDefaultRetention:
        props.objectLock && props.objectLock !== 'holds-only'
          ? objectLockRetention(props.objectLock)
          : undefined,
      lifecycleRules: [
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
        ...(props.lifecycle ? [lifecycleRule(props.lifecycle)] : []),
      ],
    });
    // Object events go to EventBridge for monitoring. Set on the L1 so that no notification
    // custom resource (a Lambda function) is needed.
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
    if (props.serverAccessLogs)
      this.logAccessTo(props.serverAccessLogs.bucket, props.serverAccessLogs.prefix, props.bucketName);
    classify(this, props.classification);

    const replicationReason =
      'The blueprint is single-region by design: S3 stores objects across several AZs, and versioning, ' +
      "DeletionPolicy Retain and (for audit records) Object Lock protect them; cross-region replication is left to the organisation's DR plan.";
    acknowledge(
      this.bucket,
      { pack: 'HIPAA.Security', rule: 'S3BucketReplicationEnabled', reason: replicationReason },
      { pack: 'NIST.800.53.R5', rule: 'S3BucketReplicationEnabled', reason: replicationReason },
    );
  }

  /**
   * Sends server access logs to `target` and admits S3 log delivery there for this bucket only.
   * Set on the L1: the L2 would also grant the logging service the target's key without conditions.
   */
  private logAccessTo(target: s3.IBucket, prefix: string, bucketName?: string): void {
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.loggingConfiguration = { destinationBucketName: target.bucketName, logFilePrefix: prefix };
    const sameStack = Stack.of(target) === Stack.of(this);
    if (!sameStack) {
      acknowledge(this.bucket, {
        pack: 'cdk-validator-cfnguard',
        rule: 's3_bucket_logging_enabled_check',
        reason:
          "Server access logging is configured, to the audit stack's access-log bucket; the static rule cannot follow a " +
          'cross-stack reference, while a CloudFormation hook sees the resolved bucket name and passes.',
      });
    }
    target.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [target.arnForObjects(`${prefix}*`)],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          // Only this bucket's logs under this prefix. A reference back to this bucket from another
          // stack would make the stacks depend on each other; a fixed name needs none.
          ...(sameStack
            ? { ArnLike: { 'aws:SourceArn': this.bucket.bucketArn } }
            : bucketName !== undefined
              ? { ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:s3:::${bucketName}` } }
              : {}),
        },
      }),
    );
  }
}

function lifecycleRule(lifecycle: NonNullable<SecureBucketProps['lifecycle']>): s3.LifecycleRule {
  return {
    id: 'ClassificationLifecycle',
    noncurrentVersionExpiration: Duration.days(lifecycle.noncurrentVersionDays),
    expiration:
      lifecycle.expireAfterDays === undefined ? undefined : Duration.days(lifecycle.expireAfterDays),
    transitions:
      lifecycle.archiveAfterDays === undefined
        ? undefined
        : [
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(lifecycle.archiveAfterDays),
            },
          ],
  };
}

function objectLockRetention(lock: ObjectLockProps): s3.ObjectLockRetention {
  // Whole days covering the leap days too, so a record is never released early.
  const duration = Duration.days(Math.ceil(365.25 * lock.years));
  return lock.mode === 'COMPLIANCE'
    ? s3.ObjectLockRetention.compliance(duration)
    : s3.ObjectLockRetention.governance(duration);
}

/**
 * The bucket settings only the deployment changes: its policy, Object Lock, versioning, lifecycle,
 * replication, encryption, access and logging, and the inventory and analytics exports and the
 * metadata tables (a list of every object key, which may name patients, delivered to a bucket or
 * table of the caller's choice; S3 Metadata's V1 and V2 APIs share the one action).
 */
export const BUCKET_SETTINGS_ACTIONS = [
  's3:CreateBucketMetadataTableConfiguration',
  's3:DeleteBucketPolicy',
  's3:PutAnalyticsConfiguration',
  's3:PutBucketAcl',
  's3:PutBucketLogging',
  's3:PutBucketObjectLockConfiguration',
  's3:PutBucketOwnershipControls',
  's3:PutBucketPolicy',
  's3:PutBucketPublicAccessBlock',
  's3:PutBucketVersioning',
  's3:PutEncryptionConfiguration',
  's3:PutInventoryConfiguration',
  's3:PutLifecycleConfiguration',
  's3:PutReplicationConfiguration',
] as const;

/**
 * CloudFormation's execution role of the CDK bootstrap, as a stack's synthesizer names it
 * (qualifier included); none for a synthesizer that names no such role.
 */
export function deploymentRoleArn(scope: Construct): string | undefined {
  const synthesizer = Stack.of(scope).synthesizer;
  return synthesizer instanceof DefaultStackSynthesizer
    ? Fn.sub(synthesizer.cloudFormationExecutionRoleArn)
    : undefined;
}

/**
 * The start of the ARN of every session of CloudFormation's execution role, as CloudTrail records
 * it (`arn:P:sts::A:assumed-role/cdk-<qualifier>-cfn-exec-role-A-R/`); none for a synthesizer
 * that names no such role.
 */
export function deploymentSessionPrefix(scope: Construct): string | undefined {
  const synthesizer = Stack.of(scope).synthesizer;
  if (!(synthesizer instanceof DefaultStackSynthesizer)) return undefined;
  const role = synthesizer.cloudFormationExecutionRoleArn;
  return Fn.sub(`${role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/`);
}

/**
 * A resource-policy statement that refuses `actions` on `resources` to every principal but the
 * deployment (CloudFormation's execution role, by `aws:PrincipalArn`).
 */
export function onlyTheDeployment(
  sid: string,
  actions: readonly string[],
  resources: string[],
  deployment: string,
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: [...actions],
    resources,
    conditions: { ArnNotEquals: { 'aws:PrincipalArn': deployment } },
  });
}

/** A bucket-policy statement that lets no one but the deployment change the bucket's settings. */
export function onlyTheDeploymentChangesTheBucket(
  sid: string,
  bucket: s3.IBucket,
  deployment: string,
): iam.PolicyStatement {
  return onlyTheDeployment(sid, BUCKET_SETTINGS_ACTIONS, [bucket.bucketArn], deployment);
}
