import { AssetHashType } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { SegmentVpc } from './segment-vpc';
import { acknowledge } from '../gate/acknowledge';
import { functionBundle } from './function-bundle';

export interface SegmentFunctionProps extends Omit<
  lambda.FunctionProps,
  | 'code'
  | 'handler'
  | 'runtime'
  | 'architecture'
  | 'role'
  | 'vpc'
  | 'vpcSubnets'
  | 'securityGroups'
  | 'logGroup'
  | 'loggingFormat'
> {
  /** The directory under lib/ holding the function's handler.ts. */
  readonly source: string;
  /** Values compiled into the bundle (esbuild `define`). */
  readonly define?: Record<string, string>;
  /**
   * The segment whose workload subnets and security group the function runs in; or, for a
   * function that serves people outside every segment and touches no zone through a segment's
   * endpoint, why it runs in none.
   */
  readonly segment: { readonly name: string; readonly vpc: SegmentVpc } | { readonly none: string };
  /** Its role, from the identity stack: imported, so nothing here adds grants to it. */
  readonly role: iam.IRole;
  /** Its log group, from the audit stack: encrypted and retained. */
  readonly logGroup: logs.ILogGroup;
}

/**
 * A function of the blueprint: bundled from lib/<source>/handler.ts with esbuild, Node.js 24 on
 * ARM, in a segment's workload subnets and security group (no path but the segment's), or in none
 * where it says why (the airlock's, which serve people outside every segment), as a role
 * of the identity stack whose one policy lives there, logging JSON to a log group of the audit
 * stack.
 */
export class SegmentFunction extends Construct {
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: SegmentFunctionProps) {
    super(scope, id);
    const { source, define, segment, role, ...rest } = props;
    const bundle = functionBundle(source, define);
    const placement =
      'vpc' in segment
        ? {
            vpc: segment.vpc.vpc,
            vpcSubnets: { subnets: segment.vpc.workloadSubnets },
            securityGroups: [segment.vpc.workloadSecurityGroup],
          }
        : {};
    this.function = new lambda.Function(this, 'Function', {
      ...rest,
      code: lambda.Code.fromAsset(bundle.directory, {
        assetHash: bundle.hash,
        assetHashType: AssetHashType.CUSTOM,
      }),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      role: iam.Role.fromRoleArn(this, 'Role', role.roleArn, { mutable: false }),
      ...placement,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: props.applicationLogLevelV2 ?? lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: props.systemLogLevelV2 ?? lambda.SystemLogLevel.WARN,
    });
    if (!('vpc' in segment)) {
      acknowledge(
        this.function,
        { pack: 'cdk-validator-cfnguard', rule: 'lambda_inside_vpc_check', reason: segment.none },
        ...(['HIPAA.Security', 'NIST.800.53.R5'] as const).map((pack) => ({
          pack,
          rule: 'LambdaInsideVPC',
          reason: segment.none,
        })),
      );
      return;
    }
    acknowledge(this.function, {
      pack: 'cdk-validator-cfnguard',
      rule: 'lambda_inside_vpc_check',
      reason:
        `The function is in segment ${segment.name}'s workload subnets and security group, imported from that segment's network stack; ` +
        'the rule accepts only literal or same-template ids, and the Control Tower hook, which sees the resolved ids at deploy time, passes.',
    });
  }
}
