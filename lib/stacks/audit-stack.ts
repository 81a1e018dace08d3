import { Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { AuditConfig } from '../config/schema';
import { AlertTopic } from '../constructs/alert-topic';
import { AuditTrail } from '../constructs/audit-trail';
import { ProtectedKey } from '../constructs/protected-key';
import { RetainedLogGroup } from '../constructs/retained-log-group';
import { SecureBucket } from '../constructs/secure-bucket';
import { acknowledge } from '../gate/acknowledge';

/** Prefix under which VPC flow logs land in the audit bucket. */
export const FLOW_LOG_PREFIX = 'vpc-flow-logs';

export interface AuditStackProps extends StackProps {
  readonly audit: AuditConfig;
  /** Segments whose network logs this stack keeps. */
  readonly segmentNames: readonly string[];
}

/**
 * The log archive: the audit key, the Object-Lock audit bucket and its access-log bucket, the
 * CloudTrail trail, the alert topic, and each segment's network log groups. Everything here is
 * stateful, retained, and the stack is protected against termination.
 */
export class AuditStack extends Stack {
  readonly auditKey: ProtectedKey;
  readonly accessLogBucket: s3.IBucket;
  readonly auditBucket: s3.IBucket;
  readonly trail: AuditTrail;
  readonly alerts: AlertTopic;
  private readonly flowLogGroups = new Map<string, logs.ILogGroup>();

  constructor(scope: Construct, id: string, props: AuditStackProps) {
    super(scope, id, { ...props, terminationProtection: true });
    const { audit } = props;

    this.auditKey = new ProtectedKey(this, 'AuditKey', {
      description: 'Encrypts the audit trail, network logs and security alerts',
    });
    this.admitLogServices();

    const objectLock = { mode: audit.objectLockMode, years: audit.logRetentionYears };
    const accessLogs = new SecureBucket(this, 'AccessLogBucket', {
      encryptionKey: this.auditKey.key,
      classification: 'proprietary',
      objectLock,
    });
    const noSelfLogging =
      'This bucket is the server access log target; logging it to itself would loop. CloudTrail records its API calls and Object Lock keeps its records immutable.';
    acknowledge(accessLogs.bucket, {
      pack: 'cdk-validator-cfnguard',
      rule: 's3_bucket_logging_enabled_check',
      reason: noSelfLogging,
    });
    this.accessLogBucket = accessLogs.bucket;

    const auditBucket = new SecureBucket(this, 'AuditBucket', {
      encryptionKey: this.auditKey.key,
      classification: 'proprietary',
      serverAccessLogs: { bucket: accessLogs.bucket, prefix: 'audit-bucket/' },
      objectLock,
    });
    this.auditBucket = auditBucket.bucket;
    this.admitFlowLogDelivery(auditBucket.bucket);

    this.trail = new AuditTrail(this, 'AuditTrail', {
      bucket: auditBucket.bucket,
      encryptionKey: this.auditKey.key,
      retentionYears: audit.logRetentionYears,
    });

    this.alerts = new AlertTopic(this, 'Alerts', {
      encryptionKey: this.auditKey.key,
      emails: audit.alertEmails,
    });

    for (const segment of props.segmentNames) {
      const group = new RetainedLogGroup(this, `FlowLogs-${segment}`, {
        encryptionKey: this.auditKey.key,
        retentionYears: audit.logRetentionYears,
        classification: 'proprietary',
      });
      this.flowLogGroups.set(segment, group.logGroup);
    }
  }

  /** The log group that receives the VPC flow logs of a segment. */
  flowLogGroup(segment: string): logs.ILogGroup {
    const group = this.flowLogGroups.get(segment);
    if (!group) throw new Error(`AuditStack has no flow log group for segment "${segment}"`);
    return group;
  }

  /** The services that write logs and alerts admitted to the audit key, each bound to this account. */
  private admitLogServices(): void {
    const key = this.auditKey;
    const thisAccount = { StringEquals: { 'aws:SourceAccount': this.account } };
    key.allowCloudWatchLogs();
    key.allowService({
      sid: 'CloudTrailEncryptsThisAccountsTrails',
      principal: new iam.ServicePrincipal('cloudtrail.amazonaws.com'),
      actions: ['kms:GenerateDataKey*'],
      conditions: {
        ...thisAccount,
        StringLike: {
          'kms:EncryptionContext:aws:cloudtrail:arn': this.formatArn({
            service: 'cloudtrail',
            region: '*',
            resource: 'trail/*',
          }),
        },
      },
    });
    key.allowService({
      sid: 'CloudTrailDescribesKey',
      principal: new iam.ServicePrincipal('cloudtrail.amazonaws.com'),
      actions: ['kms:DescribeKey'],
      conditions: thisAccount,
    });
    key.allowService({
      sid: 'LogDeliveryEncryptsFlowLogs',
      principal: new iam.ServicePrincipal('delivery.logs.amazonaws.com'),
      actions: ['kms:GenerateDataKey*'],
      conditions: {
        ...thisAccount,
        ArnLike: { 'aws:SourceArn': this.formatArn({ service: 'logs', resource: '*' }) },
      },
    });
    key.allowService({
      sid: 'S3EncryptsServerAccessLogs',
      principal: new iam.ServicePrincipal('logging.s3.amazonaws.com'),
      actions: ['kms:GenerateDataKey*'],
      conditions: thisAccount,
    });
    key.allowService({
      sid: 'AlarmsAndEventsPublishEncryptedAlerts',
      principal: new iam.CompositePrincipal(
        new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
        new iam.ServicePrincipal('events.amazonaws.com'),
      ),
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      conditions: thisAccount,
    });
  }

  /** Lets VPC flow log delivery write under FLOW_LOG_PREFIX, for this account only. */
  private admitFlowLogDelivery(bucket: s3.IBucket): void {
    const principal = new iam.ServicePrincipal('delivery.logs.amazonaws.com');
    const conditions = {
      StringEquals: { 'aws:SourceAccount': this.account },
      ArnLike: { 'aws:SourceArn': this.formatArn({ service: 'logs', resource: '*' }) },
    };
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'FlowLogDeliveryChecksBucket',
        principals: [principal],
        actions: ['s3:GetBucketAcl', 's3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions,
      }),
    );
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'FlowLogDeliveryWritesLogs',
        principals: [principal],
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects(`${FLOW_LOG_PREFIX}/AWSLogs/${this.account}/*`)],
        conditions: {
          ...conditions,
          StringEquals: { ...conditions.StringEquals, 's3:x-amz-acl': 'bucket-owner-full-control' },
        },
      }),
    );
  }
}
