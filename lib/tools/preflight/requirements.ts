import { TRUSTS_NO_ONE_METADATA_KEY } from '../../contract/metadata';
import { INFERENCE_CALLER_ROLE, ROLE_TAG } from '../../contract/tags';
import type { StackTemplate } from '../verify/assembly';

/**
 * What a synthesized blueprint needs from the account it is deployed to, read off its templates
 * alone (so it judges any assembly, like the verifier): the quotas it consumes against AWS's
 * defaults, the account-wide singletons it creates, the service-linked roles and account
 * settings that must exist first, and whether anyone receives its alerts.
 */

/** How a requirement stands, as far as the templates tell. */
export type RequirementStatus =
  /** Within the default quota, or nothing to do. */
  | 'ok'
  /** Uses the whole default quota, or depends on what the account already holds: check it. */
  | 'check'
  /** Known to fail or to leave a control without effect unless something is done first. */
  | 'missing';

export interface Requirement {
  readonly kind: 'quota' | 'singleton' | 'prerequisite' | 'principals' | 'alerts';
  readonly name: string;
  /** What the blueprint needs, in words and numbers. */
  readonly needs: string;
  readonly status: RequirementStatus;
  /** What to do about it. */
  readonly action?: string;
  /** For quotas: how many the blueprint itself creates (or reserves). */
  readonly amount?: number;
}

/** Default quotas per account and region (AWS's published defaults; many accounts have more). */
export const DEFAULT_QUOTAS = {
  firewalls: 5,
  firewallPolicies: 20,
  statefulRuleGroups: 50,
  vpcs: 5,
  elasticIps: 5,
  natGatewaysPerZone: 5,
  interfaceEndpointsPerVpc: 50,
  lambdaConcurrency: 1000,
  configRules: 1000,
} as const;

/** Lambda keeps this much of the account's concurrency unreserved; reservations cannot touch it. */
export const LAMBDA_UNRESERVED_MINIMUM = 100;

