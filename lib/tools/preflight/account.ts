import { APIGatewayClient, GetAccountCommand } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ConfigServiceClient, DescribeConfigurationRecordersCommand } from '@aws-sdk/client-config-service';
import { DescribeAddressesCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { ListFirewallsCommand, NetworkFirewallClient } from '@aws-sdk/client-network-firewall';
import { DescribeHubCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { BLUEPRINT_TAG } from '../../contract/tags';
import type { StackTemplate } from '../verify/assembly';
import { LAMBDA_UNRESERVED_MINIMUM, type Requirement } from './requirements';

/** The read-only clients preflight asks the account with. */
export interface AccountClients {
  readonly apigateway: APIGatewayClient;
  readonly cloudformation: CloudFormationClient;
  readonly config: ConfigServiceClient;
  readonly ec2: EC2Client;
  readonly guardduty: GuardDutyClient;
  readonly iam: IAMClient;
  readonly lambda: LambdaClient;
  readonly networkFirewall: NetworkFirewallClient;
  readonly securityHub: SecurityHubClient;
  readonly serviceQuotas: ServiceQuotasClient;
}

export function accountClients(region: string): AccountClients {
  const config = { region };
  return {
    apigateway: new APIGatewayClient(config),
    cloudformation: new CloudFormationClient(config),
    config: new ConfigServiceClient(config),
    ec2: new EC2Client(config),
    guardduty: new GuardDutyClient(config),
    iam: new IAMClient(config),
    lambda: new LambdaClient(config),
    networkFirewall: new NetworkFirewallClient(config),
    securityHub: new SecurityHubClient(config),
    serviceQuotas: new ServiceQuotasClient(config),
  };
}

/** Service Quotas codes of the quotas the blueprint consumes (by requirement name). */
const QUOTAS: Record<string, { service: string; code?: string; name?: RegExp }> = {
  'Network Firewall firewalls': { service: 'network-firewall', name: /firewalls per account/i },
  'VPCs (and the default VPC)': { service: 'vpc', code: 'L-F678F1CE' },
  'Elastic IP addresses': { service: 'ec2', code: 'L-0263D0A3' },
};

const errorName = (err: unknown) => (err as { name?: string }).name ?? '';

/** What the templates name: firewall names and the blueprint tag, so the blueprint's own resources are not counted against it. */
function ownResources(stacks: readonly StackTemplate[]) {
  const resources = stacks.flatMap((s) => Object.values(s.template.Resources ?? {}));
  const literal = (v: unknown) => (typeof v === 'string' ? [v] : []);
  const tags = resources.flatMap((r) =>
    Array.isArray(r.Properties?.Tags) ? (r.Properties.Tags as { Key: string; Value: unknown }[]) : [],
  );
  return {
    firewallNames: new Set(
      resources
        .filter((r) => r.Type === 'AWS::NetworkFirewall::Firewall')
        .flatMap((r) => literal(r.Properties?.FirewallName)),
    ),
    functionNames: resources
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .flatMap((r) => literal(r.Properties?.FunctionName)),
    blueprint: tags.find((t) => t.Key === BLUEPRINT_TAG)?.Value as string | undefined,
  };
}

/**
 * Asks the account (read-only calls) about each requirement the templates list, and returns the
 * requirements with their status set from what the account says: `ok` or `missing`, with what
 * was seen. A requirement the account cannot be asked about keeps its status.
 */
export async function checkAccount(
  list: readonly Requirement[],
  stacks: readonly StackTemplate[],
  clients: AccountClients,
): Promise<Requirement[]> {
  const own = ownResources(stacks);
  const isOwn = (tags: { Key?: string; Value?: string }[] | undefined) =>
    own.blueprint !== undefined &&
    (tags ?? []).some((t) => t.Key === BLUEPRINT_TAG && t.Value === own.blueprint);
  const quotaCache = new Map<string, { QuotaCode?: string; QuotaName?: string; Value?: number }[]>();
  const quotaValue = async (name: string): Promise<number | undefined> => {
    const wanted = QUOTAS[name];
    if (!wanted) return undefined;
    if (!quotaCache.has(wanted.service)) {
      const quotas: { QuotaCode?: string; QuotaName?: string; Value?: number }[] = [];
      let token: string | undefined;
      do {
        const page = await clients.serviceQuotas.send(
          new ListServiceQuotasCommand({ ServiceCode: wanted.service, NextToken: token }),
        );
        quotas.push(...(page.Quotas ?? []));
        token = page.NextToken;
      } while (token);
      quotaCache.set(wanted.service, quotas);
    }
    return quotaCache
      .get(wanted.service)!
      .find((q) => (wanted.code ? q.QuotaCode === wanted.code : wanted.name!.test(q.QuotaName ?? '')))?.Value;
  };
  /** Whether the stack holding a singleton is deployed: then the singleton is this blueprint's own. */
  const deployed = async (stackName: string) => {
    try {
      const out = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
      return (out.Stacks ?? []).length > 0;
    } catch (err) {
      if (errorName(err) === 'ValidationError') return false;
      throw err;
    }
  };
  const auditStack = stacks.find((s) =>
    Object.values(s.template.Resources ?? {}).some(
      (r) =>
        r.Type === 'AWS::GuardDuty::Detector' ||
        r.Type === 'AWS::SecurityHub::Hub' ||
        r.Type === 'AWS::Config::ConfigurationRecorder',
    ),
  );
  const auditDeployed = auditStack ? await deployed(auditStack.stackName) : false;

  const quotaAgainstUse = async (r: Requirement, used: number, seen: string): Promise<Requirement> => {
    const needed = r.amount ?? 0;
    const limit = await quotaValue(r.name);
    if (limit === undefined) return r;
    const room = limit - used;
    return room >= needed
      ? { ...r, status: 'ok', action: `account: quota ${limit}, ${seen}` }
      : {
          ...r,
          status: 'missing',
          action: `account: quota ${limit}, ${seen}; ${needed - room} short: raise the quota first`,
        };
  };

  const checked: Requirement[] = [];
  for (const r of list) {
    switch (r.name) {
      case 'Network Firewall firewalls': {
        const names: string[] = [];
        let token: string | undefined;
        do {
          const page = await clients.networkFirewall.send(new ListFirewallsCommand({ NextToken: token }));
          names.push(...(page.Firewalls ?? []).map((f) => f.FirewallName ?? ''));
          token = page.NextToken;
        } while (token);
        const others = names.filter((n) => !own.firewallNames.has(n)).length;
        checked.push(await quotaAgainstUse(r, others, `${others} other firewall(s) in the account`));
        break;
      }
      case 'VPCs (and the default VPC)': {
        const vpcs = (await clients.ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
        const others = vpcs.filter((v) => !isOwn(v.Tags)).length;
        // The account's real VPCs are counted here, the default VPC among them if it still exists.
        checked.push(
          await quotaAgainstUse(
            r,
            others,
            `${others} other VPC(s) in the region${vpcs.some((v) => v.IsDefault) ? ', the default VPC among them' : ''}`,
          ),
        );
        break;
      }
      case 'Elastic IP addresses': {
        const addresses = (await clients.ec2.send(new DescribeAddressesCommand({}))).Addresses ?? [];
        const others = addresses.filter((a) => !isOwn(a.Tags)).length;
        checked.push(await quotaAgainstUse(r, others, `${others} other address(es)`));
        break;
      }
      case 'Lambda concurrent executions': {
        const settings = await clients.lambda.send(new GetAccountSettingsCommand({}));
        const reserved = r.amount ?? 0;
        // What the blueprint's own functions already reserve is free to them again.
        let ownReserved = 0;
        for (const name of own.functionNames) {
          try {
            ownReserved +=
              (await clients.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name })))
                .ReservedConcurrentExecutions ?? 0;
          } catch (err) {
            if (errorName(err) !== 'ResourceNotFoundException') throw err;
          }
        }
        const unreserved = (settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0) + ownReserved;
        const limit = settings.AccountLimit?.ConcurrentExecutions ?? 0;
        const left = unreserved - reserved;
        checked.push(
          left >= LAMBDA_UNRESERVED_MINIMUM
            ? {
                ...r,
                status: 'ok',
                action: `account: ${limit} concurrent executions, ${unreserved} unreserved; ${left} stay unreserved`,
              }
            : {
                ...r,
                status: 'missing',
                action: `account: ${limit} concurrent executions, ${unreserved} unreserved; reserving ${reserved} would leave ${left}, below the ${LAMBDA_UNRESERVED_MINIMUM} Lambda keeps: raise the quota (lambda L-B99A9384) first`,
              },
        );
        break;
      }
      case 'GuardDuty detector': {
        const ids = (await clients.guardduty.send(new ListDetectorsCommand({}))).DetectorIds ?? [];
        checked.push(singleton(r, auditDeployed, ids.length > 0, `detector ${ids.join(', ')}`));
        break;
      }
      case 'Security Hub': {
        let enabled = true;
        try {
          await clients.securityHub.send(new DescribeHubCommand({}));
        } catch (err) {
          if (!['InvalidAccessException', 'ResourceNotFoundException'].includes(errorName(err))) throw err;
          enabled = false;
        }
        checked.push(singleton(r, auditDeployed, enabled, 'Security Hub is enabled'));
        break;
      }
      case 'AWS Config recorder and delivery channel': {
        const recorders =
          (await clients.config.send(new DescribeConfigurationRecordersCommand({}))).ConfigurationRecorders ??
          [];
        checked.push(
          singleton(
            r,
            auditDeployed,
            recorders.length > 0,
            `recorder ${recorders.map((x) => x.name).join(', ')}`,
          ),
        );
        break;
      }
      case "AWS Config's service-linked role": {
        let exists = true;
        try {
          await clients.iam.send(new GetRoleCommand({ RoleName: 'AWSServiceRoleForConfig' }));
        } catch (err) {
          if (errorName(err) !== 'NoSuchEntityException') throw err;
          exists = false;
        }
        checked.push(
          exists
            ? { ...r, status: 'ok', action: 'account: AWSServiceRoleForConfig exists' }
            : { ...r, status: 'missing', action: `account: no AWSServiceRoleForConfig; ${r.action ?? ''}` },
        );
        break;
      }
      case "API Gateway's CloudWatch role (account setting)": {
        const account = await clients.apigateway.send(new GetAccountCommand({}));
        checked.push(
          account.cloudwatchRoleArn
            ? { ...r, status: 'ok', action: `account: ${account.cloudwatchRoleArn}` }
            : { ...r, status: 'missing', action: `account: no CloudWatch role set; ${r.action ?? ''}` },
        );
        break;
      }
      default:
        checked.push(r);
    }
  }
  return checked;
}

function singleton(r: Requirement, ownDeployed: boolean, exists: boolean, seen: string): Requirement {
  if (ownDeployed)
    return { ...r, status: 'ok', action: 'account: the audit stack is deployed; this is its own' };
  return exists
    ? { ...r, status: 'missing', action: `account: ${seen} already; ${r.action ?? ''}` }
    : { ...r, status: 'ok', action: 'account: none yet' };
}
