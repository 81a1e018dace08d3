import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { compileFunction } from 'node:vm';
import { Duration, Stack, type App, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { functionBundle } from '../../lib/constructs/function-bundle';
import { SegmentFunction } from '../../lib/constructs/segment-function';
import { SegmentVpc } from '../../lib/constructs/segment-vpc';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';
import { only, resourcesOf } from '../support/template';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const ROLE = 'arn:aws:iam::111122223333:role/aiseg-lab-scorer';
const DEAD_LETTERS = 'arn:aws:sqs:eu-west-1:111122223333:aiseg-lab-dead-letters';
const ENV_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

type Props = Record<string, unknown>;

/** What the bundle asks `require` for while it loads, and what it exports. */
function load(code: string): { required: string[]; exports: Record<string, unknown> } {
  const required: string[] = [];
  const mod = { exports: {} as Record<string, unknown> };
  const record = (id: string): unknown => {
    required.push(id);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(id) as unknown;
  };
  const run = compileFunction(code, ['module', 'exports', 'require']) as (
    module: typeof mod,
    exports: typeof mod.exports,
    require: typeof record,
  ) => void;
  run(mod, mod.exports, record);
  return { required, exports: mod.exports };
}

/** The segment's VPC in its network stack, and two functions in another stack. */
function build(scope: App | Stage) {
  // As in the blueprint, the segment's VPC lives in its network stack and the function elsewhere.
  const network = new Stack(scope, 'Network', { env: ENV });
  const segment = new SegmentVpc(network, 'Segment', {
    segmentName: 'lab',
    kind: 'pipeline',
    cidr: '10.50.0.0/16',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    workloadPrefixLength: 20,
    internetEgress: false,
    flowLogGroup: new logs.LogGroup(network, 'Flows'),
    deployHandlerLogGroup: new logs.LogGroup(network, 'Handler'),
    flowLogBucket: new s3.Bucket(network, 'Audit'),
    flowLogPrefix: 'vpc-flow-logs/lab/',
    isolatedRanges: [{ cidr: '10.60.0.0/16', label: 'segment-other' }],
  });
  const stack = new Stack(scope, 'Fn', { env: ENV });
  // Imported as the identity stack's role is: mutable, so a grant to it would show in this stack.
  const role = iam.Role.fromRoleArn(stack, 'GivenRole', ROLE);
  new SegmentFunction(stack, 'Scorer', {
    source: 'inference-api',
    segment: { name: 'lab', vpc: segment },
    role,
    logGroup: logs.LogGroup.fromLogGroupName(stack, 'Logs', '/aiseg/functions/lab-scorer'),
    functionName: 'aiseg-lab-scorer',
    description: 'Scores lab samples',
    memorySize: 512,
    timeout: Duration.seconds(30),
    reservedConcurrentExecutions: 7,
    tracing: lambda.Tracing.ACTIVE,
    deadLetterQueue: sqs.Queue.fromQueueArn(stack, 'DeadLetters', DEAD_LETTERS),
    retryAttempts: 2,
    maxEventAge: Duration.hours(6),
    environmentEncryption: kms.Key.fromKeyArn(stack, 'EnvKey', ENV_KEY),
    environment: { ENDPOINT_NAME: 'lab-endpoint' },
  });
  // The variants: values compiled into the bundle, log levels of its own.
  new SegmentFunction(stack, 'Tuned', {
    source: 'inference-api',
    define: { 'process.env.ENDPOINT_NAME': JSON.stringify('lab-probe-endpoint') },
    segment: { name: 'lab', vpc: segment },
    role,
    logGroup: logs.LogGroup.fromLogGroupName(stack, 'TunedLogs', '/aiseg/functions/lab-tuned'),
    applicationLogLevelV2: lambda.ApplicationLogLevel.DEBUG,
    systemLogLevelV2: lambda.SystemLogLevel.INFO,
  });
  return { network, stack, segment };
}

describe('SegmentFunction', () => {
  const gate = gateCheck('segment-function', build);
  const app = testApp();
  const { network, stack, segment } = build(app);
  const outdir = app.synth().directory;
  const t = Template.fromStack(stack);
  const fn = (props: Props) => only(t, 'AWS::Lambda::Function', props)[1].Properties as Props;
  const scorer = fn({ FunctionName: 'aiseg-lab-scorer' });
  const tuned = fn({ LoggingConfig: { LogGroup: '/aiseg/functions/lab-tuned' } });
  const networkOutputs = (
    Template.fromStack(network).toJSON() as { Outputs: Record<string, { Value: unknown }> }
  ).Outputs;
  /** The network stack's value behind a cross-stack reference of the function's stack. */
  const fromNetwork = (value: unknown) =>
    networkOutputs[
      (value as { 'Fn::GetStackOutput': { OutputName: string } })['Fn::GetStackOutput'].OutputName
    ].Value;
  const staged = (props: Props) =>
    readFileSync(
      join(outdir, `asset.${(props.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '')}`, 'index.js'),
      'utf8',
    );

  test("runs in the segment's workload subnets, one per zone, with its workload security group", () => {
    const vpcConfig = scorer.VpcConfig as { SubnetIds: unknown[]; SecurityGroupIds: unknown[] };
    const subnets = vpcConfig.SubnetIds.map(fromNetwork) as { Ref: string }[];
    expect(subnets).toEqual(segment.workloadSubnets.map((s) => network.resolve(s.subnetId) as unknown));
    const resources = resourcesOf(Template.fromStack(network));
    expect(
      subnets.map(({ Ref }) =>
        (resources[Ref].Properties?.Tags as { Key: string; Value: string }[])
          .filter((tag) => tag.Key === 'ai-segmentation:subnet-tier')
          .map((tag) => `${tag.Value} ${resources[Ref].Properties?.AvailabilityZone as string}`),
      ),
    ).toEqual([['workload eu-west-1a'], ['workload eu-west-1b']]);
    expect(vpcConfig.SecurityGroupIds.map(fromNetwork)).toEqual([
      network.resolve(segment.workloadSecurityGroup.securityGroupId),
    ]);
    expect(tuned.VpcConfig).toEqual(scorer.VpcConfig);
  });

  test('acts as the given role, imported immutable: the construct adds no role, policy or grant', () => {
    expect(scorer.Role).toBe(ROLE);
    expect(tuned.Role).toBe(ROLE);
    for (const type of ['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
      expect(Object.keys(t.findResources(type))).toEqual([]);
    }
  });

  test('Node.js 24 on ARM, index.handler, traced, with its reserved concurrency, name and limits', () => {
    expect(scorer).toMatchObject({
      FunctionName: 'aiseg-lab-scorer',
      Description: 'Scores lab samples',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      ReservedConcurrentExecutions: 7,
      MemorySize: 512,
      Timeout: 30,
    });
    expect(tuned).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
    });
  });

  test('an event it still fails on after 2 retries, or older than 6 hours, goes to the dead-letter queue', () => {
    expect(scorer.DeadLetterConfig).toEqual({ TargetArn: DEAD_LETTERS });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
    });
  });

  test('its environment is encrypted with the given key', () => {
    expect(scorer.KmsKeyArn).toBe(ENV_KEY);
    expect(scorer.Environment).toEqual({ Variables: { ENDPOINT_NAME: 'lab-endpoint' } });
  });

  test('logs JSON to the given log group: INFO and WARN and up unless told otherwise', () => {
    expect(scorer.LoggingConfig).toEqual({
      LogFormat: 'JSON',
      LogGroup: '/aiseg/functions/lab-scorer',
      ApplicationLogLevel: 'INFO',
      SystemLogLevel: 'WARN',
    });
    expect(tuned.LoggingConfig).toEqual({
      LogFormat: 'JSON',
      LogGroup: '/aiseg/functions/lab-tuned',
      ApplicationLogLevel: 'DEBUG',
      SystemLogLevel: 'INFO',
    });
  });

  test('its code is the bundle of lib/functions/<source>/handler.ts, which exports the handler', () => {
    const bundle = readFileSync(join(functionBundle('inference-api').directory, 'index.js'), 'utf8');
    expect(staged(scorer)).toBe(bundle);
    expect(typeof load(bundle).exports.handler).toBe('function');
  });

  test("the bundle carries the AWS SDK clients it uses (the lock file's, not the runtime's): it loads only Node.js built-ins", () => {
    const { required } = load(staged(scorer));
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((id) => !isBuiltin(id))).toEqual([]);
  });

  test('values defined for the bundle are compiled in, and make it another code asset', () => {
    expect((tuned.Code as { S3Key: string }).S3Key).not.toBe((scorer.Code as { S3Key: string }).S3Key);
    expect(staged(tuned)).toContain('"lab-probe-endpoint"');
    expect(staged(tuned)).not.toContain('process.env.ENDPOINT_NAME');
    expect(staged(scorer)).toContain('process.env.ENDPOINT_NAME');
  });

  test("passes the gate: the VPC rule, which cannot read the network stack's ids, is acknowledged for its segment", () => {
    expect(gate.unacknowledged().filter((f) => f.includes(' at Fn/Scorer/'))).toEqual([]);
    const acknowledged = gate.acknowledged().filter(([f]) => f.includes(' at Fn/Scorer/'));
    expect(acknowledged).toEqual([
      [
        'cdk-validator-cfnguard lambda_inside_vpc_check at Fn/Scorer/Function/Resource',
        expect.stringContaining("segment lab's workload subnets and security group"),
      ],
    ]);
  });
});