interface Resource {
  readonly stack: string;
  readonly id: string;
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

function resources(stacks: readonly StackTemplate[]): Resource[] {
  return stacks.flatMap((s) =>
    Object.entries(s.template.Resources ?? {}).map(([id, r]) => ({ stack: s.id, id, ...r })),
  );
}

const ofType = (all: readonly Resource[], type: string) => all.filter((r) => r.Type === type);

/** A quota line: over the default is missing (ask for an increase first), at it is to check. */
function quota(
  name: string,
  used: number,
  limit: number,
  unit: string,
  increase: string,
  amount = used,
): Requirement {
  const needs = `${used} ${unit} (default quota ${limit})`;
  if (used > limit) {
    return {
      kind: 'quota',
      name,
      needs,
      amount,
      status: 'missing',
      action: `raise the quota before deploying: ${increase}`,
    };
  }
  if (used === limit) {
    return {
      kind: 'quota',
      name,
      needs,
      amount,
      status: 'check',
      action: `uses the whole default quota: one more of them already in the account fails the deploy; ${increase}`,
    };
  }
  return { kind: 'quota', name, needs, amount, status: 'ok' };
}

/** The most resources of a type any one group holds, grouped by `key`. */
function mostPerGroup(list: readonly Resource[], key: (r: Resource) => string): number {
  const counts = new Map<string, number>();
  for (const r of list) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}

/** The zone of the subnet a resource sits in, as its template writes it (a name or an expression). */
function zoneOfSubnet(all: readonly Resource[], resource: Resource): string {
  const ref = (resource.Properties?.SubnetId as { Ref?: string } | undefined)?.Ref;
  const subnet = all.find((r) => r.stack === resource.stack && r.id === ref);
  return JSON.stringify(subnet?.Properties?.AvailabilityZone ?? `${resource.stack}:${resource.id}`);
}

/** The requirements of a synthesized blueprint, in a fixed order. */
export function requirements(stacks: readonly StackTemplate[]): Requirement[] {
  const all = resources(stacks);
  const count = (type: string) => ofType(all, type).length;
  const serviceQuotas = (code: string) => `Service Quotas, ${code}`;
  const list: Requirement[] = [];

  // ---- quotas ----
  list.push(
    quota(
      'Network Firewall firewalls',
      count('AWS::NetworkFirewall::Firewall'),
      DEFAULT_QUOTAS.firewalls,
      'firewalls',
      serviceQuotas('network-firewall "Firewalls per account"'),
    ),
    quota(
      'Network Firewall policies',
      count('AWS::NetworkFirewall::FirewallPolicy'),
      DEFAULT_QUOTAS.firewallPolicies,
      'policies',
      serviceQuotas('network-firewall "Firewall policies per account"'),
    ),
    quota(
      'Network Firewall stateful rule groups',
      count('AWS::NetworkFirewall::RuleGroup'),
      DEFAULT_QUOTAS.statefulRuleGroups,
      'rule groups',
      serviceQuotas('network-firewall "Stateful rule groups per account"'),
    ),
    // An account starts with a default VPC in every region, which counts too.
    quota(
      'VPCs (and the default VPC)',
      count('AWS::EC2::VPC') + 1,
      DEFAULT_QUOTAS.vpcs,
      'VPCs',
      `${serviceQuotas('vpc "VPCs per Region" (L-F678F1CE)')}, or delete the default VPC`,
      count('AWS::EC2::VPC'),
    ),
    quota(
      'Elastic IP addresses',
      count('AWS::EC2::EIP'),
      DEFAULT_QUOTAS.elasticIps,
      'addresses',
      serviceQuotas('ec2 "EC2-VPC Elastic IPs" (L-0263D0A3)'),
    ),
    quota(
      'NAT gateways in one availability zone',
      mostPerGroup(ofType(all, 'AWS::EC2::NatGateway'), (nat) => zoneOfSubnet(all, nat)),
      DEFAULT_QUOTAS.natGatewaysPerZone,
      'NAT gateways',
      serviceQuotas('vpc "NAT gateways per Availability Zone" (L-FE5A380F)'),
    ),
    quota(
      'Interface endpoints in one VPC',
      mostPerGroup(
        ofType(all, 'AWS::EC2::VPCEndpoint').filter((r) => r.Properties?.VpcEndpointType === 'Interface'),
        (r) => `${r.stack}:${JSON.stringify(r.Properties?.VpcId)}`,
      ),
      DEFAULT_QUOTAS.interfaceEndpointsPerVpc,
      'endpoints',
      serviceQuotas('vpc "Interface VPC endpoints per VPC" (L-29B6F2EB)'),
    ),
  );
  const reserved = ofType(all, 'AWS::Lambda::Function').reduce(
    (sum, r) =>
      sum +
      (typeof r.Properties?.ReservedConcurrentExecutions === 'number'
        ? r.Properties.ReservedConcurrentExecutions
        : 0),
    0,
  );
  if (reserved > 0) {
    const needed = reserved + LAMBDA_UNRESERVED_MINIMUM;
    list.push({
      kind: 'quota',
      name: 'Lambda concurrent executions',
      amount: reserved,
      needs: `${needed} (${reserved} reserved by the blueprint's functions + ${LAMBDA_UNRESERVED_MINIMUM} Lambda keeps unreserved; default quota ${DEFAULT_QUOTAS.lambdaConcurrency}, new accounts often 10)`,
      status: needed > DEFAULT_QUOTAS.lambdaConcurrency ? 'missing' : 'check',
      action: `aws lambda get-account-settings: AccountLimit.ConcurrentExecutions must be at least ${needed}, minus what other functions already reserve; ${serviceQuotas('lambda "Concurrent executions" (L-B99A9384)')}`,
    });
  }
  const configRules = count('AWS::Config::ConfigRule');
  if (configRules > 0) {
    list.push(
      quota(
        'AWS Config rules',
        configRules,
        DEFAULT_QUOTAS.configRules,
        'rules',
        'delete unused rules (the quota cannot be raised)',
      ),
    );
  }
  const alarms = count('AWS::CloudWatch::Alarm');
  list.push({
    kind: 'quota',
    name: 'CloudWatch alarms',
    needs: `${alarms} alarms (billed per alarm; no account quota in reach)`,
    status: 'ok',
  });

  // ---- account-wide singletons: a second one in the account fails the deploy ----
  const singleton = (type: string, name: string, switchOff: string) => {
    if (count(type) === 0) return;
    list.push({
      kind: 'singleton',
      name,
      needs: `creates the account's ${name} in this region`,
      status: 'check',
      action: `fails if the account already has one (a delegated administrator's included): set ${switchOff} to false then`,
    });
  };
  singleton('AWS::GuardDuty::Detector', 'GuardDuty detector', 'detectiveServices.guardDuty');
  singleton('AWS::SecurityHub::Hub', 'Security Hub', 'detectiveServices.securityHub');
  singleton(
    'AWS::Config::ConfigurationRecorder',
    'AWS Config recorder and delivery channel',
    'detectiveServices.awsConfig',
  );

  // ---- what must exist before the deploy ----
  const recorderRoles = ofType(all, 'AWS::Config::ConfigurationRecorder').map((r) =>
    JSON.stringify(r.Properties?.RoleARN),
  );
  if (
    recorderRoles.some((role) =>
      role.includes('aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig'),
    )
  ) {
    list.push({
      kind: 'prerequisite',
      name: "AWS Config's service-linked role",
      needs: 'AWSServiceRoleForConfig, which the recorder uses',
      status: 'check',
      action:
        'aws iam create-service-linked-role --aws-service-name config.amazonaws.com (fails harmlessly when it exists)',
    });
  }
  const loggedStages = ofType(all, 'AWS::ApiGateway::Stage').filter((r) =>
    JSON.stringify(r.Properties?.MethodSettings ?? []).includes('"LoggingLevel"'),
  );
  if (loggedStages.length > 0) {
    list.push({
      kind: 'prerequisite',
      name: "API Gateway's CloudWatch role (account setting)",
      needs: `${loggedStages.length} stage(s) log executions, which API Gateway refuses while the account has no CloudWatch role`,
      status: 'check',
      action:
        'aws apigateway get-account must show cloudwatchRoleArn; else create a role trusting apigateway.amazonaws.com with AmazonAPIGatewayPushToCloudWatchLogs and set it with aws apigateway update-account',
    });
  }

  const firewalls = ofType(all, 'AWS::NetworkFirewall::Firewall');
  const unprotected = firewalls.filter((r) => r.Properties?.DeleteProtection !== true);
  if (unprotected.length > 0) {
    list.push({
      kind: 'prerequisite',
      name: 'network protections',
      needs: `${unprotected.length} firewall(s) without deletion protection (networkProtection false), so that a failed first deploy can roll back`,
      status: 'check',
      action: 'once the first deploy has succeeded, set networkProtection to true and deploy again',
    });
  } else if (firewalls.length > 0) {
    list.push({
      kind: 'prerequisite',
      name: 'network protections',
      needs: `${firewalls.length} firewall(s) with deletion protection, DNS Firewall associations with mutation protection`,
      status: 'check',
      action:
        'a network stack whose first create fails cannot roll back past them (ROLLBACK_FAILED): for a first deploy set networkProtection to false, or follow the clean-up in the docs (Deploy)',
    });
  }

  // ---- who may assume the roles: a role whose principals the config leaves unset trusts no one ----
  const unnamed = ofType(all, 'AWS::IAM::Role').filter(
    (r) => typeof r.Metadata?.[TRUSTS_NO_ONE_METADATA_KEY] === 'string',
  );
  if (unnamed.length > 0) {
    const named = unnamed.map(
      (r) =>
        `${typeof r.Properties?.RoleName === 'string' ? r.Properties.RoleName : `${r.stack}/${r.id}`} (${String(r.Metadata?.[TRUSTS_NO_ONE_METADATA_KEY])})`,
    );
    list.push({
      kind: 'principals',
      name: 'roles no one may assume',
      needs: `${unnamed.length} role(s) whose trust names no principal, so that their trust policy denies everyone: ${named.join(', ')}`,
      status: 'missing',
      action:
        'name who may assume each in the config field in brackets (role or user ARNs; never an account root), and deploy again',
    });
  }

  // ---- who may call the inference API: with no caller role, only the roles IAM already lets in ----
  const apis = ofType(all, 'AWS::ApiGateway::RestApi');
  const callers = ofType(all, 'AWS::IAM::Role').filter((r) =>
    ((r.Properties?.Tags ?? []) as { Key: string; Value: unknown }[]).some(
      (t) => t.Key === ROLE_TAG && t.Value === INFERENCE_CALLER_ROLE,
    ),
  );
  if (apis.length > 0 && callers.length === 0) {
    list.push({
      kind: 'principals',
      name: 'inference API with no caller',
      needs: `${apis.map((a) => `${a.stack}/${a.id}`).join(', ')}: IAM authorization, an API key per caller and no caller role, so no application can call it`,
      status: 'missing',
      action:
        'name each consuming application and who may assume its role in inferenceApi.callers, and deploy again',
    });
  }

  // ---- alerts ----
  for (const topic of ofType(all, 'AWS::SNS::Topic')) {
    const subscriptions = ofType(all, 'AWS::SNS::Subscription').filter(
      (s) => JSON.stringify(s.Properties?.TopicArn) === JSON.stringify({ Ref: topic.id }),
    );
    const name = `alert topic ${topic.stack}/${topic.id}`;
    list.push(
      subscriptions.length === 0
        ? {
            kind: 'alerts',
            name,
            needs: 'someone to receive the alarms and findings it carries',
            status: 'missing',
            action:
              'no subscriber: every alarm and finding reaches no one. Set audit.alertEmails (or subscribe a ticketing or chat endpoint)',
          }
        : {
            kind: 'alerts',
            name,
            needs: `${subscriptions.length} subscriber(s): ${subscriptions.map((s) => String(s.Properties?.Endpoint)).join(', ')}`,
            status: 'check',
            action:
              'each e-mail address receives nothing until its owner confirms the subscription (aws sns list-subscriptions-by-topic shows PendingConfirmation until then)',
          },
    );
  }
  return list;
}

/** The requirements as the lines a person reads, worst first within each kind. */
export function requirementLines(list: readonly Requirement[]): string[] {
  const mark: Record<RequirementStatus, string> = { missing: 'MISSING', check: 'CHECK  ', ok: 'ok     ' };
  return list.map(
    (r) => `${mark[r.status]} ${r.kind}: ${r.name}: ${r.needs}${r.action ? ` -> ${r.action}` : ''}`,
  );
}

/** What a synth must say aloud: what is missing, and quotas used up to their default. */
export function synthWarnings(list: readonly Requirement[]): string[] {
  return list
    .filter((r) => r.status === 'missing' || (r.kind === 'quota' && r.status === 'check'))
    .map(
      (r) =>
        `Warning: ${r.name}: ${r.needs}${r.action ? `; ${r.action}` : ''} (npm run preflight lists everything)`,
    );
}
