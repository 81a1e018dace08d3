import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { acknowledge, acknowledgementId } from '../../lib/gate/acknowledge';
import { addComplianceGate } from '../../lib/gate/compliance-gate';
import { defaultAppDir, exampleAppDir } from '../support/default-app';
import { readReport, unacknowledgedFindings, type Violation } from '../support/report';
import { synthBlueprint, testApp } from '../support/synth';

const PACKS = ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'cdk-validator-cfnguard'];

/**
 * One gated app of known-bad stacks, synthesized once for the tests below (each gated synth starts
 * the guard and CloudFormation validation workers): every stack is added after the gate, `Canary`
 * holds a bucket that breaks every pack's S3 rules, `Typo` an escape-hatch typo, `Oversized` a
 * managed policy over IAM's size quota, `Acked` the same bucket with one finding acknowledged.
 */
const knownBad = (() => {
  let report: ReturnType<typeof readReport> | undefined;
  return () => {
    if (report) return report;
    const app = testApp();
    addComplianceGate(app);
    new s3.CfnBucket(new Stack(app, 'Canary'), 'UnprotectedBucket');
    new sns.CfnTopic(new Stack(app, 'Typo'), 'Topic').addPropertyOverride('DisplayNmae', 'alerts');
    new iam.CfnManagedPolicy(new Stack(app, 'Oversized'), 'Policy', {
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'logs:GetLogEvents',
            Resource: Array.from(
              { length: 120 },
              (_, i) => `arn:aws:logs:eu-west-1:123456789012:log-group:/team/app-${i}:*`,
            ),
          },
        ],
      },
    });
    const acked = new s3.CfnBucket(new Stack(app, 'Acked'), 'AcknowledgedBucket');
    acknowledge(acked, {
      pack: 'cdk-validator-cfnguard',
      rule: 's3_bucket_logging_enabled_check',
      reason: 'Test bucket: access is recorded by CloudTrail data events instead of server access logs.',
    });
    report = readReport(app.synth().directory);
    return report;
  };
})();

/** The findings of a plugin at constructs under `stack`. */
const at = (violations: readonly Violation[] | undefined, stack: string) =>
  (violations ?? []).filter((v) =>
    v.violatingConstructs.some((c) => c.constructPath.startsWith(`${stack}/`)),
  );

