import { APIGatewayClient, GetAccountCommand } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ConfigServiceClient, DescribeConfigurationRecordersCommand } from '@aws-sdk/client-config-service';
import { DescribeAddressesCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { GetRoleCommand, IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { ListFirewallsCommand, NetworkFirewallClient } from '@aws-sdk/client-network-firewall';
import { DescribeHubCommand, InvalidAccessException, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { accountClients, checkAccount } from '../../../lib/tools/preflight/account';
import { requirements, type Requirement } from '../../../lib/tools/preflight/requirements';
import { readAssembly } from '../../../lib/tools/verify/assembly';
import { defaultAppDir } from '../../support/default-app';

const mocks = {
  apigateway: mockClient(APIGatewayClient),
  cloudformation: mockClient(CloudFormationClient),
  config: mockClient(ConfigServiceClient),
  ec2: mockClient(EC2Client),
  guardduty: mockClient(GuardDutyClient),
  iam: mockClient(IAMClient),
  lambda: mockClient(LambdaClient),
  networkFirewall: mockClient(NetworkFirewallClient),
  securityHub: mockClient(SecurityHubClient),
  serviceQuotas: mockClient(ServiceQuotasClient),
};

const stacks = readAssembly(defaultAppDir()).stacks;
const quotas = { firewalls: 5, vpcs: 5, eips: 5 };

/** A new account: default quotas, a default VPC, nothing else, no stack of the blueprint. */
function freshAccount(): void {
  for (const mock of Object.values(mocks)) mock.reset();
  mocks.serviceQuotas
    .on(ListServiceQuotasCommand, { ServiceCode: 'network-firewall' })
    .resolves({
      Quotas: [{ QuotaName: 'Firewalls per account', QuotaCode: 'L-NFW', Value: quotas.firewalls }],
    })
    .on(ListServiceQuotasCommand, { ServiceCode: 'vpc' })
    .resolves({ Quotas: [{ QuotaName: 'VPCs per Region', QuotaCode: 'L-F678F1CE', Value: quotas.vpcs }] })
    .on(ListServiceQuotasCommand, { ServiceCode: 'ec2' })
    .resolves({
      Quotas: [{ QuotaName: 'EC2-VPC Elastic IPs', QuotaCode: 'L-0263D0A3', Value: quotas.eips }],
    });
  mocks.networkFirewall.on(ListFirewallsCommand).resolves({ Firewalls: [] });
  mocks.ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: 'vpc-default', IsDefault: true }] });
  mocks.ec2.on(DescribeAddressesCommand).resolves({ Addresses: [] });
  mocks.lambda
    .on(GetAccountSettingsCommand)
    .resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } });
  mocks.lambda.on(GetFunctionConcurrencyCommand).resolves({});
  mocks.cloudformation.on(DescribeStacksCommand).rejects(
    new CloudFormationServiceException({
      name: 'ValidationError',
      $fault: 'client',
      $metadata: {},
      message: 'Stack does not exist',
    }),
  );
  mocks.guardduty.on(ListDetectorsCommand).resolves({ DetectorIds: [] });
  mocks.securityHub
    .on(DescribeHubCommand)
    .rejects(new InvalidAccessException({ $metadata: {}, message: 'not subscribed' }));
  mocks.config.on(DescribeConfigurationRecordersCommand).resolves({ ConfigurationRecorders: [] });
  mocks.iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'AWSServiceRoleForConfig' } as never });
  mocks.apigateway
    .on(GetAccountCommand)
    .resolves({ cloudwatchRoleArn: 'arn:aws:iam::123456789012:role/ApiGatewayLogs' });
}

const check = () => checkAccount(requirements(stacks), stacks, accountClients('eu-west-1'));
const byName = (list: Requirement[], name: string) => list.find((r) => r.name === name)!;

beforeEach(freshAccount);

