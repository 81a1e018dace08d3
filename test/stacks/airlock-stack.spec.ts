import { MALWARE_SCAN_VALIDATION_KEY } from '../../lib/airlock';
import { readAssembly, type StackTemplate } from '../../lib/tools/verify/assembly';
import { evaluate, type PolicyDocument } from '../../lib/tools/verify/engine';
import { Resolver } from '../../lib/tools/verify/resolve';
import {
  EXPORT_SUBSTITUTIONS,
  sourceBucketSubstitution,
  WORKFLOW_SUBSTITUTIONS,
} from '../../lib/stacks/airlock-workflow';
import { defaultStackIds, exampleAppDir, readTemplateJson } from '../support/default-app';

/**
 * The airlock on the example configuration's templates (account 123456789012, eu-west-1): who
 * may do what to its zone, its log and its desk, as the IAM engine decides from the role's
 * policy, the boundary and the resource's policy together; and the wiring of scan, workflow and
 * alarms.
 */

const ACCOUNT = '123456789012';
const ORGANIZATION = 'o-a1b2c3d4e5';
const PREFIX = 'acme-ai';
const IMPORT = `arn:aws:s3:::${PREFIX}-airlock-import-${ACCOUNT}-eu-west-1`;
const LOG = `arn:aws:s3:::${PREFIX}-airlock-log-${ACCOUNT}-eu-west-1`;
const RAW = `arn:aws:s3:::${PREFIX}-raw-${ACCOUNT}-eu-west-1`;
const MODELS = `arn:aws:s3:::${PREFIX}-models-${ACCOUNT}-eu-west-1`;
const CURATED = `arn:aws:s3:::${PREFIX}-curated-${ACCOUNT}-eu-west-1`;
const EXPORT = `arn:aws:s3:::${PREFIX}-airlock-export-${ACCOUNT}-eu-west-1`;
const QUARANTINE = `arn:aws:s3:::${PREFIX}-quarantine-${ACCOUNT}-eu-west-1`;
/** The example's export destination: a partner's bucket in its own account. */
const PARTNER = { bucket: 'arn:aws:s3:::acme-research-partner-results', account: '210987654321' };
const DESK = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${PREFIX}-airlock-desk`;
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${PREFIX}-${name}`;
/** An importer's session: its `aws:userid` is the role's id and the session's name. */
const ALICE = 'AROAEXAMPLEIMPORTER1:alice';

const assembly = readAssembly(exampleAppDir());
const resolver = new Resolver(assembly);
const stackOf = (id: string): StackTemplate => assembly.stacks.find((s) => s.id === id)!;
const resourcesOf = (id: string, type: string) =>
  Object.entries(stackOf(id).template.Resources ?? {})
    .filter(([, r]) => r.Type === type)
    .map(([logicalId, r]) => ({
      logicalId,
      properties: resolver.resolve(r.Properties ?? {}, stackOf(id)) as Record<string, unknown>,
    }));
const machineNamed = (name: string) => {
  const found = resourcesOf('Airlock', 'AWS::StepFunctions::StateMachine').filter(
    (m) => m.properties.StateMachineName === name,
  );
  expect(found).toHaveLength(1);
  return found[0].properties;
};
const one = (id: string, type: string) => {
  const found = resourcesOf(id, type);
  expect(found).toHaveLength(1);
  return found[0].properties;
};

const boundary = resourcesOf('Audit', 'AWS::IAM::ManagedPolicy')
  .filter((p) => p.properties.ManagedPolicyName === `${PREFIX}-permission-boundary`)
  .map((p) => p.properties.PolicyDocument as PolicyDocument);
function identityOf(role: string): PolicyDocument[] {
  const [roleResource] = Object.entries(stackOf('Identity').template.Resources ?? {}).filter(
    ([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties?.RoleName === `${PREFIX}-${role}`,
  );
  if (!roleResource) throw new Error(`no role ${role}`);
  return Object.values(stackOf('Identity').template.Resources ?? {})
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties?.Roles).includes(roleResource[0]),
    )
    .map((r) => resolver.resolve(r.Properties?.PolicyDocument, stackOf('Identity')) as PolicyDocument);
}
/** The data stack's bucket of a name, as the resolver refers to it (`ref|Data/<logical id>`). */
function bucketRef(bucketArn: string): string {
  const name = bucketArn.replace('arn:aws:s3:::', '');
  const found = resourcesOf('Data', 'AWS::S3::Bucket').find((b) => b.properties.BucketName === name);
  if (!found) throw new Error(`no bucket ${name}`);
  return `ref|Data/${found.logicalId}`;
}
function bucketPolicy(bucketArn: string): PolicyDocument {
  const ref = bucketRef(bucketArn);
  const found = resourcesOf('Data', 'AWS::S3::BucketPolicy').find((p) => p.properties.Bucket === ref);
  if (!found) throw new Error(`no policy for ${ref}`);
  return found.properties.PolicyDocument as PolicyDocument;
}