describe('the compliance gate over the default blueprint', () => {
  test('finds zero unacknowledged findings across every pack', () => {
    const report = readReport(defaultAppDir());
    expect(unacknowledgedFindings(report)).toEqual([]);
    for (const plugin of report.pluginReports) expect(plugin.conclusion).toBe('success');
  });

  test('lists every acknowledged finding with its reason for reviewers', () => {
    const suppressed = readReport(defaultAppDir()).pluginReports.flatMap((p) => p.suppressedViolations ?? []);
    expect(suppressed.length).toBeGreaterThan(0);
    for (const finding of suppressed) expect((finding.reason ?? '').length).toBeGreaterThanOrEqual(40);
  });

  test('every acknowledgement the blueprint makes covers a finding that really occurs (none is stale)', () => {
    const dir = defaultAppDir();
    const suppressed = readReport(dir).pluginReports.flatMap(
      (p) => p.suppressedViolations ?? [],
    ) as unknown as {
      acknowledgedId: string;
      violatingConstructs: { constructPath: string }[];
    }[];
    const acknowledgements = readdirSync(dir)
      .filter((f) => f.endsWith('.metadata.json'))
      .flatMap((f) =>
        Object.entries(
          JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<
            string,
            { type: string; data: Record<string, string>; trace?: string[] }[]
          >,
        ).flatMap(([path, entries]) =>
          entries
            // Ours go through the helper; aws-cdk-lib makes a few of its own (CloudFormation-Validate).
            .filter(
              (e) =>
                e.type === 'aws:cdk:acknowledged-rules' &&
                /gate[\\/]acknowledge/.test((e.trace ?? []).join('\n')),
            )
            .flatMap((e) => Object.keys(e.data).map((id) => ({ path: path.replace(/^\//, ''), id }))),
        ),
      );
    expect(acknowledgements.length).toBeGreaterThan(0);
    const stale = acknowledgements.filter(
      ({ path, id }) =>
        !suppressed.some(
          (s) =>
            s.acknowledgedId === id && s.violatingConstructs.some((c) => c.constructPath.startsWith(path)),
        ),
    );
    expect(stale).toEqual([]);
  });

  test('no acknowledgement sits on an app or a stack, where it would blind the gate', () => {
    const dir = defaultAppDir();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.metadata.json'))) {
      const metadata = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<
        string,
        { type: string }[]
      >;
      for (const [path, entries] of Object.entries(metadata)) {
        if (entries.some((e) => e.type === 'aws:cdk:acknowledged-rules')) {
          expect(path.split('/').filter(Boolean).length).toBeGreaterThan(1);
        }
      }
    }
  });
});

describe('canary: the same gate test fails on a known-bad resource', () => {
  test.each(PACKS)('%s reports the unprotected bucket', (pack) => {
    const plugin = knownBad().pluginReports.find((p) => p.pluginName === pack);
    expect(plugin?.conclusion).toBe('failure');
    expect(plugin?.violations.flatMap((v) => v.violatingConstructs.map((c) => c.constructPath))).toContain(
      'Canary/UnprotectedBucket',
    );
  });

  test('so the zero-findings assertion would fail', () => {
    expect(
      unacknowledgedFindings(knownBad()).filter((f) => f.endsWith(' at Canary/UnprotectedBucket')).length,
    ).toBeGreaterThan(PACKS.length);
  });
});

describe('built-in CloudFormation validation', () => {
  test('fails synth on an escape-hatch typo (findings are errors, not warnings)', () => {
    const app = testApp({ builtinValidation: true });
    new sns.CfnTopic(new Stack(app, 'Typo'), 'Topic').addPropertyOverride('DisplayNmae', 'alerts');
    const builtIn = readReport(app.synth().directory).pluginReports.find(
      (p) => p.pluginName === 'CloudFormation Validate',
    );
    expect(builtIn?.conclusion).toBe('failure');
    expect(builtIn?.violations).toEqual([
      expect.objectContaining({
        ruleName: 'F3002',
        severity: 'error',
        violatingConstructs: [expect.objectContaining({ constructPath: 'Typo/Topic' })],
      }),
    ]);
  });
});

describe('the gate runs guard and the CloudFormation validation in other processes', () => {
  test('the CloudFormation validation still fails synth on the typo, in one report (it replaces the default)', () => {
    const reports = knownBad().pluginReports;
    const builtIn = reports.filter((p) => p.pluginName === 'CloudFormation Validate');
    expect(builtIn).toHaveLength(1);
    expect(builtIn[0].conclusion).toBe('failure');
    expect(at(builtIn[0].violations, 'Typo')).toEqual([
      expect.objectContaining({ ruleName: 'F3002', severity: 'error' }),
    ]);
    // Every plugin reports once, under its own name.
    const names = reports.map((p) => p.pluginName);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe("the gate measures IAM's policy size quotas, which no pack sees", () => {
  test('a managed policy over 6,144 characters fails synth, named with its size and the quota', () => {
    const quotas = knownBad().pluginReports.find((p) => p.pluginName === 'IAM-Quotas');
    expect(quotas?.conclusion).toBe('failure');
    expect(quotas?.violations).toEqual([
      expect.objectContaining({
        ruleName: 'iam-policy-size',
        severity: 'error',
        description: expect.stringMatching(
          /^managed policy Oversized\/Policy would be about [\d,]+ characters .* over IAM's quota of 6,144/,
        ),
        violatingConstructs: [expect.objectContaining({ constructPath: 'Oversized/Policy' })],
      }),
    ]);
  });
});

describe('the gate is registered on the app root', () => {
  test('a stack added after the blueprint is checked too', () => {
    // Every stack of the known-bad app is added after the gate.
    const findings = unacknowledgedFindings(knownBad()).filter((f) =>
      f.endsWith(' at Canary/UnprotectedBucket'),
    );
    for (const pack of PACKS) expect(findings.some((f) => f.startsWith(`${pack} `))).toBe(true);
  });

  test('a stateful resource that is not retained fails synth', () => {
    const { outdir } = synthBlueprint({
      config: { segments: [{ name: 'dev', kind: 'development', vpcCidr: '10.10.0.0/16', azCount: 1 }] },
      gate: false,
      mutate: (app) =>
        new s3.Bucket(app.node.findChild('Audit'), 'Disposable', { removalPolicy: RemovalPolicy.DESTROY }),
    });
    const annotations = readReport(outdir).pluginReports.flatMap((p) =>
      p.violations.map((v) => v.description),
    );
    expect(annotations).toEqual(
      expect.arrayContaining([
        expect.stringContaining('AWS::S3::Bucket must be retained: DeletionPolicy is Delete'),
      ]),
    );
  });
});

describe('acknowledgements', () => {
  test('carry the pack prefix, so the report lists them with their reason', () => {
    expect(acknowledgementId({ pack: 'AwsSolutions', rule: 'S1' })).toBe('AwsSolutions::AwsSolutions-S1');
    expect(acknowledgementId({ pack: 'HIPAA.Security', rule: 'S3BucketReplicationEnabled' })).toBe(
      'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled',
    );
    expect(acknowledgementId({ pack: 'cdk-validator-cfnguard', rule: 'lambda_inside_vpc_check' })).toBe(
      'cdk-validator-cfnguard::lambda_inside_vpc_check',
    );
  });

  test('without a reason naming the compensating control are refused', () => {
    const stack = new Stack(testApp(), 'S');
    expect(() => acknowledge(stack, { pack: 'AwsSolutions', rule: 'S1', reason: 'not needed' })).toThrow(
      /reason "not needed" is too short; expected at least 40 characters naming the compensating control/,
    );
  });

  test('an acknowledged finding leaves the report as suppressed, not as a violation', () => {
    const guard = knownBad().pluginReports.find((p) => p.pluginName === 'cdk-validator-cfnguard');
    // The same rule still fails the canary's bucket, which has no acknowledgement.
    expect(at(guard?.violations, 'Canary').map((v) => v.ruleName)).toContain(
      's3_bucket_logging_enabled_check',
    );
    expect(at(guard?.violations, 'Acked').map((v) => v.ruleName)).not.toContain(
      's3_bucket_logging_enabled_check',
    );
    expect(at(guard?.suppressedViolations, 'Acked').map((v) => v.ruleName)).toContain(
      's3_bucket_logging_enabled_check',
    );
  });
});

describe('the compliance gate over the example configuration', () => {
  test('finds zero unacknowledged findings, warnings included', () => {
    const report = readReport(exampleAppDir());
    expect(unacknowledgedFindings(report)).toEqual([]);
    for (const plugin of report.pluginReports) expect(plugin.conclusion).toBe('success');
  });
});
