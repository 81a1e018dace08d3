import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirements, synthWarnings, type Requirement } from '../../../lib/tools/preflight/requirements';
import { readAssembly, type StackTemplate } from '../../../lib/tools/verify/assembly';
import { defaultAppDir } from '../../support/default-app';

const ROOT = join(__dirname, '..', '..', '..');

/** This machine's environment without any AWS credentials or shared files: preflight must stay offline. */
const withoutCredentials = () => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))),
  HOME: mkdtempSync(join(tmpdir(), 'aiseg-home-')),
});
const byName = (list: readonly Requirement[], name: string) => {
  const found = list.find((r) => r.name === name);
  if (!found) throw new Error(`no requirement ${name}`);
  return found;
};

/** A stack of hand-written resources: `count` of each type. */
function stack(
  id: string,
  resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>,
) {
  return { id, stackName: id, template: { Resources: resources } } satisfies StackTemplate;
}
const many = (type: string, n: number, props: Record<string, unknown> = {}) =>
  Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`${type.split('::')[2]}${i}`, { Type: type, Properties: props }]),
  );

describe('what the default blueprint needs from the account', () => {
  const list = requirements(readAssembly(defaultAppDir()).stacks);

  test('four firewalls (no segment has egress: one tripwire each), within the default quota', () => {
    expect(byName(list, 'Network Firewall firewalls')).toMatchObject({
      needs: '4 firewalls (default quota 5)',
      status: 'ok',
    });
  });

  test("four VPCs and the account's default VPC: the whole default quota", () => {
    expect(byName(list, 'VPCs (and the default VPC)')).toMatchObject({
      needs: '5 VPCs (default quota 5)',
      status: 'check',
    });
  });

  test('Lambda concurrency: 45 reserved + the 100 Lambda keeps unreserved = 145', () => {
    expect(byName(list, 'Lambda concurrent executions').needs).toMatch(/^145 \(45 reserved/);
  });

  test('no NAT gateway and no elastic IP (no segment has egress); twelve interface endpoints in the largest VPC (development)', () => {
    expect(byName(list, 'NAT gateways in one availability zone')).toMatchObject({
      needs: '0 NAT gateways (default quota 5)',
      status: 'ok',
    });
    expect(byName(list, 'Elastic IP addresses')).toMatchObject({
      needs: '0 addresses (default quota 5)',
      status: 'ok',
    });
    expect(byName(list, 'Interface endpoints in one VPC').needs).toBe('12 endpoints (default quota 50)');
  });

  test('the account-wide singletons and the prerequisites are listed', () => {
    expect(list.filter((r) => r.kind === 'singleton').map((r) => r.name)).toEqual([
      'GuardDuty detector',
      'Security Hub',
      'AWS Config recorder and delivery channel',
    ]);
    expect(list.filter((r) => r.kind === 'prerequisite').map((r) => r.name)).toEqual([
      "AWS Config's service-linked role",
      "API Gateway's CloudWatch role (account setting)",
      'network protections',
    ]);
  });

  test('no alert e-mail configured: the alert topic has no subscriber, which is missing and said at synth', () => {
    const alerts = list.filter((r) => r.kind === 'alerts');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ status: 'missing' });
    expect(alerts[0].action).toMatch(/^no subscriber: every alarm and finding reaches no one/);
    expect(synthWarnings(list).some((w) => w.includes('no subscriber'))).toBe(true);
  });

  test('npm run preflight prints the checklist offline and exits 1 for the missing subscriber', () => {
    const run = spawnSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'scripts/preflight.ts', defaultAppDir()],
      { cwd: ROOT, encoding: 'utf8', env: withoutCredentials() },
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      'No AWS credentials found: read off the templates only; nothing was asked of an account',
    );
    expect(run.stdout).toMatch(/^MISSING alerts: alert topic Audit\/AlertsTopic/m);
    expect(run.stdout).toMatch(/^ok {6}quota: Network Firewall firewalls: 4 firewalls/m);
    expect(run.stdout).toMatch(/^CHECK {3}quota: VPCs \(and the default VPC\): 5 VPCs/m);
  });

  test('npm run preflight exits 2 without an assembly', () => {
    const run = spawnSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'scripts/preflight.ts', join(ROOT, 'no-such-dir')],
      { cwd: ROOT, encoding: 'utf8', env: withoutCredentials() },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('no cloud assembly here');
  });
});