/** A request by one of the blueprint's roles, from off every network unless `context` says otherwise. */
function call(
  role: string,
  action: string,
  resource: string,
  options: { resourcePolicy?: PolicyDocument; context?: Record<string, string> } = {},
) {
  const principal = roleArn(role);
  return evaluate({
    principal,
    action,
    resource,
    resourceAccount: ACCOUNT,
    context: {
      'aws:PrincipalAccount': ACCOUNT,
      'aws:PrincipalArn': principal,
      'aws:PrincipalOrgID': ORGANIZATION,
      'aws:ResourceOrgID': ORGANIZATION,
      'aws:SecureTransport': 'true',
      'aws:SourceIp': '198.51.100.7',
      'aws:MultiFactorAuthPresent': 'true',
      'aws:MultiFactorAuthAge': '60',
      'aws:userid': ALICE,
      ...(action === 's3:PutObject' && kmsKeyOf(resource)
        ? {
            's3:x-amz-server-side-encryption': 'aws:kms',
            's3:x-amz-server-side-encryption-aws-kms-key-id': kmsKeyOf(resource),
          }
        : {}),
      ...options.context,
    },
    identityPolicies: identityOf(role),
    boundary,
    ...(options.resourcePolicy ? { resourcePolicy: options.resourcePolicy } : {}),
  });
}
/** A request by one of the blueprint's roles to a bucket of another account, which has its own policy. */
function evaluateOutside(role: string, action: string, resource: string, account: string) {
  const principal = roleArn(role);
  return evaluate({
    principal,
    action,
    resource,
    resourceAccount: account,
    context: {
      'aws:PrincipalAccount': ACCOUNT,
      'aws:PrincipalArn': principal,
      'aws:PrincipalOrgID': ORGANIZATION,
      'aws:SecureTransport': 'true',
      'aws:SourceIp': '198.51.100.7',
      'aws:userid': ALICE,
      's3:ResourceAccount': account,
    },
    identityPolicies: identityOf(role),
    boundary,
    // The partner's bucket policy admits the exporter (docs/airlock.md); what is tested here is the blueprint's side.
    resourcePolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: roleArn('airlock-exporter') },
          Action: 's3:PutObject',
          Resource: `${resource.split('/')[0]}/*`,
        },
      ],
    },
  });
}
/** The key a bucket's default encryption names (uploads must use it). */
function kmsKeyOf(objectArn: string): string {
  const name = objectArn.replace('arn:aws:s3:::', '').split('/')[0];
  const bucket = resourcesOf('Data', 'AWS::S3::Bucket').find((b) => b.properties.BucketName === name);
  // A bucket outside the blueprint: encrypted as its own default says.
  if (!bucket) return '';
  const rule = (
    bucket?.properties.BucketEncryption as {
      ServerSideEncryptionConfiguration: { ServerSideEncryptionByDefault: { KMSMasterKeyID: string } }[];
    }
  ).ServerSideEncryptionConfiguration[0];
  return rule.ServerSideEncryptionByDefault.KMSMasterKeyID;
}
/** What GuardDuty tags an object it scanned clean with. */
const CLEAN = { 's3:ExistingObjectTag/GuardDutyMalwareScanStatus': 'NO_THREATS_FOUND' };
/** A write that names If-None-Match: *, so it cannot replace what is there. */
const CREATE_ONLY = { 's3:if-none-match': '*' };

const onImport = (role: string, action: string, key: string, context: Record<string, string> = {}) =>
  call(role, action, `${IMPORT}/${key}`, { resourcePolicy: bucketPolicy(IMPORT), context });

