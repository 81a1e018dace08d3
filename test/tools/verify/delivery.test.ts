import { readAssembly, type Assembly } from '../../../lib/tools/verify/assembly';
import { renderMarkdown, verify, type VerificationReport } from '../../../lib/tools/verify/verify';
import {
  exampleAssembly,
  idOf,
  resources,
  stack,
  violationsAfter,
  WHILE_EXAMPLE_RISK_LIVES,
} from '../../support/assembly';
import { defaultAppDir } from '../../support/default-app';

interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action?: unknown;
  Condition?: Record<string, unknown>;
}
const statementsOf = (document: unknown) => (document as { Statement: PolicyStatement[] }).Statement;

/** Invariant 11's violations after a change to the default assembly, as their details. */
const signalViolations = async (mutate: (a: Assembly) => void) =>
  (await violationsAfter(mutate)).filter((v) => v.invariant === 11).map((v) => v.detail);

describe('invariant 11 over the default blueprint', () => {
  let report: VerificationReport;
  let paths: VerificationReport['delivery'];
  beforeAll(async () => {
    report = await verify(readAssembly(defaultAppDir()));
    paths = report.delivery;
  });
  const kinds = (kind: string) => paths.filter((p) => p.kind === kind);

  test('holds: every signal path is admitted', () => {
    expect(report.invariants.find((i) => i.id === 11)).toMatchObject({ passed: true, violations: [] });
    expect(paths.filter((p) => !p.passed)).toEqual([]);
  });

  test('follows every alarm, event rule, function, log delivery and encrypted log group of the blueprint', () => {
    expect(kinds('alarm action')).toHaveLength(59);
    // GuardDuty, Config, Access Analyzer, the stage, the alert path heard from the trail's events.
    expect(kinds('event rule target').length).toBe(5);
    expect(kinds('event rule dead letters')).toHaveLength(1);
    expect(kinds('function role').length).toBe(6); // the stage, the backend, four default-SG handlers
    expect(kinds('function dead letters')).toHaveLength(1);
    expect(kinds('flow logs')).toHaveLength(8); // to CloudWatch and to the audit bucket, per segment
    expect(kinds('firewall alert logs')).toHaveLength(4);
    expect(kinds('firewall flow logs')).toHaveLength(4);
    expect(kinds('DNS query logs')).toHaveLength(4);
    expect(kinds('AWS WAF logs')).toHaveLength(1);
    expect(kinds('CloudTrail').length).toBe(3); // bucket, key, log group
    expect(kinds('AWS Config').length).toBe(2);
    // The audit bucket, four zones and the stage's staging store: policy and retention.
    expect(kinds('S3 access logs').length).toBe(12);
    expect(kinds('encrypted log group').length).toBeGreaterThan(0);
  });

  test('the alert topic has no subscriber by default: a warning in the evidence, not a violation', () => {
    expect(report.silentTopics).toEqual([expect.stringMatching(/^Audit\/AlertsTopic/)]);
    expect(renderMarkdown(report)).toMatch(
      /\*\*Warning: the alert topic Audit\/AlertsTopic\w+ has no subscriber\.\*\*/,
    );
    expect(renderMarkdown(report)).toContain('## Signal delivery');
  });
});

