import { z } from 'zod';
import type { RawEnvironment } from './environment';
import { defaultText, ipv4Cidr } from './fields';
import type { CrossFieldRule } from './rules';

const DOMAIN_LIST_ID = /^rslvr-fdl-[0-9a-f]{8,32}$/;

// Shape

const dnsFirewall = z
  .strictObject({
    managedDomainListIds: z
      .array(
        z
          .string()
          .regex(DOMAIN_LIST_ID, 'expected a DNS Firewall domain list id such as rslvr-fdl-0123456789abcdef'),
      )
      .optional()
      .describe(
        'Ids (`rslvr-fdl-…`) of the AWS managed domain lists every segment blocks (malware, botnet command and control, aggregate threats); they differ per region and synth makes no look-ups: `aws route53resolver list-firewall-domain-lists` prints them. Required when `environment.account` is set (`[]` where the region has none).',
      )
      .register(defaultText, { text: '`[]`' }),
  })
  .describe('DNS Firewall settings that every segment shares.');

export const networkFields = {
  networkProtection: z
    .boolean()
    .default(true)
    .describe(
      'Deletion, subnet-change and policy-change protection of every Network Firewall and mutation protection of every DNS Firewall association; `false` only for a first deploy that may fail (so CloudFormation can roll a network stack back), then `true` again (preflight reminds you).',
    ),
  corporateCidrs: z
    .array(ipv4Cidr(8, 32))
    .default(['172.16.0.0/12', '192.168.0.0/16'])
    .describe('Corporate IPv4 ranges (`/8` to `/32`) no segment may overlap or reach (network ACL and IPS).'),
  dnsFirewall: dnsFirewall.default({}),
};

export type RawDnsFirewall = z.output<typeof dnsFirewall>;

/** The DNS Firewall settings with the managed lists resolved: none where the file names none. */
export function resolveDnsFirewall(dns: RawDnsFirewall) {
  return { managedDomainListIds: dns.managedDomainListIds ?? [] };
}

// Cross-field rules

export const managedDomainListsWithAccount: CrossFieldRule<{
  readonly environment: RawEnvironment;
  readonly dnsFirewall: RawDnsFirewall;
}> = {
  requires: ['`dnsFirewall.managedDomainListIds` is set when `environment.account` is.'],
  check: (config) =>
    config.environment.account && !config.dnsFirewall.managedDomainListIds
      ? [
          {
            path: ['dnsFirewall', 'managedDomainListIds'],
            message:
              'required when environment.account is set: the ids of the AWS managed domain lists to block (aws route53resolver list-firewall-domain-lists), or [] where the region has none',
          },
        ]
      : [],
};