describe('the import zone', () => {
  test('only the scanner makes an object clean: no upload claims it, no tag writes it over another status; a hold keeps the status', async () => {
    const key = `incoming/${ALICE}/dataset/ehr/a.csv`;
    const claim = { 's3:RequestObjectTag/GuardDutyMalwareScanStatus': 'NO_THREATS_FOUND' };
    const found = { 's3:ExistingObjectTag/GuardDutyMalwareScanStatus': 'THREATS_FOUND' };
    const clean = { 's3:ExistingObjectTag/GuardDutyMalwareScanStatus': 'NO_THREATS_FOUND' };
    // An importer's upload that claims a clean scan.
    expect(await onImport('airlock-importer', 's3:PutObject', key, claim)).toBe('ExplicitlyDenied');
    // The worker (whose event a direct invoker could forge) writing clean over malware found.
    expect(await onImport('airlock-worker', 's3:PutObjectTagging', key, { ...claim, ...found })).toBe(
      'ExplicitlyDenied',
    );
    // Its hold of a clean object keeps the status it read; the scanner sets it.
    expect(await onImport('airlock-worker', 's3:PutObjectTagging', key, { ...claim, ...clean })).toBe(
      'Allowed',
    );
    expect(await onImport('airlock-scanner', 's3:PutObjectTagging', key, claim)).toBe('Allowed');
  });

  test('an importer uploads under its own session only, from off-network, and reads nothing', async () => {
    expect(await onImport('airlock-importer', 's3:PutObject', `incoming/${ALICE}/dataset/ehr/a.csv`)).toBe(
      'Allowed',
    );
    expect(
      await onImport('airlock-importer', 's3:PutObject', 'incoming/AROAEXAMPLEIMPORTER1:bob/dataset/a.csv'),
    ).not.toBe('Allowed');
    expect(await onImport('airlock-importer', 's3:PutObject', 'anywhere/a.csv')).not.toBe('Allowed');
    expect(
      await onImport('airlock-importer', 's3:GetObject', `incoming/${ALICE}/dataset/ehr/a.csv`),
    ).not.toBe('Allowed');
    // Not from inside a segment, through any VPC endpoint.
    expect(
      await onImport('airlock-importer', 's3:PutObject', `incoming/${ALICE}/dataset/ehr/a.csv`, {
        'aws:SourceVpce': 'vpce-0123456789abcdef0',
      }),
    ).toBe('ExplicitlyDenied');
  });

  test('a reviewer reads what GuardDuty scanned clean, never what it found malware in or has not scanned, and writes nothing', async () => {
    const key = `incoming/${ALICE}/model/llm/model.safetensors`;
    expect(await onImport('airlock-reviewer', 's3:GetObject', key, CLEAN)).toBe('Allowed');
    for (const status of ['THREATS_FOUND', 'UNSUPPORTED', 'ACCESS_DENIED', 'FAILED'])
      expect(
        await onImport('airlock-reviewer', 's3:GetObject', key, {
          's3:ExistingObjectTag/GuardDutyMalwareScanStatus': status,
        }),
      ).toBe('ExplicitlyDenied');
    expect(await onImport('airlock-reviewer', 's3:GetObject', key)).toBe('ExplicitlyDenied');
    expect(await onImport('airlock-reviewer', 's3:PutObject', key)).not.toBe('Allowed');
    expect(await onImport('airlock-reviewer', 's3:PutObjectTagging', key)).not.toBe('Allowed');
  });

  test("GuardDuty's role reads and tags to scan, writes its validation object only, and sets the bucket's notifications", async () => {
    expect(await onImport('airlock-scanner', 's3:GetObject', `incoming/${ALICE}/dataset/a.csv`)).toBe(
      'Allowed',
    );
    expect(await onImport('airlock-scanner', 's3:PutObjectTagging', `incoming/${ALICE}/dataset/a.csv`)).toBe(
      'Allowed',
    );
    expect(await onImport('airlock-scanner', 's3:PutObject', MALWARE_SCAN_VALIDATION_KEY)).toBe('Allowed');
    expect(await onImport('airlock-scanner', 's3:PutObject', `incoming/${ALICE}/dataset/a.csv`)).not.toBe(
      'Allowed',
    );
    expect(await call('airlock-scanner', 's3:PutBucketNotification', IMPORT)).toBe('Allowed');
    expect(await call('airlock-scanner', 's3:PutBucketNotification', RAW)).not.toBe('Allowed');
    const trust = JSON.stringify(
      Object.values(stackOf('Identity').template.Resources ?? {}).find(
        (r) => r.Type === 'AWS::IAM::Role' && r.Properties?.RoleName === `${PREFIX}-airlock-scanner`,
      )?.Properties?.AssumeRolePolicyDocument,
    );
    expect(trust).toContain('malware-protection-plan.guardduty.amazonaws.com');
  });

  test('the worker copies into raw and under imported/ in models only, and reads no zone but the import zone', async () => {
    const write = (bucket: string, key: string) =>
      call('airlock-worker', 's3:PutObject', `${bucket}/${key}`, { resourcePolicy: bucketPolicy(bucket) });
    expect(await write(RAW, 'ehr/patients/a.csv')).toBe('Allowed');
    expect(await write(MODELS, 'imported/llm/model.safetensors')).toBe('Allowed');
    expect(await write(MODELS, 'training-output/model.tar.gz')).not.toBe('Allowed');
    expect(await onImport('airlock-worker', 's3:GetObject', `incoming/${ALICE}/dataset/a.csv`, CLEAN)).toBe(
      'Allowed',
    );
    expect(await onImport('airlock-worker', 's3:GetObject', `incoming/${ALICE}/dataset/a.csv`)).toBe(
      'ExplicitlyDenied',
    );
    for (const bucket of [RAW, CURATED, MODELS])
      expect(
        await call('airlock-worker', 's3:GetObject', `${bucket}/x`, { resourcePolicy: bucketPolicy(bucket) }),
      ).not.toBe('Allowed');
  });
});

