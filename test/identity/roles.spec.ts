import { Stack, type App, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DataZone } from '../../lib/constructs/data-zone';
import { ProtectedKey } from '../../lib/constructs/protected-key';
import type { DataZone as ZoneName } from '../../lib/contract/classification';
import {
  AuditorRole,
  MlEngineerRole,
  PipelineOperatorRole,
  type SageMakerSegment,
} from '../../lib/identity/human-roles';
import { InferenceApiBackendRole, SageMakerExecutionRole } from '../../lib/identity/service-roles';
import { evaluate, type PolicyDocument } from '../../lib/tools/verify/engine';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';
import type { Statement } from '../support/iam';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const ROLE = (name: string) => `arn:aws:iam::111122223333:role/acme-${name}`;
const TRAINING_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-00000000000a';
const INFERENCE_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-00000000000b';
const VPC = (id: string) => `arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-${id}`;
const [DEV_VPC, TRAIN_VPC, SERVE_VPC] = ['0de5', '07a1', '05e7'].map(VPC);

/** A segment placed on literal subnets and a security group, so the guardrails can be read as written. */
function segment(stack: Stack, name: string, key: string): SageMakerSegment {
  return {
    key: kms.Key.fromKeyArn(stack, `${name}Key`, key),
    vpc: {
      workloadSubnets: ['a', 'b'].map((az) =>
        ec2.Subnet.fromSubnetId(stack, `${name}${az}`, `subnet-${name}-${az}`),
      ),
      workloadSecurityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, `${name}Sg`, `sg-${name}`),
    },
    executionRoleName: `acme-${name}-sagemaker`,
  };
}

/** The four zones, each naming exactly the roles the spec grants. */
function zones(stack: Stack): Record<ZoneName, DataZone> {
  const accessLogs = new s3.Bucket(stack, 'AccessLogs');
  const declared: Record<ZoneName, { readers: string[]; writers: string[] }> = {
    raw: { readers: [], writers: [] },
    curated: { readers: [ROLE('dev-sagemaker')], writers: [] },
    models: { readers: [], writers: [ROLE('train-sagemaker')] },
    quarantine: { readers: [], writers: [] },
  };
  const key = new ProtectedKey(stack, 'ZoneKey', { description: 'zone key', classification: 'pii' });
  return Object.fromEntries(
    (Object.keys(declared) as ZoneName[]).map((zone) => [
      zone,
      new DataZone(stack, `Zone-${zone}`, {
        zone,
        bucketName: `acme-${zone}-111122223333-eu-west-1`,
        classification: 'pii',
        key,
        roles: { ...declared[zone], prefixWriters: [], offNetwork: [] },
        endpoints: ['vpce-0123456789abcdef0'],
        serverAccessLogs: { bucket: accessLogs, prefix: `data-${zone}/` },
        objectLock: 'holds-only',
        lifecycle: { noncurrentVersionDays: 365 },
      }),
    ]),
  ) as Record<ZoneName, DataZone>;
}

/** The statements of a role's managed policy, by sid, in order. */
function policyOf(t: Template, roleName: string): Map<string, Statement> {
  const [policy] = Object.values(
    t.findResources('AWS::IAM::ManagedPolicy', { Properties: { ManagedPolicyName: `${roleName}-policy` } }),
  ) as { Properties: { PolicyDocument: { Statement: Statement[] } } }[];
  if (!policy) throw new Error(`no policy of ${roleName}`);
  return new Map(policy.Properties.PolicyDocument.Statement.map((s) => [s.Sid ?? '', s]));
}

function trustOf(t: Template, roleName: string): Statement[] {
  const [role] = Object.values(t.findResources('AWS::IAM::Role', { Properties: { RoleName: roleName } })) as {
    Properties: { AssumeRolePolicyDocument: { Statement: Statement[] } };
  }[];
  return role.Properties.AssumeRolePolicyDocument.Statement;
}

