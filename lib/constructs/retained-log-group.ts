import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { classify } from '../classification';
import type { DataClassification } from '../contract/classification';
import { removalPolicyFor } from '../retention';

/** CloudWatch Logs retention for each retention period the config accepts, in years. */
const RETENTION_BY_YEARS: Readonly<Record<number, logs.RetentionDays>> = {
  1: logs.RetentionDays.ONE_YEAR,
  2: logs.RetentionDays.TWO_YEARS,
  3: logs.RetentionDays.THREE_YEARS,
  5: logs.RetentionDays.FIVE_YEARS,
  6: logs.RetentionDays.SIX_YEARS,
  7: logs.RetentionDays.SEVEN_YEARS,
  8: logs.RetentionDays.EIGHT_YEARS,
  9: logs.RetentionDays.NINE_YEARS,
  10: logs.RetentionDays.TEN_YEARS,
};

export interface RetainedLogGroupProps {
  /**
   * A fixed name, only where the writer chooses it (`aws-waf-logs-` prefix, API Gateway execution
   * logs, SageMaker's): a retained group with a fixed name makes a retried first deploy fail.
   * @default - a name CloudFormation generates
   */
  readonly logGroupName?: string;
  readonly encryptionKey: kms.IKey;
  /** Retention in years; one of the config's RETENTION_YEARS. */
  readonly retentionYears: number;
  readonly classification: DataClassification;
}

/** A KMS-encrypted log group with a fixed retention that survives stack deletion. */
export class RetainedLogGroup extends Construct {
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RetainedLogGroupProps) {
    super(scope, id);
    const retention = RETENTION_BY_YEARS[props.retentionYears];
    if (retention === undefined) {
      throw new Error(
        `${this.node.path}: retentionYears ${props.retentionYears} is not a CloudWatch Logs retention; expected one of ${Object.keys(RETENTION_BY_YEARS).join(', ')}`,
      );
    }
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: props.logGroupName,
      encryptionKey: props.encryptionKey,
      retention,
      removalPolicy: removalPolicyFor(props.logGroupName),
    });
    classify(this, props.classification);
  }
}
