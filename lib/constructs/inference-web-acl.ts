import { Stack, type Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface InferenceWebAclProps {
  /** The web ACL's name; its metrics are named after it. */
  readonly name: string;
  readonly description: string;
  /** Requests per source IP in any five minutes, above which the source is blocked. */
  readonly rateLimit: number;
  /** Bodies larger than this are blocked (and bodies larger than AWS WAF inspects). */
  readonly maxBodyBytes: number;
  /** The ARN of what it protects (an API Gateway stage). */
  readonly protects: string;
  /** Where it logs, with the credentials headers redacted. */
  readonly logGroup: logs.ILogGroup;
}

/** AWS managed rule groups in front of the API, after the blueprint's own rules. */
export const MANAGED_RULE_GROUPS = ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet'];

/**
 * An AWS WAF web ACL in front of an API: a rate limit per source, a body-size limit, the AWS
 * managed common and known-bad-inputs rules; associated with what it protects and logging to a
 * log group without credentials. The association and the logging configuration are made beside
 * the construct (ids `<id>Association`, `<id>Logging`) and the web ACL is its default child, so
 * that their logical ids are those the blueprint's deployed stacks already have.
 */
export class InferenceWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly name: string;

  constructor(scope: Construct, id: string, props: InferenceWebAclProps) {
    super(scope, id);
    this.name = props.name;
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'Default', {
      name: props.name,
      description: props.description,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(props.name),
      rules: [
        {
          name: 'RateLimitPerSource',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: props.rateLimit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('RateLimitPerSource'),
        },
        {
          name: 'BodySize',
          priority: 1,
          action: { block: {} },
          statement: {
            sizeConstraintStatement: {
              fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
              comparisonOperator: 'GT',
              size: props.maxBodyBytes,
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          visibilityConfig: visibility('BodySize'),
        },
        ...MANAGED_RULE_GROUPS.map((name, i) => ({
          name,
          priority: 2 + i,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
          visibilityConfig: visibility(name),
        })),
      ],
    });
    new wafv2.CfnWebACLAssociation(scope, `${id}Association`, {
      resourceArn: props.protects,
      webAclArn: this.webAcl.attrArn,
    });
    new wafv2.CfnLoggingConfiguration(scope, `${id}Logging`, {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [props.logGroup.logGroupArn],
      redactedFields: [
        { singleHeader: { Name: 'authorization' } },
        { singleHeader: { Name: 'x-amz-security-token' } },
      ],
    });
  }

  /** Requests a rule blocked (`ALL`: every rule), summed over `period`. */
  metricBlocked(rule: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/WAFV2',
      metricName: 'BlockedRequests',
      dimensionsMap: { WebACL: this.name, Region: Stack.of(this).region, Rule: rule },
      statistic: 'Sum',
      period,
    });
  }
}
