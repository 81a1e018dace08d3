import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_SEGMENTS } from '../../lib/config/schema';
import {
  CONFIG_PREFIX,
  GUARDDUTY_MIN_SEVERITY,
  MANAGED_CONFIG_RULES,
} from '../../lib/constructs/detective-services';
import { defaultTemplate } from '../support/default-app';
import { synthBlueprint } from '../support/synth';
import { only, resourcesOf, statements, type Resource } from '../support/template';

const template = defaultTemplate('Audit');
const [topicId] = only(template, 'AWS::SNS::Topic');
const rules = Object.values(template.findResources('AWS::Events::Rule')) as Resource[];
const ruleFor = (source: string) =>
  rules.find((r) => JSON.stringify(r.Properties?.EventPattern).includes(`"${source}"`));

describe('threat detection', () => {
  test('GuardDuty with S3 protection, malware scans, runtime and Lambda network monitoring, as features only', () => {
    const [, detector] = only(template, 'AWS::GuardDuty::Detector');
    expect(detector.Properties).toMatchObject({ Enable: true });
    // GuardDuty refuses DataSources beside Features (cfn-lint E3063).
    expect(detector.Properties).not.toHaveProperty('DataSources');
    expect(detector.Properties?.Features).toEqual([
      { Name: 'S3_DATA_EVENTS', Status: 'ENABLED' },
      { Name: 'EBS_MALWARE_PROTECTION', Status: 'ENABLED' },
      {
        Name: 'RUNTIME_MONITORING',
        Status: 'ENABLED',
        AdditionalConfiguration: [{ Name: 'EC2_AGENT_MANAGEMENT', Status: 'ENABLED' }],
      },
      { Name: 'LAMBDA_NETWORK_LOGS', Status: 'ENABLED' },
    ]);
  });

  test('GuardDuty findings of medium severity and above reach the alert topic', () => {
    const rule = ruleFor('aws.guardduty');
    expect(rule?.Properties).toMatchObject({
      EventPattern: {
        'detail-type': ['GuardDuty Finding'],
        detail: { severity: [{ numeric: ['>=', GUARDDUTY_MIN_SEVERITY] }] },
      },
      Targets: [expect.objectContaining({ Arn: { Ref: topicId } })],
    });
    expect(GUARDDUTY_MIN_SEVERITY).toBe(4);
  });

  test('Security Hub with Foundational Security Best Practices and NIST 800-53 R5, no default standards', () => {
    const [hubId, hub] = only(template, 'AWS::SecurityHub::Hub');
    expect(hub.Properties).toMatchObject({ EnableDefaultStandards: false });
    const standards = Object.values(template.findResources('AWS::SecurityHub::Standard')) as (Resource & {
      DependsOn?: string[];
    })[];
    expect(
      standards
        .map((s) => JSON.stringify(s.Properties?.StandardsArn).match(/standards\/([\w-]+)\//)?.[1])
        .sort(),
    ).toEqual(['aws-foundational-security-best-practices', 'nist-800-53']);
    for (const s of standards) expect(s.DependsOn).toContain(hubId);
  });
});

describe('configuration audit', () => {
  test('a recorder of every resource type, delivering to the audit bucket encrypted with the audit key', () => {
    const [, recorder] = only(template, 'AWS::Config::ConfigurationRecorder');
    expect(recorder.Properties?.RecordingGroup).toEqual({
      AllSupported: true,
      IncludeGlobalResourceTypes: true,
    });
    const [, channel] = only(template, 'AWS::Config::DeliveryChannel');
    expect(channel.Properties).toMatchObject({
      S3BucketName: { Ref: expect.stringMatching(/^AuditBucket/) as unknown },
      S3KeyPrefix: CONFIG_PREFIX,
      S3KmsKeyArn: { 'Fn::GetAtt': [expect.stringMatching(/^AuditKey/) as unknown, 'Arn'] },
    });
  });

  test('the delivery channel is created after the bucket policy that admits Config (Config checks it on create)', () => {
    const [channelId, channel] = only(template, 'AWS::Config::DeliveryChannel');
    const policyOfTheBucket = Object.entries(template.findResources('AWS::S3::BucketPolicy')).find(([, p]) =>
      JSON.stringify((p as Resource).Properties?.PolicyDocument).includes('ConfigDeliversSnapshots'),
    );
    expect(policyOfTheBucket).toBeDefined();
    expect((channel as { DependsOn?: string[] }).DependsOn).toContain(policyOfTheBucket![0]);
    expect(channelId).toMatch(/^DetectiveServicesConfigDelivery/);
  });

  test('Config may write only its own prefix of the audit bucket, for this account', () => {
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')) as Resource[];
    const config = policies
      .flatMap((p) => statements(p.Properties?.PolicyDocument))
      .filter((s) => JSON.stringify(s.Principal).includes('config.amazonaws.com'));
    expect(config.map((s) => s.Sid).sort()).toEqual(['ConfigChecksBucket', 'ConfigDeliversSnapshots']);
    for (const s of config) expect(JSON.stringify(s.Condition)).toContain('"AWS:SourceAccount"');
    expect(JSON.stringify(config.find((s) => s.Sid === 'ConfigDeliversSnapshots')?.Resource)).toContain(
      `/${CONFIG_PREFIX}/AWSLogs/`,
    );
  });

  test('managed rules for every invariant, each after the recorder; non-compliance reaches the topic', () => {
    const configRules = Object.values(template.findResources('AWS::Config::ConfigRule')) as (Resource & {
      DependsOn?: string[];
    })[];
    expect(
      configRules.map((r) => (r.Properties?.Source as { SourceIdentifier: string }).SourceIdentifier).sort(),
    ).toEqual([...MANAGED_CONFIG_RULES].sort());
    for (const identifier of [
      'VPC_FLOW_LOGS_ENABLED',
      'CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED',
      'MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS',
      'S3_BUCKET_SSL_REQUESTS_ONLY',
      'SAGEMAKER_NOTEBOOK_NO_DIRECT_INTERNET_ACCESS',
      'RESTRICTED_INCOMING_TRAFFIC',
    ]) {
      expect(MANAGED_CONFIG_RULES).toContain(identifier);
    }
    for (const r of configRules)
      expect(r.DependsOn?.some((d) => d.startsWith('DetectiveServicesConfigRecorder'))).toBe(true);
    expect(ruleFor('aws.config')?.Properties).toMatchObject({
      EventPattern: { detail: { newEvaluationResult: { complianceType: ['NON_COMPLIANT'] } } },
      Targets: [expect.objectContaining({ Arn: { Ref: topicId } })],
    });
  });
});

describe('access audits', () => {
  test('IAM Access Analyzer for external and for unused access; active findings reach the topic', () => {
    const analyzers = Object.values(template.findResources('AWS::AccessAnalyzer::Analyzer')) as Resource[];
    expect(analyzers.map((a) => a.Properties?.Type).sort()).toEqual(['ACCOUNT', 'ACCOUNT_UNUSED_ACCESS']);
    expect(ruleFor('aws.access-analyzer')?.Properties).toMatchObject({
      EventPattern: { detail: { status: ['ACTIVE'] } },
      Targets: [expect.objectContaining({ Arn: { Ref: topicId } })],
    });
  });

  test("this account's event rules may publish to the alert topic (alarms too: audit-stack.test)", () => {
    const [, policy] = only(template, 'AWS::SNS::TopicPolicy');
    const allows = statements(policy.Properties?.PolicyDocument).filter((s) => s.Effect === 'Allow');
    expect(allows).toContainEqual(
      expect.objectContaining({
        Sid: 'ThisAccountsEventRulesPublish',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    );
  });
});

describe('the security dashboard', () => {
  const [, dashboard] = only(template, 'AWS::CloudWatch::Dashboard');
  const body = JSON.stringify(dashboard.Properties?.DashboardBody);

  test('shows firewall alerts and DNS blocks per segment, GuardDuty findings and every alarm', () => {
    for (const segment of DEFAULT_SEGMENTS) {
      expect(body).toContain(`FirewallAlerts-${segment.name}`);
      expect(body).toContain(`DnsFirewallBlocks-${segment.name}`);
    }
    expect(body).toContain('MatchedEvents');
    const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(20);
    for (const alarm of alarms) expect(body).toContain(alarm);
  });
});

describe('switched off where a delegated administrator already runs them', () => {
  const { blueprint } = synthBlueprint({
    config: {
      detectiveServices: { guardDuty: false, securityHub: false, awsConfig: false, accessAnalyzer: false },
    },
  });
  const audit = Template.fromStack(blueprint.audit);

  test.each([
    'AWS::GuardDuty::Detector',
    'AWS::SecurityHub::Hub',
    'AWS::SecurityHub::Standard',
    'AWS::Config::ConfigurationRecorder',
    'AWS::Config::DeliveryChannel',
    'AWS::Config::ConfigRule',
    'AWS::AccessAnalyzer::Analyzer',
  ])('no %s', (type) => {
    audit.resourceCountIs(type, 0);
  });

  test('no rule routes their findings; the alert path rule stays', () => {
    const rules = Object.values(audit.findResources('AWS::Events::Rule')) as {
      Properties: { Description: string };
    }[];
    expect(rules.map((r) => r.Properties.Description)).toEqual([
      expect.stringMatching(/^The way alerts travel changed/),
    ]);
  });

  test('the security alarms and the dashboard stay', () => {
    expect(Object.keys(audit.findResources('AWS::CloudWatch::Alarm')).length).toBeGreaterThan(20);
    audit.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    // Nor any grant to the Config service, in the bucket or key policy.
    expect(JSON.stringify(resourcesOf(audit))).not.toContain('"Service":"config.amazonaws.com"');
  });
});