describe('invariant 11 names source, destination and the missing statement', () => {
  const topicPolicy = (a: Assembly) =>
    statementsOf(
      resources(stack(a, 'Audit'))[idOf(stack(a, 'Audit'), 'AWS::SNS::TopicPolicy')].Properties
        .PolicyDocument,
    );

  test('a topic policy that admits EventBridge only: every alarm goes silent', async () => {
    const details = await signalViolations((a) => {
      const list = topicPolicy(a);
      list.splice(
        list.findIndex((s) => s.Sid === 'ThisAccountsAlarmsPublish'),
        1,
      );
    });
    expect(details).toHaveLength(59);
    expect(details[0]).toMatch(
      /^alarm action AWS::CloudWatch::Alarm \w+\/\w+ -> AWS::SNS::Topic Audit\/AlertsTopic\w+: missing topic policy: Allow cloudwatch.amazonaws.com sns:Publish/,
    );
  });

  test('a publisher admitted without aws:SourceAccount or aws:SourceArn (confused deputy)', async () => {
    const details = await signalViolations((a) => {
      delete topicPolicy(a).find((s) => s.Sid === 'ThisAccountsEventRulesPublish')!.Condition;
    });
    expect(
      details.some((d) => /events.amazonaws.com bound by aws:SourceAccount or aws:SourceArn/.test(d)),
    ).toBe(true);
  });

  test('a topic key that does not admit CloudWatch', async () => {
    const details = await signalViolations((a) => {
      const audit = stack(a, 'Audit');
      const key = resources(audit)[idOf(audit, 'AWS::KMS::Key')];
      const list = statementsOf(key.Properties.KeyPolicy);
      const both = list.find((s) => s.Sid === 'AlarmsAndEventsPublishEncryptedAlerts')!;
      both.Principal = { Service: 'events.amazonaws.com' };
    });
    expect(
      details.some((d) =>
        /key policy of Audit\/AuditKey\w+: Allow cloudwatch.amazonaws.com kms:GenerateDataKey/.test(d),
      ),
    ).toBe(true);
  });

  test('a topic under the AWS managed SNS key, which no alarm can use', async () => {
    const details = await signalViolations((a) => {
      const audit = stack(a, 'Audit');
      resources(audit)[idOf(audit, 'AWS::SNS::Topic')].Properties.KmsMasterKeyId = 'alias/aws/sns';
    });
    expect(
      details.some((d) => d.includes('the AWS managed SNS key admits no cloudwatch.amazonaws.com')),
    ).toBe(true);
  });

  test('a traced function whose role cannot write traces', async () => {
    const details = await signalViolations((a) => {
      const identity = stack(a, 'Identity');
      for (const r of Object.values(resources(identity))) {
        if (r.Type !== 'AWS::IAM::ManagedPolicy') continue;
        const document = r.Properties.PolicyDocument as { Statement: PolicyStatement[] };
        document.Statement = document.Statement.filter((s) => s.Sid !== 'UnscopedActiveTracing');
      }
    });
    expect(details).toEqual([
      expect.stringMatching(
        /^function role AWS::Lambda::Function InferenceApi\/Backend\w+ -> role aiseg-inference-inference-api: missing role and boundary: Allow xray:PutTraceSegments on \*; role and boundary: Allow xray:PutTelemetryRecords on \*$/,
      ),
    ]);
  });

  test('a boundary that cuts what the role grants (tracing)', async () => {
    const details = await signalViolations((a) => {
      const audit = stack(a, 'Audit');
      const boundary = resources(audit)[idOf(audit, 'AWS::IAM::ManagedPolicy', 'PermissionBoundary')];
      const [ceiling] = statementsOf(boundary.Properties.PolicyDocument);
      ceiling.Action = (ceiling.Action as string[]).filter((x) => !x.startsWith('xray:'));
    });
    expect(details.some((d) => d.includes('Allow xray:PutTraceSegments'))).toBe(true);
  });

  test('a dead-letter queue key that refuses the stage: its failures would be lost', async () => {
    const details = await signalViolations((a) => {
      const data = stack(a, 'Data');
      const key = resources(data)[idOf(data, 'AWS::KMS::Key', 'PseudonymizationDeadLetterKey')];
      const deny = statementsOf(key.Properties.KeyPolicy).find(
        (s) => s.Sid === 'NoOtherPrincipalUsesTheKey',
      )!;
      const spared = (deny.Condition as { ArnNotEquals: { 'aws:PrincipalArn': unknown[] } }).ArnNotEquals;
      spared['aws:PrincipalArn'] = spared['aws:PrincipalArn'].slice(1);
    });
    expect(
      details.some((d) =>
        /^function dead letters .*Pipeline\/Function\w+ -> AWS::SQS::Queue Data\/PseudonymizationDeadLetters\w+: missing key policy .*Allow role\/aiseg-pseudonymization kms:GenerateDataKey/.test(
          d,
        ),
      ),
    ).toBe(true);
  });

  test("the stage rule's target without a Lambda permission", async () => {
    const details = await signalViolations((a) => {
      const pipeline = stack(a, 'Pipeline');
      delete resources(pipeline)[idOf(pipeline, 'AWS::Lambda::Permission')];
    });
    expect(details).toEqual([
      expect.stringMatching(
        /^event rule target .* -> AWS::Lambda::Function Pipeline\/Function\w+: missing a Lambda permission/,
      ),
    ]);
  });

  test('an access-log destination with an Object Lock default retention', async () => {
    const details = await signalViolations((a) => {
      const audit = stack(a, 'Audit');
      const [id] = Object.entries(resources(audit)).find(
        ([, r]) => r.Type === 'AWS::S3::Bucket' && r.Properties.LoggingConfiguration === undefined,
      )!;
      resources(audit)[id].Properties.ObjectLockConfiguration = {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2192 } },
      };
    });
    expect(details.length).toBe(6);
    expect(details[0]).toContain(
      'missing a destination without an Object Lock default retention (S3 refuses one)',
    );
  });

  test('a log group resource policy that forgets the firewall alert groups', async () => {
    const details = await signalViolations((a) => {
      const audit = stack(a, 'Audit');
      delete resources(audit)[idOf(audit, 'AWS::Logs::ResourcePolicy')];
    });
    // Firewall alerts (4 firewalls: one tripwire per segment), DNS queries (4 segments), AWS WAF (1).
    expect(details).toHaveLength(9);
    expect(
      details.every((d) =>
        d.includes('a log resource policy: Allow delivery.logs.amazonaws.com logs:PutLogEvents'),
      ),
    ).toBe(true);
  });
});

