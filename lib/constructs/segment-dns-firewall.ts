import { Stack, ArnFormat } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as r53r from 'aws-cdk-lib/aws-route53resolver';
import { Construct } from 'constructs';

/**
 * Names AWS services and instances resolve under: service endpoints (which the interface
 * endpoints' private DNS answers), and the VPC's own instance names.
 */
export const AWS_SERVICE_DOMAINS = [
  'amazonaws.com',
  '*.amazonaws.com',
  'api.aws',
  '*.api.aws',
  '*.compute.internal',
  '*.ec2.internal',
] as const;

/** Rule priorities: threat lists first, then AWS's threat detection, the allowlist, and a final block. */
export const MANAGED_LIST_FIRST_PRIORITY = 100;
export const THREAT_PROTECTION_PRIORITY = 200;
export const ALLOW_PRIORITY = 300;
export const BLOCK_EVERYTHING_PRIORITY = 1000;
/** Priority of the association among the VPC's DNS firewall rule groups (101 to 9899). */
export const ASSOCIATION_PRIORITY = 101;

export interface SegmentDnsFirewallProps {
  readonly namePrefix: string;
  readonly segmentName: string;
  readonly vpc: ec2.IVpc;
  /** Internet domains of the segment's egress allowlist (Network Firewall syntax: `.x` is x and its subdomains). */
  readonly egressAllowlist: readonly string[];
  /** Private zones the segment may resolve, with their subdomains. */
  readonly internalZones: readonly string[];
  /**
   * Names the segment's interface endpoints answer outside AWS_SERVICE_DOMAINS (Studio's).
   * @default - none
   */
  readonly endpointDomains?: readonly string[];
  /** Ids of the AWS managed domain lists to block. */
  readonly managedDomainListIds: readonly string[];
  /** Encrypted, retained log group receiving every DNS query of the VPC. */
  readonly queryLogGroup: logs.ILogGroup;
  /**
   * Mutation protection of the association; off only while a first deploy may need to roll back.
   * @default true
   */
  readonly protect?: boolean;
}

/**
 * Route 53 Resolver DNS Firewall for one segment, default deny: the AWS managed threat lists and
 * DNS Firewall Advanced (domain generation algorithms, DNS tunnelling) block first, then the
 * segment may resolve AWS service names, its internal zones and its egress allowlist, and every
 * other name is answered NXDOMAIN. Every query of the VPC is logged.
 */
export class SegmentDnsFirewall extends Construct {
  readonly ruleGroup: r53r.CfnFirewallRuleGroup;
  readonly allowedDomains: string[];

  constructor(scope: Construct, id: string, props: SegmentDnsFirewallProps) {
    super(scope, id);
    const name = `${props.namePrefix}-${props.segmentName}`;

    this.allowedDomains = [
      ...new Set([
        ...AWS_SERVICE_DOMAINS,
        ...(props.endpointDomains ?? []),
        ...props.internalZones.flatMap((zone) => [zone, `*.${zone}`]),
        ...props.egressAllowlist.flatMap((domain) =>
          domain.startsWith('.') ? [domain.slice(1), `*${domain}`] : [domain],
        ),
      ]),
    ];
    const allowed = new r53r.CfnFirewallDomainList(this, 'Allowed', {
      name: `${name}-allowed`,
      domains: this.allowedDomains,
    });
    const everything = new r53r.CfnFirewallDomainList(this, 'Everything', {
      name: `${name}-everything`,
      domains: ['*'],
    });

    const block = { action: 'BLOCK', blockResponse: 'NXDOMAIN' };
    this.ruleGroup = new r53r.CfnFirewallRuleGroup(this, 'Rules', {
      name: `${name}-dns`,
      firewallRules: [
        ...props.managedDomainListIds.map((listId, i) => ({
          ...block,
          firewallDomainListId: listId,
          priority: MANAGED_LIST_FIRST_PRIORITY + i,
        })),
        {
          ...block,
          dnsThreatProtection: 'DGA',
          confidenceThreshold: 'HIGH',
          priority: THREAT_PROTECTION_PRIORITY,
        },
        {
          ...block,
          dnsThreatProtection: 'DNS_TUNNELING',
          confidenceThreshold: 'HIGH',
          priority: THREAT_PROTECTION_PRIORITY + 1,
        },
        {
          action: 'ALLOW',
          firewallDomainListId: allowed.attrId,
          priority: ALLOW_PRIORITY,
          // An allowed name's CNAME chain is trusted: package and model hosts answer through CDN
          // names (pypi.org through Fastly), which the final block would otherwise turn into
          // NXDOMAIN. A client still cannot choose the names of the chain, only the allowed name.
          firewallDomainRedirectionAction: 'TRUST_REDIRECTION_DOMAIN',
        },
        { ...block, firewallDomainListId: everything.attrId, priority: BLOCK_EVERYTHING_PRIORITY },
      ],
    });
    new r53r.CfnFirewallRuleGroupAssociation(this, 'Association', {
      name: `${name}-dns`,
      firewallRuleGroupId: this.ruleGroup.attrId,
      vpcId: props.vpc.vpcId,
      priority: ASSOCIATION_PRIORITY,
      mutationProtection: (props.protect ?? true) ? 'ENABLED' : 'DISABLED',
    });

    const queryLogs = new r53r.CfnResolverQueryLoggingConfig(this, 'QueryLogging', {
      name: `${name}-dns-queries`,
      destinationArn: Stack.of(this).formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: props.queryLogGroup.logGroupName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    });
    new r53r.CfnResolverQueryLoggingConfigAssociation(this, 'QueryLoggingAssociation', {
      resolverQueryLogConfigId: queryLogs.attrId,
      resourceId: props.vpc.vpcId,
    });
  }
}