describe('the decision log', () => {
  test('kept under Object Lock in compliance mode for the audit period; written by the worker alone, read by auditors', async () => {
    const bucket = resourcesOf('Data', 'AWS::S3::Bucket').find((b) =>
      String(b.properties.BucketName).includes('airlock-log'),
    )!;
    expect(bucket.properties.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2557 } },
    });
    const log = (role: string, action: string, context: Record<string, string> = CREATE_ONLY) =>
      call(role, action, `${LOG}/decisions/2026/12/01/req-1/x.json`, {
        resourcePolicy: bucketPolicy(LOG),
        context,
      });
    expect(await log('airlock-worker', 's3:PutObject')).toBe('Allowed');
    // A write that may replace a record is refused, even the worker's.
    expect(await log('airlock-worker', 's3:PutObject', {})).toBe('ExplicitlyDenied');
    expect(await log('airlock-desk', 's3:PutObject')).not.toBe('Allowed');
    expect(await log('airlock-reviewer', 's3:PutObject')).not.toBe('Allowed');
    expect(await log('auditor', 's3:GetObject')).toBe('Allowed');
    expect(await log('airlock-worker', 's3:GetObject')).not.toBe('Allowed');
  });
});

describe('the desk', () => {
  test('is a function URL that takes signed requests only; importers, reviewers and export requesters call it through the URL alone', async () => {
    expect(one('Airlock', 'AWS::Lambda::Url')).toMatchObject({ AuthType: 'AWS_IAM' });
    // No resource policy opens it: same-account roles are allowed by their own policies.
    expect(resourcesOf('Airlock', 'AWS::Lambda::Permission')).toEqual([]);
    for (const role of ['airlock-reviewer', 'airlock-importer', 'data-scientist', 'ml-engineer']) {
      expect(
        await call(role, 'lambda:InvokeFunctionUrl', DESK, {
          context: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' },
        }),
      ).toBe('Allowed');
      expect(
        await call(role, 'lambda:InvokeFunction', DESK, {
          context: { 'lambda:InvokedViaFunctionUrl': 'true' },
        }),
      ).toBe('Allowed');
      // A direct invoke, with a request context of the caller's making, is not allowed.
      expect(
        await call(role, 'lambda:InvokeFunction', DESK, {
          context: { 'lambda:InvokedViaFunctionUrl': 'false' },
        }),
      ).not.toBe('Allowed');
    }
    for (const role of ['platform-admin', 'auditor', 'airlock-worker'])
      expect(
        await call(role, 'lambda:InvokeFunctionUrl', DESK, {
          context: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' },
        }),
      ).not.toBe('Allowed');
  });

  test('knows the two roles by name, and resumes the workflow with what it read from the table', async () => {
    const desk = resourcesOf('Airlock', 'AWS::Lambda::Function').find(
      (f) => f.properties.FunctionName === `${PREFIX}-airlock-desk`,
    )!;
    expect((desk.properties.Environment as { Variables: Record<string, string> }).Variables).toMatchObject({
      IMPORTER_ROLE: `${PREFIX}-airlock-importer`,
      REVIEWER_ROLE: `${PREFIX}-airlock-reviewer`,
    });
    expect(desk.properties.VpcConfig).toBeUndefined();
    expect(await call('airlock-desk', 'states:SendTaskSuccess', '*')).toBe('Allowed');
    expect(await call('airlock-reviewer', 'states:SendTaskSuccess', '*')).not.toBe('Allowed');
    expect(await call('airlock-importer', 'states:SendTaskSuccess', '*')).not.toBe('Allowed');
  });
});