describe("invariant 11 over the example's airlock", () => {
  const exampleSignalViolations = async (mutate: (a: Assembly) => void) =>
    (await violationsAfter(mutate, exampleAssembly)).filter((v) => v.invariant === 11).map((v) => v.detail);

  test('the scan results reach the workflow through the events role, and the held scans the alert topic', async () => {
    const report = await verify(exampleAssembly(), { generatedAt: WHILE_EXAMPLE_RISK_LIVES });
    const airlockTargets = report.delivery.filter(
      (p) => p.kind === 'event rule target' && p.source.includes('Airlock/'),
    );
    // The scan results to the import workflow; the held scans and the export requests to the alert topic.
    expect(airlockTargets.map((p) => [p.destination, p.passed]).sort()).toEqual([
      ['AWS::SNS::Topic Audit/AlertsTopicCF7C81C9', true],
      ['AWS::SNS::Topic Audit/AlertsTopicCF7C81C9', true],
      ['AWS::StepFunctions::StateMachine Airlock/ImportWorkflowA140E374', true],
    ]);
    expect(
      report.delivery.filter((p) => p.kind === 'event rule dead letters' && p.source.includes('Airlock/')),
    ).toEqual([expect.objectContaining({ passed: true })]);
  });

  test('the events role without StartExecution: the rule could not start the workflow', async () => {
    const found = await exampleSignalViolations((a) => {
      const identity = stack(a, 'Identity');
      const policy = resources(identity)[idOf(identity, 'AWS::IAM::ManagedPolicy', 'airlockeventsPolicy')]
        .Properties.PolicyDocument as { Statement: PolicyStatement[] };
      policy.Statement = policy.Statement.filter((s) => s.Sid !== 'StartTheImportWorkflow');
    });
    expect(found).toContainEqual(
      expect.stringContaining(
        'target role and boundary: Allow states:StartExecution on arn:aws:states:eu-west-1:123456789012:stateMachine:acme-ai-airlock-import',
      ),
    );
  });
});
