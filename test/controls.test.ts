/**
 * The security properties a reviewer must never find weakened, each asserted with its expected
 * value written out here: a test that read the constant the code reads would change along with
 * it, and only the snapshot (which one `-u` waves through) would notice.
 */
import { defaultTemplate } from './support/default-app';
import { matchesPattern } from './support/filter-pattern';
import { statements, type Resource } from './support/template';
import { EXPECTED_AWS_SERVICE_NAMES } from './support/expected-controls';

const resources = (stackId: string) =>
  Object.entries(defaultTemplate(stackId).toJSON().Resources as Record<string, Resource>);
const ofType = (stackId: string, type: string) => resources(stackId).filter(([, r]) => r.Type === type);

describe('the data perimeter: the segments whose S3 endpoint may reach each zone', () => {
  const perimeter = (zone: string) => {
    const [, policy] = ofType('Data', 'AWS::S3::BucketPolicy').find(([id]) => id.startsWith(`Zone${zone}`))!;
    const deny = statements(policy.Properties?.PolicyDocument).find(
      (s) => s.Sid === 'DenyDataAccessOffThePerimeter',
    ) as {
      Condition: { StringNotEquals: { 'aws:SourceVpce': { 'Fn::GetStackOutput': { StackName: string } }[] } };
    };
    return deny.Condition.StringNotEquals['aws:SourceVpce']
      .map((e) => e['Fn::GetStackOutput'].StackName)
      .sort();
  };

  test.each([
    ['raw', ['aiseg-network-pipeline']],
    ['curated', ['aiseg-network-development', 'aiseg-network-pipeline', 'aiseg-network-training']],
    ['models', ['aiseg-network-inference', 'aiseg-network-training']],
    ['quarantine', ['aiseg-network-pipeline']],
  ])('%s: exactly %j', (zone, expected) => {
    expect(perimeter(zone)).toEqual(expected);
  });
});

describe("the permission boundary's ceiling", () => {
  const [, boundary] = ofType('Audit', 'AWS::IAM::ManagedPolicy').find(
    ([, r]) => r.Properties?.ManagedPolicyName === 'aiseg-permission-boundary',
  )!;
  const ceiling = statements(boundary.Properties?.PolicyDocument).flatMap(
    (s) => [s.Action].flat() as string[],
  );

  test('holds no wildcard action', () => {
    for (const action of ceiling) expect(action).not.toContain('*');
  });

  test('never holds an action that lets a role raise its own privileges or leave the boundary', () => {
    const escalation = [
      'iam:AddUserToGroup',
      'iam:AttachGroupPolicy',
      'iam:AttachRolePolicy',
      'iam:AttachUserPolicy',
      'iam:CreateAccessKey',
      'iam:CreateLoginProfile',
      'iam:CreatePolicy',
      'iam:CreatePolicyVersion',
      'iam:CreateRole',
      'iam:CreateUser',
      'iam:DeleteRolePermissionsBoundary',
      'iam:DeleteUserPermissionsBoundary',
      'iam:PutGroupPolicy',
      'iam:PutRolePermissionsBoundary',
      'iam:PutRolePolicy',
      'iam:PutUserPermissionsBoundary',
      'iam:PutUserPolicy',
      'iam:SetDefaultPolicyVersion',
      'iam:UpdateAssumeRolePolicy',
      'iam:UpdateLoginProfile',
      'lambda:CreateFunction',
      'lambda:UpdateFunctionCode',
      'lambda:UpdateFunctionConfiguration',
      'ec2:RunInstances',
      'cloudformation:CreateStack',
      'cloudformation:UpdateStack',
      'glue:CreateDevEndpoint',
      'kms:PutKeyPolicy',
      's3:PutBucketPolicy',
      'sagemaker:CreateNotebookInstance',
      'sagemaker:CreatePresignedNotebookInstanceUrl',
      'ssm:SendCommand',
      'sts:AssumeRoleWithWebIdentity',
    ];
    expect(ceiling.filter((action) => escalation.includes(action))).toEqual([]);
  });
});

describe('Network Firewall defaults', () => {
  const ruleGroupNames = (stackId: string) => {
    const [, policy] = ofType(stackId, 'AWS::NetworkFirewall::FirewallPolicy')[0];
    const references = (
      policy.Properties?.FirewallPolicy as {
        StatefulRuleGroupReferences: { ResourceArn: unknown; Priority: number }[];
      }
    ).StatefulRuleGroupReferences;
    return references
      .sort((a, b) => a.Priority - b.Priority)
      .map((r) => /stateful-rulegroup\/(\w+)StrictOrder/.exec(JSON.stringify(r.ResourceArn))?.[1] ?? 'own');
  };
  const managed = [
    'ThreatSignaturesBotnet',
    'ThreatSignaturesMalware',
    'ThreatSignaturesEmergingEvents',
    'BotNetCommandAndControlDomains',
    'MalwareDomains',
  ];

  test.each(['development', 'training', 'inference', 'pipeline'])(
    '%s: its IPS rules, then the five AWS managed threat groups, and no allowlist: no segment reaches the internet by default',
    (segment) => {
      expect(ruleGroupNames(`Network-${segment}`)).toEqual(['own', ...managed]);
      const lists = ofType(`Network-${segment}`, 'AWS::NetworkFirewall::RuleGroup').filter(
        ([, r]) =>
          (r.Properties?.RuleGroup as { RulesSource: { RulesSourceList?: unknown } }).RulesSource
            .RulesSourceList,
      );
      expect(lists).toEqual([]);
    },
  );
});

describe('DNS Firewall: what a segment without egress may resolve', () => {
  const allowed = (stackId: string) => {
    const lists = Object.fromEntries(ofType(stackId, 'AWS::Route53Resolver::FirewallDomainList'));
    const [, group] = ofType(stackId, 'AWS::Route53Resolver::FirewallRuleGroup')[0];
    const allow = (
      group.Properties?.FirewallRules as {
        Action: string;
        FirewallDomainListId: { 'Fn::GetAtt': string[] };
      }[]
    ).filter((r) => r.Action === 'ALLOW');
    return allow.flatMap(
      (r) => lists[r.FirewallDomainListId['Fn::GetAtt'][0]].Properties?.Domains as string[],
    );
  };

  test.each(['training', 'inference', 'pipeline'])(
    '%s: AWS service names and the VPC’s own, nothing else',
    (segment) => {
      expect(allowed(`Network-${segment}`)).toEqual(EXPECTED_AWS_SERVICE_NAMES);
    },
  );

  test('no segment allows every name', () => {
    for (const segment of ['development', 'training', 'inference', 'pipeline']) {
      expect(allowed(`Network-${segment}`)).not.toContain('*');
    }
  });
});

describe('CIS: the trail-change alarm', () => {
  const [, filter] = ofType('Audit', 'AWS::Logs::MetricFilter').find(
    ([, r]) =>
      (r.Properties?.MetricTransformations as { MetricName: string }[])[0].MetricName === 'CloudTrailChanges',
  )!;
  const pattern = String(filter.Properties?.FilterPattern);

  test.each([
    'CreateTrail',
    'UpdateTrail',
    'DeleteTrail',
    'StartLogging',
    'StopLogging',
    'PutEventSelectors',
  ])('matches %s', (eventName) => {
    expect(matchesPattern(pattern, { eventSource: 'cloudtrail.amazonaws.com', eventName })).toBe(true);
  });

  test('does not match reading a trail', () => {
    expect(
      matchesPattern(pattern, { eventSource: 'cloudtrail.amazonaws.com', eventName: 'GetTrailStatus' }),
    ).toBe(false);
  });
});