describe('scan, workflow and alarms', () => {
  test("GuardDuty scans the import zone's uploads and tags them", () => {
    expect(one('Airlock', 'AWS::GuardDuty::MalwareProtectionPlan')).toEqual({
      Role: roleArn('airlock-scanner'),
      ProtectedResource: {
        S3Bucket: {
          BucketName: bucketRef(IMPORT),
          ObjectPrefixes: ['incoming/'],
        },
      },
      Actions: { Tagging: { Status: 'ENABLED' } },
      Tags: expect.any(Array),
    });
  });

  test('the workflow is a standard state machine in JSONata, as the workflow role, logging and tracing, every substitution filled', () => {
    const machine = machineNamed(`${PREFIX}-airlock-import`);
    expect(machine).toMatchObject({
      StateMachineName: `${PREFIX}-airlock-import`,
      StateMachineType: 'STANDARD',
      RoleArn: roleArn('airlock-workflow'),
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
    });
    const definition = JSON.parse(String(machine.DefinitionString)) as { QueryLanguage: string };
    expect(definition.QueryLanguage).toBe('JSONata');
    const used = [...String(machine.DefinitionString).matchAll(/\$\{(\w+)\}/g)].map(([, n]) => n);
    expect(new Set(used)).toEqual(new Set(WORKFLOW_SUBSTITUTIONS));
    expect(Object.keys(machine.DefinitionSubstitutions as object).sort()).toEqual(
      [...WORKFLOW_SUBSTITUTIONS].sort(),
    );
  });

  test('each scan result of an upload starts the workflow as the events role; one that cannot is kept aside', async () => {
    const [rule] = resourcesOf('Airlock', 'AWS::Events::Rule').filter(
      (r) => r.properties.Name === `${PREFIX}-airlock-scan-results`,
    );
    expect(rule.properties.EventPattern).toEqual({
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Malware Protection Object Scan Result'],
      detail: {
        s3ObjectDetails: {
          bucketName: [bucketRef(IMPORT)],
          objectKey: [{ prefix: 'incoming/' }],
        },
      },
    });
    const [target] = rule.properties.Targets as Record<string, unknown>[];
    expect(target).toMatchObject({
      RoleArn: roleArn('airlock-events'),
      RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
      DeadLetterConfig: { Arn: expect.stringMatching(/^att\|Data\/AirlockDeadLetters/) },
    });
    const machine = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:${PREFIX}-airlock-import`;
    expect(await call('airlock-events', 'states:StartExecution', machine)).toBe('Allowed');
    expect(await call('airlock-importer', 'states:StartExecution', machine)).not.toBe('Allowed');
  });

  test('a scan that is not clean goes to the alert topic; failures and dead letters raise alarms', () => {
    const [held] = resourcesOf('Airlock', 'AWS::Events::Rule').filter(
      (r) => r.properties.Name === `${PREFIX}-airlock-held-scans`,
    );
    expect((held.properties.EventPattern as { detail: unknown }).detail).toMatchObject({
      scanResultDetails: { scanResultStatus: [{ 'anything-but': 'NO_THREATS_FOUND' }] },
    });
    expect(held.properties.Targets).toEqual([
      expect.objectContaining({ Arn: expect.stringMatching(/^ref\|Audit\/AlertsTopic/) }),
    ]);
    const alarms = resourcesOf('Airlock', 'AWS::CloudWatch::Alarm').map((a) => a.properties.MetricName);
    // Dead letters; the desk's refusals; the worker's and the exporter's errors; each workflow's failures.
    expect(alarms.sort()).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'DeskRefusals',
      'Errors',
      'Errors',
      'ExecutionsFailed',
      'ExecutionsFailed',
    ]);
    for (const alarm of resourcesOf('Airlock', 'AWS::CloudWatch::Alarm'))
      expect(alarm.properties.AlarmActions).toEqual([expect.stringMatching(/^ref\|Audit\/AlertsTopic/)]);
    const [refusals] = resourcesOf('Airlock', 'AWS::Logs::MetricFilter');
    expect(refusals.properties.FilterPattern).toBe('{ $.message.message = "refused" }');
  });
});

describe('the export', () => {
  const onExport = (role: string, action: string, key: string, context: Record<string, string> = {}) =>
    call(role, action, `${EXPORT}/${key}`, { resourcePolicy: bucketPolicy(EXPORT), context });
  const send = (role: string, key: string, account = PARTNER.account, bucket = PARTNER.bucket) =>
    evaluateOutside(role, 's3:PutObject', `${bucket}/${key}`, account);

  test('the exporter reads the source zones, never phi or the import zone, and writes the export zone under outgoing/ alone', async () => {
    for (const bucket of [CURATED, MODELS])
      expect(
        await call('airlock-exporter', 's3:GetObject', `${bucket}/cohort/a.csv`, {
          resourcePolicy: bucketPolicy(bucket),
        }),
      ).toBe('Allowed');
    for (const bucket of [RAW, QUARANTINE, IMPORT])
      expect(
        await call('airlock-exporter', 's3:GetObject', `${bucket}/incoming/x`, {
          resourcePolicy: bucketPolicy(bucket),
          // Even what GuardDuty scanned clean.
          context: CLEAN,
        }),
      ).not.toBe('Allowed');
    expect(await onExport('airlock-exporter', 's3:PutObject', 'outgoing/r1/cohort/a.csv')).toBe('Allowed');
    expect(await onExport('airlock-exporter', 's3:PutObject', 'elsewhere/a.csv')).not.toBe('Allowed');
    for (const role of [
      'airlock-worker',
      'airlock-reviewer',
      'data-scientist',
      'ml-engineer',
      'airlock-desk',
    ])
      expect(await onExport(role, 's3:PutObject', 'outgoing/r1/cohort/a.csv')).not.toBe('Allowed');
  });

  test('a reviewer reads what is staged; requesters and the import worker read nothing of it', async () => {
    expect(await onExport('airlock-reviewer', 's3:GetObject', 'outgoing/r1/cohort/a.csv')).toBe('Allowed');
    for (const role of ['data-scientist', 'ml-engineer', 'airlock-worker', 'airlock-importer'])
      expect(await onExport(role, 's3:GetObject', 'outgoing/r1/cohort/a.csv')).not.toBe('Allowed');
    // Its class is the highest of its sources' (curated is pii, models proprietary).
    const bucket = resourcesOf('Data', 'AWS::S3::Bucket').find((b) =>
      String(b.properties.BucketName).startsWith(`${PREFIX}-airlock-export-`),
    )!;
    expect(bucket.properties.Tags).toContainEqual({ Key: 'DataClassification', Value: 'pii' });
  });

  test('once decided, a staged copy is read and tagged by the exporter alone, and goes after the retention', async () => {
    const decided = { 's3:ExistingObjectTag/airlock-state': 'rejected' };
    const key = 'outgoing/r1/cohort/a.csv';
    expect(await onExport('airlock-reviewer', 's3:GetObject', key, decided)).toBe('ExplicitlyDenied');
    expect(await onExport('airlock-exporter', 's3:GetObject', key, decided)).toBe('Allowed');
    for (const action of ['s3:PutObjectTagging', 's3:PutObjectRetention', 's3:PutObjectLegalHold'])
      for (const role of ['airlock-reviewer', 'platform-admin', 'airlock-worker'])
        expect(await onExport(role, action, key)).toBe('ExplicitlyDenied');
    expect(await onExport('airlock-exporter', 's3:PutObjectTagging', key)).toBe('Allowed');
    const bucket = resourcesOf('Data', 'AWS::S3::Bucket').find((b) =>
      String(b.properties.BucketName).startsWith(`${PREFIX}-airlock-export-`),
    )!;
    const rules = (
      bucket.properties.LifecycleConfiguration as { Rules: { Id: string; TagFilters?: unknown }[] }
    ).Rules;
    for (const state of ['sent', 'rejected', 'refused', 'expired', 'send-failed'])
      expect(rules.find((r) => r.Id === `Decided-${state}`)?.TagFilters).toEqual([
        { Key: 'airlock-state', Value: state },
      ]);
  });

  test('the exporter reads nothing models never exports (what endpoints capture, what was imported), and reads decisions', async () => {
    const read = (key: string) =>
      call('airlock-exporter', 's3:GetObject', `${MODELS}/${key}`, { resourcePolicy: bucketPolicy(MODELS) });
    expect(await read('release/llm/model.safetensors')).toBe('Allowed');
    expect(await read('data-capture/acme-ai-risk-model/x.jsonl')).toBe('ExplicitlyDenied');
    expect(await read('imported/llm/model.safetensors')).toBe('ExplicitlyDenied');
    // Its one DynamoDB action: reading a request's decision, in the requests table alone.
    const table = resourcesOf('Data', 'AWS::DynamoDB::Table')[0].logicalId;
    const dynamo = identityOf('airlock-exporter')
      .flatMap((d) => d.Statement as { Action: string | string[]; Resource: unknown }[])
      .filter((x) => [x.Action].flat().some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([
      expect.objectContaining({ Action: 'dynamodb:GetItem', Resource: `att|Data/${table}|Arn` }),
    ]);
  });

  test("the exporter sends to the destination's prefix only, and only while the configured account owns the bucket", async () => {
    expect(await send('airlock-exporter', 'acme-ai/r1/cohort/a.csv')).toBe('Allowed');
    expect(await send('airlock-exporter', 'other/r1/cohort/a.csv')).not.toBe('Allowed');
    // A bucket of that name in another account (taken after a deletion, or named wrong) is not the destination.
    expect(await send('airlock-exporter', 'acme-ai/r1/cohort/a.csv', '999999999999')).not.toBe('Allowed');
    expect(
      await send('airlock-exporter', 'acme-ai/r1/a.csv', PARTNER.account, 'arn:aws:s3:::another-bucket'),
    ).not.toBe('Allowed');
    for (const role of ['airlock-worker', 'airlock-reviewer', 'data-scientist', 'ml-engineer'])
      expect(await send(role, 'acme-ai/r1/cohort/a.csv')).not.toBe('Allowed');
  });

  test('the desk alone starts the export workflow, for the requesters the config allows, from their zones', async () => {
    const machine = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:${PREFIX}-airlock-export`;
    expect(await call('airlock-desk', 'states:StartExecution', machine)).toBe('Allowed');
    for (const role of ['data-scientist', 'ml-engineer', 'airlock-reviewer', 'airlock-events'])
      expect(await call(role, 'states:StartExecution', machine)).not.toBe('Allowed');
    const desk = resourcesOf('Airlock', 'AWS::Lambda::Function').find(
      (f) => f.properties.FunctionName === `${PREFIX}-airlock-desk`,
    )!;
    const env = (desk.properties.Environment as { Variables: Record<string, string> }).Variables;
    expect(JSON.parse(env.EXPORT_REQUESTERS)).toEqual({
      [`${PREFIX}-data-scientist`]: ['curated'],
      [`${PREFIX}-ml-engineer`]: ['models'],
    });
    expect(env.EXPORT_WORKFLOW_ARN).toBe(
      `ref|Airlock/${
        resourcesOf('Airlock', 'AWS::StepFunctions::StateMachine').find(
          (m) => m.properties.StateMachineName === `${PREFIX}-airlock-export`,
        )!.logicalId
      }`,
    );
  });

  test('the workflow runs as the workflow role, calls the exporter, every substitution filled with the configured zones and destination', async () => {
    const machine = machineNamed(`${PREFIX}-airlock-export`);
    expect(machine).toMatchObject({
      StateMachineType: 'STANDARD',
      RoleArn: roleArn('airlock-workflow'),
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
    });
    const expected = [...EXPORT_SUBSTITUTIONS, ...['curated', 'models'].map(sourceBucketSubstitution)].sort();
    const used = [...String(machine.DefinitionString).matchAll(/\$\{(\w+)\}/g)].map(([, n]) => n);
    expect([...new Set(used)].sort()).toEqual(expected);
    const substitutions = machine.DefinitionSubstitutions as Record<string, string>;
    expect(Object.keys(substitutions).sort()).toEqual(expected);
    expect(substitutions).toMatchObject({
      DestinationBucket: 'acme-research-partner-results',
      DestinationAccount: PARTNER.account,
      DestinationPrefix: 'acme-ai/',
      SourceBucketCurated: bucketRef(CURATED),
      SourceBucketModels: bucketRef(MODELS),
      ExportBucket: bucketRef(EXPORT),
    });
    const exporter = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${PREFIX}-airlock-exporter`;
    expect(await call('airlock-workflow', 'lambda:InvokeFunction', exporter)).toBe('Allowed');
    expect(await call('airlock-desk', 'lambda:InvokeFunction', exporter)).not.toBe('Allowed');
  });

  test('every request is told to the alert topic as it starts and ends; the exporter records under exports/ alone', async () => {
    const [rule] = resourcesOf('Airlock', 'AWS::Events::Rule').filter(
      (r) => r.properties.Name === `${PREFIX}-airlock-export-requests`,
    );
    expect(rule.properties.EventPattern).toMatchObject({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
    });
    expect(rule.properties.Targets).toEqual([
      expect.objectContaining({ Arn: expect.stringMatching(/^ref\|Audit\/AlertsTopic/) }),
    ]);
    const log = (role: string, prefix: string) =>
      call(role, 's3:PutObject', `${LOG}/${prefix}2026/12/01/r1/x.json`, {
        resourcePolicy: bucketPolicy(LOG),
        context: CREATE_ONLY,
      });
    expect(await log('airlock-exporter', 'exports/')).toBe('Allowed');
    expect(await log('airlock-exporter', 'decisions/')).not.toBe('Allowed');
    expect(await log('airlock-worker', 'exports/')).not.toBe('Allowed');
  });
});

describe('Object Lock and the settings of the zones', () => {
  test("no one sets an object's retention (erasure stays possible); the legal-hold role alone places legal holds", async () => {
    for (const bucket of [RAW, CURATED, MODELS, IMPORT, EXPORT, LOG]) {
      const object = `${bucket}/any/object`;
      const as = (role: string, action: string) =>
        call(role, action, object, { resourcePolicy: bucketPolicy(bucket) });
      for (const role of [
        'legal-hold',
        'break-glass',
        'platform-admin',
        'pseudonymization',
        'airlock-worker',
      ])
        expect(await as(role, 's3:PutObjectRetention')).toBe('ExplicitlyDenied');
      for (const role of ['break-glass', 'platform-admin', 'data-scientist', 'airlock-exporter'])
        expect(await as(role, 's3:PutObjectLegalHold')).toBe('ExplicitlyDenied');
      expect(await as('legal-hold', 's3:PutObjectLegalHold')).toBe('Allowed');
      // It reads nothing.
      expect(await as('legal-hold', 's3:GetObject')).not.toBe('Allowed');
    }
    const statements = (bucketPolicy(RAW).Statement ?? []) as { Sid?: string; Condition?: unknown }[];
    expect(JSON.stringify(statements.find((x) => x.Sid === 'DenyLegalHoldsButByTheirRoles')?.Condition)).toBe(
      JSON.stringify({ ArnNotEquals: { 'aws:PrincipalArn': [roleArn('legal-hold')] } }),
    );
  });

  test("only the deployment (CloudFormation's execution role) changes a zone's policy, Object Lock, versioning, lifecycle or replication", async () => {
    const deployment = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-eu-west-1`;
    const anyS3 = [{ Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }] as PolicyDocument[];
    const change = (principal: string, action: string, bucket: string) =>
      evaluate({
        principal,
        action,
        resource: bucket,
        resourceAccount: ACCOUNT,
        identityPolicies: anyS3,
        resourcePolicy: bucketPolicy(bucket),
        context: {
          'aws:PrincipalArn': principal,
          'aws:PrincipalAccount': ACCOUNT,
          'aws:PrincipalOrgID': ORGANIZATION,
          'aws:SecureTransport': 'true',
        },
      });
    for (const bucket of [RAW, CURATED, MODELS, IMPORT, EXPORT, LOG]) {
      for (const action of [
        's3:PutBucketPolicy',
        's3:DeleteBucketPolicy',
        's3:PutBucketVersioning',
        's3:PutLifecycleConfiguration',
        's3:PutReplicationConfiguration',
      ]) {
        expect(await change(`arn:aws:iam::${ACCOUNT}:role/PowerUserAccess`, action, bucket)).toBe(
          'ExplicitlyDenied',
        );
        expect(await change(roleArn('break-glass'), action, bucket)).toBe('ExplicitlyDenied');
        expect(await change(deployment, action, bucket)).toBe('Allowed');
      }
    }
  });
});

describe('without an airlock in the config', () => {
  test('the default blueprint has no airlock stack, role or zone, and its boundary no airlock ceiling', () => {
    expect(defaultStackIds()).not.toContain('Airlock');
    const text = JSON.stringify(defaultStackIds().map((id) => readTemplateJson(id)));
    expect(text).not.toContain('airlock');
  });
});