describe('quotas over their defaults are missing', () => {
  test('a sixth firewall and a fifth VPC (with the default VPC, a sixth)', () => {
    const list = requirements([
      stack('A', { ...many('AWS::NetworkFirewall::Firewall', 6), ...many('AWS::EC2::VPC', 5) }),
    ]);
    expect(byName(list, 'Network Firewall firewalls')).toMatchObject({ status: 'missing' });
    expect(byName(list, 'VPCs (and the default VPC)')).toMatchObject({
      needs: '6 VPCs (default quota 5)',
      status: 'missing',
    });
    expect(synthWarnings(list)).toHaveLength(2);
  });

  test('reserved concurrency above what a default account can give', () => {
    const list = requirements([
      stack('A', many('AWS::Lambda::Function', 2, { ReservedConcurrentExecutions: 451 })),
    ]);
    expect(byName(list, 'Lambda concurrent executions')).toMatchObject({ status: 'missing' });
    expect(byName(list, 'Lambda concurrent executions').needs).toMatch(/^1002 /);
  });

  test('NAT gateways are counted per zone, across stacks', () => {
    const zoneA = { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] };
    const nats = (n: number) => {
      const resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> = {};
      for (let i = 0; i < n; i++) {
        resources[`Subnet${i}`] = { Type: 'AWS::EC2::Subnet', Properties: { AvailabilityZone: zoneA } };
        resources[`Nat${i}`] = {
          Type: 'AWS::EC2::NatGateway',
          Properties: { SubnetId: { Ref: `Subnet${i}` } },
        };
      }
      return resources;
    };
    const list = requirements([stack('A', nats(3)), stack('B', nats(3))]);
    expect(byName(list, 'NAT gateways in one availability zone')).toMatchObject({
      needs: '6 NAT gateways (default quota 5)',
      status: 'missing',
    });
  });
});

describe('alert subscribers', () => {
  const topic = { Topic: { Type: 'AWS::SNS::Topic' } };
  const subscription = (endpoint: string) => ({
    Type: 'AWS::SNS::Subscription',
    Properties: { Protocol: 'email', Endpoint: endpoint, TopicArn: { Ref: 'Topic' } },
  });

  test('a topic with subscribers is to check (each must confirm), not missing', () => {
    const [alerts] = requirements([
      stack('A', { ...topic, S1: subscription('soc@example.org'), S2: subscription('ciso@example.org') }),
    ]).filter((r) => r.kind === 'alerts');
    expect(alerts).toMatchObject({
      status: 'check',
      needs: '2 subscriber(s): soc@example.org, ciso@example.org',
    });
    expect(alerts.action).toMatch(/confirms the subscription/);
  });

  test("another topic's subscriber does not count", () => {
    const other = {
      ...subscription('soc@example.org'),
      Properties: {
        ...subscription('x').Properties,
        Endpoint: 'soc@example.org',
        TopicArn: { Ref: 'Other' },
      },
    };
    const [alerts] = requirements([stack('A', { ...topic, S1: other })]).filter((r) => r.kind === 'alerts');
    expect(alerts.status).toBe('missing');
  });
});

describe('callers of the inference API', () => {
  const api = { Api: { Type: 'AWS::ApiGateway::RestApi' } };
  const role = (value: string) => ({
    Type: 'AWS::IAM::Role',
    Properties: { Tags: [{ Key: 'ai-segmentation:role', Value: value }] },
  });

  test('an API with no caller role is missing its callers, named with the config field', () => {
    const [line] = requirements([stack('Api', { ...api, Other: role('inference-sagemaker') })]).filter(
      (r) => r.name === 'inference API with no caller',
    );
    expect(line).toMatchObject({ kind: 'principals', status: 'missing' });
    expect(line.needs).toMatch(/^Api\/Api: .* no caller role/);
    expect(line.action).toMatch(/inferenceApi\.callers/);
  });

  test('one caller role is enough; no API, no line', () => {
    const named = (stacks: StackTemplate[]) =>
      requirements(stacks).filter((r) => r.name === 'inference API with no caller');
    expect(named([stack('Api', { ...api, Caller: role('inference-caller') })])).toEqual([]);
    expect(named([stack('Other', { Caller: role('inference-sagemaker') })])).toEqual([]);
  });
});
