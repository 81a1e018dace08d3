import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../gate/acknowledge';
import { RetainedLogGroup } from './retained-log-group';

export interface AuditTrailProps {
  /** The Object-Lock bucket the trail delivers to; it is given the CloudTrail delivery policy. */
  readonly bucket: s3.IBucket;
  /** Encrypts log files and the trail's log group. */
  readonly encryptionKey: kms.IKey;
  readonly retentionYears: number;
  /** Buckets whose object reads and writes the trail records (data events). */
  readonly dataBucketNames: readonly string[];
  /** Buckets whose object writes and deletions the trail records (data events, writes only). */
  readonly writeWatchedBuckets?: readonly s3.IBucket[];
  /** Functions whose every invocation the trail records (data events), by ARN. */
  readonly watchedFunctionArns?: readonly string[];
}

/**
 * A CloudTrail trail of management events in every region, with log file validation,
 * KMS-encrypted delivery to the audit bucket and a copy in an encrypted, retained log group
 * for metric filters and alarms.
 */
export class AuditTrail extends Construct {
  readonly trail: cloudtrail.Trail;
  readonly logGroup: RetainedLogGroup;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    this.logGroup = new RetainedLogGroup(this, 'Logs', {
      encryptionKey: props.encryptionKey,
      retentionYears: props.retentionYears,
      classification: 'proprietary',
    });
    this.trail = new cloudtrail.Trail(this, 'Trail', {
      bucket: boundToThisAccountsTrails(props.bucket),
      encryptionKey: props.encryptionKey,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
      managementEvents: cloudtrail.ReadWriteType.ALL,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: this.logGroup.logGroup,
    });
    if (props.dataBucketNames.length > 0) {
      this.trail.addS3EventSelector(
        props.dataBucketNames.map((name, i) => ({
          bucket: s3.Bucket.fromBucketName(this, `DataBucket${i}`, name),
        })),
        { readWriteType: cloudtrail.ReadWriteType.ALL, includeManagementEvents: false },
      );
    }
    if (props.watchedFunctionArns && props.watchedFunctionArns.length > 0) {
      this.trail.addEventSelector(
        cloudtrail.DataResourceType.LAMBDA_FUNCTION,
        [...props.watchedFunctionArns],
        {
          readWriteType: cloudtrail.ReadWriteType.ALL,
          includeManagementEvents: false,
        },
      );
    }
    if (props.writeWatchedBuckets && props.writeWatchedBuckets.length > 0) {
      this.trail.addS3EventSelector(
        props.writeWatchedBuckets.map((bucket) => ({ bucket })),
        { readWriteType: cloudtrail.ReadWriteType.WRITE_ONLY, includeManagementEvents: false },
      );
    }
    const inlineReason =
      'The CloudTrail construct creates this delivery role for one trail; its only policy allows ' +
      "logs:CreateLogStream and logs:PutLogEvents on the trail's own log group, and nothing else can attach it.";
    acknowledge(
      this.trail.node.findChild('LogsRole'),
      { pack: 'HIPAA.Security', rule: 'IAMNoInlinePolicy', reason: inlineReason },
      { pack: 'NIST.800.53.R5', rule: 'IAMNoInlinePolicy', reason: inlineReason },
    );
  }
}

/**
 * The bucket as the Trail construct sees it: every statement it adds for CloudTrail (bucket ACL
 * check, log delivery) is bound to this account's trails, so that no other account's trail can
 * write here through CloudTrail (confused deputy). The construct adds them unconditioned.
 */
function boundToThisAccountsTrails(bucket: s3.IBucket): s3.IBucket {
  const stack = Stack.of(bucket);
  const bound = Object.create(bucket) as s3.IBucket;
  bound.addToResourcePolicy = (statement: iam.PolicyStatement) => {
    statement.addConditions({
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudtrail',
          region: '*',
          resource: 'trail',
          resourceName: '*',
        }),
      },
    });
    return bucket.addToResourcePolicy(statement);
  };
  return bound;
}