/** Every role of lib/identity, in two stacks (one without an inference segment). */
function build(scope: App | Stage) {
  const stack = new Stack(scope, 'Roles', { env: ENV });
  const bare = new Stack(scope, 'NoInference', { env: ENV });
  const zs = zones(stack);
  const training = segment(stack, 'train', TRAINING_KEY);
  const inference = segment(stack, 'serve', INFERENCE_KEY);
  const trust = {
    kind: 'people',
    mfa: 'iam',
    principals: ['arn:aws:iam::111122223333:role/Team'],
    field: 'identities.team',
  } as const;
  const sagemakerProfile = {
    writes: [],
    volumeClassification: 'pii',
    hostsEndpoints: false,
    studio: false,
    packages: false,
    logGroups: [],
  } as const;
  new SageMakerExecutionRole(stack, 'dev-sagemaker', {
    namePrefix: 'acme',
    segmentName: 'dev',
    kind: 'development',
    profile: { ...sagemakerProfile, reads: ['curated'], launches: { jobs: 'training' }, packages: true },
    key: kms.Key.fromKeyArn(
      stack,
      'DevKey',
      'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-00000000000d',
    ),
    zones: zs,
    jobSegments: [training],
    vpcArn: DEV_VPC,
  });
  new SageMakerExecutionRole(stack, 'train-sagemaker', {
    namePrefix: 'acme',
    segmentName: 'train',
    kind: 'training',
    profile: { ...sagemakerProfile, reads: [], writes: [{ zone: 'models' }] },
    key: training.key,
    zones: zs,
    vpcArn: TRAIN_VPC,
  });
  new MlEngineerRole(stack, 'ml-engineer', { namePrefix: 'acme', trust, inference: [inference] });
  new MlEngineerRole(bare, 'ml-engineer', { namePrefix: 'acme', trust, inference: [] });
  new AuditorRole(stack, 'auditor', {
    namePrefix: 'acme',
    trust: {
      kind: 'people',
      mfa: 'identity-provider',
      principals: [
        'arn:aws:iam::444455556666:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Auditors_*',
      ],
      field: 'identities.auditors',
    },
    audit: {
      bucket: s3.Bucket.fromBucketName(stack, 'Audit', 'acme-audit'),
      key: kms.Key.fromKeyArn(
        stack,
        'AuditKey',
        'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-0000000000ad',
      ),
      logGroups: [logs.LogGroup.fromLogGroupName(stack, 'Trail', 'acme-trail')],
      trailArn: 'arn:aws:cloudtrail:eu-west-1:111122223333:trail/acme',
    },
  });
  new PipelineOperatorRole(stack, 'pipeline-operator', {
    namePrefix: 'acme',
    trust,
    deadLetters: sqs.Queue.fromQueueArn(stack, 'Dlq', 'arn:aws:sqs:eu-west-1:111122223333:acme-dlq'),
    deadLetterKey: kms.Key.fromKeyArn(
      stack,
      'DlqKey',
      'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-0000000000dd',
    ),
    queueStackName: 'acme-data',
    stageFunctionName: 'acme-pseudonymize',
    workflowName: 'acme-pseudonymize-large-objects',
  });
  new InferenceApiBackendRole(stack, 'serve-inference-api', {
    namePrefix: 'acme',
    segmentName: 'serve',
    endpointName: 'Acme-Serve-Endpoint',
    vpcArn: SERVE_VPC,
  });
  return { stack, bare, zs };
}

