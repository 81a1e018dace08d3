import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
// cdk-nag's own function, which it does not export: compared against here, and only here.
import { flattenCfnReference as cdkNagFlatten } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { acknowledgeWildcardResources } from '../../lib/gate/acknowledge';
import { flattenCfnReference } from '../../lib/gate/flatten-cfn-reference';
import { readReport } from '../support/report';
import { testApp } from '../support/synth';

/** Resolved policy resources in every form a template holds them, with the id each flattens to. */
const CASES: [string, unknown, string][] = [
  ['nothing', undefined, ''],
  ['a literal', 'arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/*'],
  ['a Sub placeholder in a string', 'arn:${AWS::Partition}:s3:::b', 'arn:<AWS::Partition>:s3:::b'],
  ['a Ref', { Ref: 'Bucket' }, '<Bucket>'],
  ['a GetAtt', { 'Fn::GetAtt': ['Bucket', 'Arn'] }, '<Bucket.Arn>'],
  [
    'a Join of a GetAtt and a pattern',
    { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket', 'Arn'] }, '/*']] },
    '<Bucket.Arn>/*',
  ],
  [
    'a Join of pseudo parameters',
    { 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 'logs', { Ref: 'AWS::Region' }, '*']] },
    'arn:<AWS::Partition>:logs:<AWS::Region>:*',
  ],
  ['a Sub string', { 'Fn::Sub': 'arn:${AWS::Partition}:sqs:*' }, 'arn:<AWS::Partition>:sqs:*'],
  [
    'a Sub with variables',
    { 'Fn::Sub': ['${Q}/*', { Q: { Ref: 'Queue' } }] },
    '["${Q}/*",{"Q":{"Ref":"Queue"}}]',
  ],
  ['an ImportValue', { 'Fn::ImportValue': 'Data:ExportsOutputBucketArn' }, 'Data:ExportsOutputBucketArn'],
  [
    'a GetStackOutput (no case of its own: JSON)',
    { 'Fn::GetStackOutput': { StackName: 'aiseg-data', OutputName: 'Arn' } },
    '{"Fn::GetStackOutput":{"StackName":"aiseg-data","OutputName":"Arn"}}',
  ],
  [
    'a Join with a GetStackOutput inside',
    { 'Fn::Join': ['', [{ 'Fn::GetStackOutput': { StackName: 's', OutputName: 'o' } }, '/*']] },
    '{"Fn::GetStackOutput":{"StackName":"s","OutputName":"o"}}/*',
  ],
  ['an object with two intrinsics: Join wins', { Ref: 'X', 'Fn::Join': ['-', ['a', 'b']] }, 'a-b'],
  ['an intrinsic with an empty value', { Ref: '' }, '{"Ref":""}'],
  ['a number', 5, '5'],
  ['a list', ['a', { Ref: 'B' }], '["a",{"Ref":"B"}]'],
];

describe('flattenCfnReference', () => {
  test.each(CASES)('flattens %s as cdk-nag does', (_, value, expected) => {
    expect(flattenCfnReference(value)).toBe(expected);
    expect(flattenCfnReference(value)).toBe(cdkNagFlatten(value));
  });

  test('acknowledges exactly the ids AwsSolutions-IAM5 reports for a policy of wildcard resources', () => {
    const app = testApp();
    const stack = new Stack(app, 'Wildcards');
    const bucket = new s3.CfnBucket(stack, 'Bucket');
    const policy = new iam.CfnManagedPolicy(stack, 'Policy', {
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: [
              { 'Fn::Join': ['', [bucket.getAtt('Arn'), '/*']] },
              { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::other-*' },
            ],
          },
        ],
      },
    });
    acknowledgeWildcardResources(
      policy,
      (resource) => `${resource} is a test pattern, nothing else is granted`,
    );
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const report = readReport(app.synth().directory);
    const nag = report.pluginReports.find((p) => p.pluginName === 'AwsSolutions')!;
    const iam5 = (findings: readonly { ruleName: string }[]) =>
      findings.map((f) => f.ruleName).filter((rule) => rule.startsWith('AwsSolutions-IAM5'));
    expect(iam5(nag.violations)).toEqual([]);
    expect(iam5(nag.suppressedViolations ?? []).sort()).toEqual([
      'AwsSolutions-IAM5[Resource::<Bucket.Arn>/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::other-*]',
    ]);
  });
});
