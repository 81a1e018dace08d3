import { Duration, Stack, type App, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { InferenceWebAcl } from '../../lib/constructs/inference-web-acl';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const STAGE = 'arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/v1';

function build(scope: App | Stage) {
  const stack = new Stack(scope, 'Waf', { env: ENV });
  const acl = new InferenceWebAcl(stack, 'WebAcl', {
    name: 'acme-inference-api-acl',
    description: 'in front of the inference API',
    rateLimit: 500,
    maxBodyBytes: 65536,
    protects: STAGE,
    logGroup: new logs.LogGroup(stack, 'WafLogs', { logGroupName: 'aws-waf-logs-acme' }),
  });
  return { stack, acl };
}

describe('InferenceWebAcl', () => {
  const gate = gateCheck('inference-web-acl', build);
  const { stack, acl } = build(testApp());
  const t = Template.fromStack(stack);
  const [[aclId, webAcl]] = Object.entries(t.findResources('AWS::WAFv2::WebACL')) as [
    string,
    { Properties: { Rules: Record<string, unknown>[]; DefaultAction: unknown; Scope: string } },
  ][];

  test('keeps the logical ids of the deployed blueprint: WebAcl, WebAclAssociation, WebAclLogging', () => {
    expect(aclId).toBe('WebAcl');
    expect(Object.keys(t.findResources('AWS::WAFv2::WebACLAssociation'))).toEqual(['WebAclAssociation']);
    expect(Object.keys(t.findResources('AWS::WAFv2::LoggingConfiguration'))).toEqual(['WebAclLogging']);
  });

  test('blocks a source over the rate, an oversized body, then the AWS managed rules; allows the rest', () => {
    expect(webAcl.Properties.Scope).toBe('REGIONAL');
    expect(webAcl.Properties.DefaultAction).toEqual({ Allow: {} });
    expect(webAcl.Properties.Rules.map((r) => [r.Name, r.Priority])).toEqual([
      ['RateLimitPerSource', 0],
      ['BodySize', 1],
      ['AWSManagedRulesCommonRuleSet', 2],
      ['AWSManagedRulesKnownBadInputsRuleSet', 3],
    ]);
    const [rate, body, ...managed] = webAcl.Properties.Rules;
    expect(rate.Statement).toEqual({ RateBasedStatement: { Limit: 500, AggregateKeyType: 'IP' } });
    expect(rate.Action).toEqual({ Block: {} });
    expect(body.Statement).toEqual({
      SizeConstraintStatement: {
        FieldToMatch: { Body: { OversizeHandling: 'MATCH' } },
        ComparisonOperator: 'GT',
        Size: 65536,
        TextTransformations: [{ Priority: 0, Type: 'NONE' }],
      },
    });
    expect(body.Action).toEqual({ Block: {} });
    for (const rule of managed) expect(rule.OverrideAction).toEqual({ None: {} });
  });

  test('protects the stage and logs without the credentials headers', () => {
    t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { ResourceArn: STAGE });
    t.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: [
        { SingleHeader: { Name: 'authorization' } },
        { SingleHeader: { Name: 'x-amz-security-token' } },
      ],
    });
  });

  test('passes the gate', () => {
    expect(gate.unacknowledged().filter((f) => f.includes(' at Waf/WebAcl'))).toEqual([]);
  });

  test('its metric is the blocked requests of a rule, by the ACL name and region', () => {
    expect(
      acl.metricBlocked('RateLimitPerSource', Duration.minutes(5)).toMetricConfig().metricStat,
    ).toMatchObject({
      namespace: 'AWS/WAFV2',
      metricName: 'BlockedRequests',
      dimensions: expect.arrayContaining([
        { name: 'WebACL', value: 'acme-inference-api-acl' },
        { name: 'Rule', value: 'RateLimitPerSource' },
        { name: 'Region', value: 'eu-west-1' },
      ]),
      statistic: 'Sum',
    });
  });
});
