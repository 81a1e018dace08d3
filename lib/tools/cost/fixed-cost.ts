import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Hours in an average month, as AWS prices monthly figures. */
export const HOURS_PER_MONTH = 730;

/**
 * On-demand list prices in USD (us-east-1) of what the blueprint runs around the clock. Usage
 * (traffic processed, log volume, DNS queries, requests) comes on top and is not counted.
 */
/** The region whose list prices PRICES holds. */
export const PRICE_REGION = 'us-east-1';

export const PRICES = {
  firewallEndpointHour: 0.395,
  natGatewayHour: 0.045,
  publicIpv4Hour: 0.005,
  interfaceEndpointHourPerZone: 0.01,
  kmsKeyMonth: 1,
  wafWebAclMonth: 5,
  wafRuleMonth: 1,
} as const;

export interface CostLine {
  readonly item: string;
  readonly count: number;
  readonly unit: string;
  /** USD per unit per month. */
  readonly unitMonthly: number;
}

type Template = { Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

/** The resources of every stack template in a cloud assembly directory. */
export function assemblyResources(dir: string): { Type: string; Properties?: Record<string, unknown> }[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  return Object.values(manifest.artifacts)
    .filter((a) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile)
    .flatMap((a) => {
      const template = JSON.parse(readFileSync(join(dir, a.properties!.templateFile!), 'utf8')) as Template;
      return Object.values(template.Resources ?? {});
    });
}

/** The fixed monthly cost of the resources, line by line, read off the synthesized templates. */
export function fixedMonthlyCost(
  resources: { Type: string; Properties?: Record<string, unknown> }[],
): CostLine[] {
  const ofType = (type: string) => resources.filter((r) => r.Type === type);
  const listLength = (value: unknown) => (Array.isArray(value) ? value.length : 1);
  const hourly = (price: number) => Math.round(price * HOURS_PER_MONTH * 100) / 100;
  return [
    {
      item: 'Network Firewall endpoints',
      count: ofType('AWS::NetworkFirewall::Firewall').reduce(
        (n, f) => n + listLength(f.Properties?.SubnetMappings),
        0,
      ),
      unit: 'endpoint',
      unitMonthly: hourly(PRICES.firewallEndpointHour),
    },
    {
      item: 'NAT gateways',
      count: ofType('AWS::EC2::NatGateway').length,
      unit: 'gateway',
      unitMonthly: hourly(PRICES.natGatewayHour),
    },
    {
      item: 'Public IPv4 addresses (the NAT gateways)',
      count: ofType('AWS::EC2::EIP').length,
      unit: 'address',
      unitMonthly: hourly(PRICES.publicIpv4Hour),
    },
    {
      item: 'Interface endpoint zones',
      count: ofType('AWS::EC2::VPCEndpoint')
        .filter((e) => e.Properties?.VpcEndpointType === 'Interface')
        .reduce((n, e) => n + listLength(e.Properties?.SubnetIds), 0),
      unit: 'endpoint in a zone',
      unitMonthly: hourly(PRICES.interfaceEndpointHourPerZone),
    },
    {
      item: 'KMS customer managed keys',
      count: ofType('AWS::KMS::Key').length,
      unit: 'key',
      unitMonthly: PRICES.kmsKeyMonth,
    },
    {
      item: 'AWS WAF web ACLs',
      count: ofType('AWS::WAFv2::WebACL').length,
      unit: 'web ACL',
      unitMonthly: PRICES.wafWebAclMonth,
    },
    {
      item: 'AWS WAF rules (managed rule groups included)',
      count: ofType('AWS::WAFv2::WebACL').reduce((n, acl) => n + listLength(acl.Properties?.Rules), 0),
      unit: 'rule',
      unitMonthly: PRICES.wafRuleMonth,
    },
  ];
}

const usd = (amount: number) =>
  amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** The cost lines as a Markdown table with a total. */
export function costTable(lines: readonly CostLine[]): string {
  const rows = lines.map(
    (l) =>
      `| ${l.item} | ${l.count} | ${usd(l.unitMonthly)} per ${l.unit} | ${usd(l.count * l.unitMonthly)} |`,
  );
  const total = lines.reduce((sum, l) => sum + l.count * l.unitMonthly, 0);
  return [
    '| resource | count | USD per month each | USD per month |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    `| **total** | | | **${usd(total)}** |`,
  ].join('\n');
}

/** What the blueprint runs that is priced by use alone, with its list price (us-east-1), by resource type. */
export const USAGE_PRICES: readonly {
  readonly type: string;
  readonly item: string;
  readonly price: string;
}[] = [
  {
    type: 'AWS::CodeArtifact::Domain',
    item: 'CodeArtifact (the PyPI and npm mirrors)',
    price: '0.05 USD per GB-month stored, 0.05 USD per 10,000 requests; no charge for the domain itself',
  },
  {
    type: 'AWS::ECR::PullThroughCacheRule',
    item: 'ECR pull-through caches',
    price: '0.10 USD per GB-month of cached images; no charge for the rules',
  },
  {
    type: 'AWS::GuardDuty::MalwareProtectionPlan',
    item: "GuardDuty Malware Protection for S3 (the airlock's import zone)",
    price:
      '0.09 USD per GB scanned and 0.215 USD per 1,000 objects evaluated; S3 charges the object tagging it does; no charge for the plan itself',
  },
  {
    type: 'AWS::StepFunctions::StateMachine',
    item: "Step Functions standard workflows (the airlock's import and export; the pseudonymization stage's large objects)",
    price:
      "0.025 USD per 1,000 state transitions (an approved import takes 13, an approved export 12, a large object's run 4 and one more per 64 MiB range); waiting for a review costs nothing",
  },
  {
    type: 'AWS::DynamoDB::Table',
    item: "DynamoDB on-demand (the airlock's requests)",
    price: '0.625 USD per million writes, 0.125 USD per million reads, 0.25 USD per GB-month stored',
  },
  {
    type: 'AWS::Lambda::Function',
    item: "Lambda (the blueprint's functions)",
    price: '0.20 USD per million requests and 0.0000166667 USD per GB-second',
  },
];

/** The usage-priced services the templates use, as a Markdown table (nothing is counted). */
export function usageTable(resources: { Type: string }[]): string {
  const present = USAGE_PRICES.filter((u) => resources.some((r) => r.Type === u.type));
  return [
    '| priced by use | list price |',
    '| --- | --- |',
    ...present.map((u) => `| ${u.item} | ${u.price} |`),
  ].join('\n');
}