describe('the roles of lib/identity', () => {
  const gate = gateCheck('identity-roles', build);
  const { stack, bare, zs } = build(testApp());
  const t = Template.fromStack(stack);
  const modelsKey = stack.resolve(zs.models.key.key.keyArn);

  test.each([
    ['acme-dev-sagemaker', DEV_VPC],
    ['acme-train-sagemaker', TRAIN_VPC],
    ['acme-serve-inference-api', SERVE_VPC],
  ])(
    '%s opens, hands over and deletes network interfaces in its segment VPC only (engine-evaluated)',
    async (role, vpc) => {
      // The role's network interface statements (the others name resources by CloudFormation functions).
      const policy = {
        Version: '2012-10-17',
        Statement: [...policyOf(t, role).values()].filter((st) =>
          JSON.stringify(st.Action).includes('NetworkInterface'),
        ),
      } as PolicyDocument;
      expect(policy.Statement.map((st) => st.Sid).sort()).toEqual([
        'NoNetworkInterfaceOutsideTheSegment',
        'UnscopedNetworkInterfacesInTheSegment',
      ]);
      const ask = (action: string, resource: string, inVpc?: string) =>
        evaluate({
          principal: ROLE(role.replace('acme-', '')),
          action,
          resource,
          resourceAccount: ENV.account,
          identityPolicies: [policy],
          context: { 'aws:PrincipalAccount': ENV.account, ...(inVpc ? { 'ec2:Vpc': inVpc } : {}) },
        });
      const subnet = 'arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-1';
      const eni = 'arn:aws:ec2:eu-west-1:111122223333:network-interface/eni-1';
      const elsewhere = VPC('0e1e');
      expect(await ask('ec2:CreateNetworkInterface', subnet, vpc)).toBe('Allowed');
      expect(await ask('ec2:CreateNetworkInterfacePermission', eni, vpc)).toBe('Allowed');
      expect(await ask('ec2:DeleteNetworkInterface', eni, vpc)).toBe('Allowed');
      // The check Lambda and SageMaker make before naming a subnet.
      expect(await ask('ec2:CreateNetworkInterface', '*')).toBe('Allowed');
      expect(await ask('ec2:CreateNetworkInterface', subnet, elsewhere)).toBe('ExplicitlyDenied');
      expect(await ask('ec2:CreateNetworkInterfacePermission', eni, elsewhere)).toBe('ExplicitlyDenied');
      expect(await ask('ec2:DeleteNetworkInterface', eni, elsewhere)).toBe('ExplicitlyDenied');
    },
  );

  test('a development execution role starts jobs only in the training segment: its subnets, group and key, isolated, encrypted, writing to the models key', () => {
    const jobs = policyOf(t, 'acme-dev-sagemaker').get(
      'CreateJobsOnlyInATrainingSegmentIsolatedAndEncrypted',
    );
    expect(jobs?.Action).toEqual(['sagemaker:CreateProcessingJob', 'sagemaker:CreateTrainingJob']);
    expect(jobs?.Condition).toEqual({
      'ForAllValues:StringEquals': {
        'sagemaker:VpcSubnets': ['subnet-train-a', 'subnet-train-b'],
        'sagemaker:VpcSecurityGroupIds': ['sg-train'],
      },
      Null: { 'sagemaker:VpcSubnets': 'false', 'sagemaker:VpcSecurityGroupIds': 'false' },
      Bool: { 'sagemaker:NetworkIsolation': 'true', 'sagemaker:InterContainerTrafficEncryption': 'true' },
      StringEquals: { 'sagemaker:VolumeKmsKey': [TRAINING_KEY], 'sagemaker:OutputKmsKey': modelsKey },
    });
    expect(policyOf(t, 'acme-dev-sagemaker').get('PassOnlyTheSegmentsExecutionRoles')).toMatchObject({
      Action: 'iam:PassRole',
      Resource: 'arn:aws:iam::111122223333:role/acme-train-sagemaker',
      Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    });
  });

  test('an execution role gets the zones its profile names, no others, and starts nothing it is not given', () => {
    const dev = [...policyOf(t, 'acme-dev-sagemaker').keys()];
    const train = [...policyOf(t, 'acme-train-sagemaker').keys()];
    expect(dev.filter((sid) => sid.endsWith('Zone'))).toEqual(['ReadCuratedZone', 'DecryptCuratedZone']);
    expect(train.filter((sid) => sid.endsWith('Zone'))).toEqual(['WriteModelsZone', 'EncryptModelsZone']);
    expect(train).not.toContain('CreateJobsOnlyInATrainingSegmentIsolatedAndEncrypted');
    expect(train).not.toContain('PassOnlyTheSegmentsExecutionRoles');
    expect(policyOf(t, 'acme-train-sagemaker').get('UseTheSegmentKey')?.Resource).toBe(TRAINING_KEY);
    expect(trustOf(t, 'acme-train-sagemaker')).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'sagemaker.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
      },
    ]);
  });

  test('the ML engineer deploys only into the inference segment, isolated, with its key, as its role; with no inference segment, not at all', () => {
    const ml = policyOf(t, 'acme-ml-engineer');
    expect(ml.get('CreateModelsOnlyInAnInferenceSegmentIsolated')?.Condition).toEqual({
      'ForAllValues:StringEquals': {
        'sagemaker:VpcSubnets': ['subnet-serve-a', 'subnet-serve-b'],
        'sagemaker:VpcSecurityGroupIds': ['sg-serve'],
      },
      Null: { 'sagemaker:VpcSubnets': 'false', 'sagemaker:VpcSecurityGroupIds': 'false' },
      Bool: { 'sagemaker:NetworkIsolation': 'true' },
    });
    expect(ml.get('CreateEndpointConfigsOnlyWithTheSegmentKey')?.Condition).toEqual({
      Null: { 'sagemaker:VolumeKmsKey': 'false' },
      StringEquals: { 'sagemaker:VolumeKmsKey': [INFERENCE_KEY] },
    });
    expect(JSON.stringify(ml.get('PassOnlyTheSegmentsExecutionRoles')?.Resource)).toContain(
      'role/acme-serve-sagemaker',
    );
    // Each create is in its guarded statement, and nowhere else.
    const creates = [...ml.values()].flatMap((s) =>
      [s.Action]
        .flat()
        .filter((a) => String(a).startsWith('sagemaker:Create'))
        .map((a) => `${s.Sid} ${a}`),
    );
    expect(creates.sort()).toEqual([
      'CreateEndpointConfigsOnlyWithTheSegmentKey sagemaker:CreateEndpointConfig',
      'CreateModelsOnlyInAnInferenceSegmentIsolated sagemaker:CreateModel',
      'DeployEndpoints sagemaker:CreateEndpoint',
    ]);
    const none = [...policyOf(Template.fromStack(bare), 'acme-ml-engineer').values()];
    expect(none.flatMap((s) => [s.Action].flat())).toEqual([
      'sagemaker:DescribeProcessingJob',
      'sagemaker:DescribeTrainingJob',
      'sagemaker:StopProcessingJob',
      'sagemaker:StopTrainingJob',
      'sagemaker:DescribeEndpoint',
      'sagemaker:DescribeEndpointConfig',
      'sagemaker:DescribeModel',
      'sagemaker:ListEndpoints',
      'sagemaker:ListProcessingJobs',
      'sagemaker:ListTrainingJobs',
      // Filling the image caches (a first pull through them), which is not deploying.
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:BatchImportUpstreamImage',
      'ecr:CreateRepository',
      'ecr:GetDownloadUrlForLayer',
      'ecr:GetAuthorizationToken',
    ]);
  });

  test('a human role trusted through an identity provider trusts only its principals, for one hour', () => {
    expect(trustOf(t, 'acme-auditor')).toEqual([
      {
        Sid: 'TheNamedFederatedRoles',
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        Principal: { AWS: 'arn:aws:iam::444455556666:root' },
        Condition: {
          ArnLike: {
            'aws:PrincipalArn':
              'arn:aws:iam::444455556666:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Auditors_*',
          },
        },
      },
    ]);
    t.hasResourceProperties('AWS::IAM::Role', { RoleName: 'acme-auditor', MaxSessionDuration: 3600 });
    expect(trustOf(t, 'acme-ml-engineer')[0].Condition).toEqual({
      Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' },
    });
  });

  test('the auditor reads the audit records and settings, and writes nothing', () => {
    const auditor = [...policyOf(t, 'acme-auditor').values()];
    const actions = auditor.flatMap((s) => [s.Action].flat() as string[]);
    expect(
      actions.filter((a) => !/^[a-z0-9-]+:(Get|List|Describe|Lookup|Filter|StartQuery|Decrypt)/.test(a)),
    ).toEqual([]);
    expect(policyOf(t, 'acme-auditor').get('DecryptTheAuditRecords')?.Resource).toBe(
      'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-0000000000ad',
    );
  });

  test("the pipeline operator reads and removes the stage's dead letters, decrypts them only through SQS, and re-sends to the stage only", () => {
    const op = policyOf(t, 'acme-pipeline-operator');
    expect(op.get('ReadAndRemoveDeadLetters')?.Resource).toBe('arn:aws:sqs:eu-west-1:111122223333:acme-dlq');
    expect(op.get('DecryptDeadLetters')).toMatchObject({
      Action: 'kms:Decrypt',
      Condition: { StringEquals: { 'kms:ViaService': 'sqs.eu-west-1.amazonaws.com' } },
    });
    expect(JSON.stringify(op.get('ResendEventsToTheStage')?.Resource)).toContain(
      ':lambda:eu-west-1:111122223333:function:acme-pseudonymize"',
    );
    expect(JSON.stringify(op.get('FindTheDeadLetterQueue')?.Resource)).toContain('stack/acme-data/*');
  });

  test('the inference backend invokes its endpoint only, named in lower case as SageMaker writes it', () => {
    const backend = policyOf(t, 'acme-serve-inference-api');
    expect(JSON.stringify(backend.get('InvokeTheApisEndpoint')?.Resource)).toContain(
      ':sagemaker:eu-west-1:111122223333:endpoint/acme-serve-endpoint"',
    );
    expect(backend.get('UnscopedActiveTracing')?.Action).toEqual([
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  test('pass the gate', () => {
    const roles =
      /^at (Roles|NoInference)\/(dev-sagemaker|train-sagemaker|ml-engineer|auditor|pipeline-operator|serve-inference-api)/;
    const findings = gate.unacknowledged();
    expect(findings.length).toBeGreaterThan(0); // the fixtures' findings: the filter below has something to drop
    expect(findings.filter((f) => roles.test(f.slice(f.indexOf(' at ') + 1)))).toEqual([]);
  });
});