describe('preflight asks the account (read-only) and marks each line', () => {
  test('a new account with default quotas: the five firewalls and four VPCs fit, exactly', async () => {
    const list = await check();
    expect(byName(list, 'Network Firewall firewalls')).toMatchObject({
      status: 'ok',
      action: 'account: quota 5, 0 other firewall(s) in the account',
    });
    expect(byName(list, 'VPCs (and the default VPC)')).toMatchObject({
      status: 'ok',
      action: 'account: quota 5, 1 other VPC(s) in the region, the default VPC among them',
    });
    for (const name of ['GuardDuty detector', 'Security Hub', 'AWS Config recorder and delivery channel']) {
      expect(byName(list, name)).toMatchObject({ status: 'ok', action: 'account: none yet' });
    }
    expect(byName(list, "AWS Config's service-linked role").status).toBe('ok');
    expect(byName(list, "API Gateway's CloudWatch role (account setting)").status).toBe('ok');
  });

  test("two firewalls already in the account: the blueprint's fourth one is short", async () => {
    mocks.networkFirewall
      .on(ListFirewallsCommand)
      .resolves({ Firewalls: [{ FirewallName: 'legacy-egress' }, { FirewallName: 'legacy-ingress' }] });
    expect(byName(await check(), 'Network Firewall firewalls')).toMatchObject({
      status: 'missing',
      action: 'account: quota 5, 2 other firewall(s) in the account; 1 short: raise the quota first',
    });
  });

  test("the blueprint's own firewalls and VPCs (a redeploy) are not counted against it", async () => {
    mocks.networkFirewall.on(ListFirewallsCommand).resolves({
      Firewalls: ['aiseg-development', 'aiseg-training', 'aiseg-inference', 'aiseg-pipeline'].map(
        (FirewallName) => ({ FirewallName }),
      ),
    });
    mocks.ec2.on(DescribeVpcsCommand).resolves({
      Vpcs: [
        { VpcId: 'vpc-default', IsDefault: true },
        ...[1, 2, 3, 4].map((i) => ({
          VpcId: `vpc-${i}`,
          Tags: [{ Key: 'ai-segmentation:blueprint', Value: 'aiseg' }],
        })),
      ],
    });
    const list = await check();
    expect(byName(list, 'Network Firewall firewalls').status).toBe('ok');
    expect(byName(list, 'VPCs (and the default VPC)').status).toBe('ok');
  });

  test('a new account whose Lambda concurrency is 10 cannot reserve 45', async () => {
    mocks.lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
    expect(byName(await check(), 'Lambda concurrent executions')).toMatchObject({
      status: 'missing',
      action:
        'account: 10 concurrent executions, 10 unreserved; reserving 45 would leave -35, below the 100 Lambda keeps: raise the quota (lambda L-B99A9384) first',
    });
  });

  test('a GuardDuty detector of someone else (a delegated administrator) makes the audit stack fail', async () => {
    mocks.guardduty.on(ListDetectorsCommand).resolves({ DetectorIds: ['12abc'] });
    expect(byName(await check(), 'GuardDuty detector')).toMatchObject({ status: 'missing' });
    expect(byName(await check(), 'GuardDuty detector').action).toMatch(
      /^account: detector 12abc already; .*detectiveServices.guardDuty to false/,
    );
  });

  test("once the audit stack is deployed, the singletons are the blueprint's own", async () => {
    mocks.guardduty.on(ListDetectorsCommand).resolves({ DetectorIds: ['12abc'] });
    mocks.cloudformation
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'aiseg-audit' } as never] });
    expect(byName(await check(), 'GuardDuty detector')).toMatchObject({ status: 'ok' });
  });

  test('no Config service-linked role and no API Gateway CloudWatch role: both missing, with the command', async () => {
    mocks.iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ $metadata: {}, message: 'no role' }));
    mocks.apigateway.on(GetAccountCommand).resolves({});
    const list = await check();
    expect(byName(list, "AWS Config's service-linked role").action).toMatch(
      /^account: no AWSServiceRoleForConfig; aws iam create-service-linked-role --aws-service-name config.amazonaws.com/,
    );
    expect(byName(list, "API Gateway's CloudWatch role (account setting)")).toMatchObject({
      status: 'missing',
    });
  });

  test('only read-only calls are made', async () => {
    await check();
    const calls = Object.values(mocks).flatMap((m) => m.calls().map((c) => c.args[0].constructor.name));
    expect(calls.length).toBeGreaterThan(0);
    for (const name of calls) expect(name).toMatch(/^(List|Describe|Get)\w+Command$/);
  });
});
