import { Aws, Fn, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as nfw from 'aws-cdk-lib/aws-networkfirewall';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { IpsCategory, IpsMode, ManagedThreatGroup } from '../config/network-defaults';
import { MAX_ALLOWLIST_DOMAINS } from '../config/network-defaults';
import { allowlistAlertRules } from '../firewall/allowlist-alerts';
import { segmentRules, type RuleVariable } from '../firewall/ips-rules';
import { acknowledge } from '../gate/acknowledge';

/** Capacity of the IDS/IPS rule group; fixed at creation, so sized well above the rule files. */
export const IPS_RULE_GROUP_CAPACITY = 100;
/** Capacity of the allowlist rule group: two generated rules (TLS SNI, HTTP host) per domain. */
export const ALLOWLIST_RULE_GROUP_CAPACITY = 2 * MAX_ALLOWLIST_DOMAINS + 10;

/** Rule-group priorities in the strict-order policy: IPS first, AWS threat groups, then the allowlist. */
export const IPS_PRIORITY = 100;
export const MANAGED_GROUP_FIRST_PRIORITY = 200;
/** Just before the allowlist: its alerts must see the flows the allowlist then passes. */
export const ALLOWLIST_ALERTS_PRIORITY = 900;
export const ALLOWLIST_PRIORITY = 1000;

export interface SegmentFirewallProps {
  /** Prefix of the firewall's resource names (the blueprint's name prefix). */
  readonly namePrefix: string;
  readonly segmentName: string;
  readonly vpc: ec2.IVpc;
  readonly vpcCidr: string;
  /** One firewall subnet per availability zone. */
  readonly subnets: readonly ec2.ISubnet[];
  /** Domains the segment may reach (TLS SNI, HTTP host); empty: nothing leaves. */
  readonly egressAllowlist: readonly string[];
  readonly ips: Readonly<Record<IpsCategory, IpsMode>>;
  readonly managedThreatGroups: readonly ManagedThreatGroup[];
  readonly otherSegmentCidrs: readonly string[];
  readonly corporateCidrs: readonly string[];
  /** Encrypted, retained log group for alert logs. */
  readonly alertLogGroup: logs.ILogGroup;
  /** The audit bucket, which receives the firewall's flow logs. */
  readonly flowLogBucket: s3.IBucket;
  readonly flowLogPrefix: string;
  /**
   * Deletion, subnet-change and policy-change protection; off only while a first deploy may need
   * to roll back.
   * @default true
   */
  readonly protect?: boolean;
}

/**
 * AWS Network Firewall for one segment: a strict-order stateful policy whose default action drops
 * and alerts, the segment's IDS/IPS rules (rules/suricata/), the AWS managed threat groups the
 * config names and, where the segment may reach the internet, a domain allowlist read from the
 * TLS server name and HTTP host. Alert logs go to CloudWatch Logs, flow logs to the audit bucket;
 * deletion, subnet changes and policy changes are protected.
 *
 * A segment without internet egress has one endpoint, in its first zone, for every zone: the
 * firewall is a tripwire there. With egress, routes need each zone's endpoint id, which Network
 * Firewall reports as an unordered list of `zone:endpoint` strings. With literal zone names one
 * firewall spans every zone and each id is cut out of that list by its zone name; with zones
 * resolved at deploy time (Fn::GetAZs) a string cannot be split on them, so each zone gets a
 * firewall of its own sharing one policy. (A VpcEndpointAssociation, whose id is a scalar, can
 * only add a second endpoint in a zone the firewall already covers, so it does not help.)
 */
export class SegmentFirewall extends Construct {
  readonly policy: nfw.CfnFirewallPolicy;
  readonly ipsRuleGroup?: nfw.CfnRuleGroup;
  readonly allowlistRuleGroup?: nfw.CfnRuleGroup;
  /** With an allowlist: the alerts on every flow it passes. */
  readonly allowlistAlertsRuleGroup?: nfw.CfnRuleGroup;
  readonly firewalls: nfw.CfnFirewall[] = [];
  private readonly endpoints = new Map<string, string>();

  constructor(scope: Construct, id: string, props: SegmentFirewallProps) {
    super(scope, id);
    const name = `${props.namePrefix}-${props.segmentName}`;

    const ipSets: Partial<Record<RuleVariable, readonly string[]>> = {
      HOME_NET: [props.vpcCidr],
      ...(props.otherSegmentCidrs.length > 0 && { OTHER_SEGMENTS: props.otherSegmentCidrs }),
      ...(props.corporateCidrs.length > 0 && { CORPORATE_NET: props.corporateCidrs }),
    };
    const ruleVariables = {
      ipSets: Object.fromEntries(
        Object.entries(ipSets).map(([variable, definition]) => [variable, { definition: [...definition] }]),
      ),
    };
    const rules = segmentRules(props.ips, new Set(Object.keys(ipSets) as RuleVariable[]));
    if (rules.length > IPS_RULE_GROUP_CAPACITY) {
      throw new Error(
        `${rules.length} IPS rules exceed the rule group's capacity of ${IPS_RULE_GROUP_CAPACITY}`,
      );
    }
    const references: nfw.CfnFirewallPolicy.StatefulRuleGroupReferenceProperty[] = [];
    // A rule group needs at least one rule: with every category off there is none.
    if (rules.length > 0) {
      this.ipsRuleGroup = new nfw.CfnRuleGroup(this, 'IpsRules', {
        ruleGroupName: `${name}-ips`,
        type: 'STATEFUL',
        capacity: IPS_RULE_GROUP_CAPACITY,
        description: `IDS/IPS rules of segment ${props.segmentName} (rules/suricata/)`,
        ruleGroup: {
          ruleVariables,
          rulesSource: { rulesString: rules.join('\n') },
          statefulRuleOptions: { ruleOrder: 'STRICT_ORDER' },
        },
      });
      references.push({ resourceArn: this.ipsRuleGroup.attrRuleGroupArn, priority: IPS_PRIORITY });
    }
    props.managedThreatGroups.forEach((group, i) =>
      references.push({
        resourceArn: `arn:${Aws.PARTITION}:network-firewall:${Aws.REGION}:aws-managed:stateful-rulegroup/${group}StrictOrder`,
        priority: MANAGED_GROUP_FIRST_PRIORITY + 10 * i,
      }),
    );
    const internet = props.egressAllowlist.length > 0;
    if (internet) {
      // A flow the allowlist passes raises no alert: these rules raise one for each.
      this.allowlistAlertsRuleGroup = new nfw.CfnRuleGroup(this, 'AllowlistAlerts', {
        ruleGroupName: `${name}-allowlist-alerts`,
        type: 'STATEFUL',
        capacity: ALLOWLIST_RULE_GROUP_CAPACITY,
        description: `Alerts on every flow the allowlist of segment ${props.segmentName} passes`,
        ruleGroup: {
          ruleVariables,
          rulesSource: { rulesString: allowlistAlertRules(props.egressAllowlist).join('\n') },
          statefulRuleOptions: { ruleOrder: 'STRICT_ORDER' },
        },
      });
      references.push({
        resourceArn: this.allowlistAlertsRuleGroup.attrRuleGroupArn,
        priority: ALLOWLIST_ALERTS_PRIORITY,
      });
      this.allowlistRuleGroup = new nfw.CfnRuleGroup(this, 'Allowlist', {
        ruleGroupName: `${name}-allowlist`,
        type: 'STATEFUL',
        capacity: ALLOWLIST_RULE_GROUP_CAPACITY,
        description: `Internet domains segment ${props.segmentName} may reach`,
        ruleGroup: {
          ruleVariables,
          rulesSource: {
            rulesSourceList: {
              generatedRulesType: 'ALLOWLIST',
              targetTypes: ['TLS_SNI', 'HTTP_HOST'],
              targets: [...props.egressAllowlist],
            },
          },
          statefulRuleOptions: { ruleOrder: 'STRICT_ORDER' },
        },
      });
      references.push({
        resourceArn: this.allowlistRuleGroup.attrRuleGroupArn,
        priority: ALLOWLIST_PRIORITY,
      });
    }

    this.policy = new nfw.CfnFirewallPolicy(this, 'Policy', {
      firewallPolicyName: `${name}-policy`,
      description: `Segment ${props.segmentName}: ${internet ? 'allowlisted egress only' : 'no egress'}; drop and alert by default`,
      firewallPolicy: {
        // Every packet goes to the stateful engine, fragments included.
        statelessDefaultActions: ['aws:forward_to_sfe'],
        statelessFragmentDefaultActions: ['aws:forward_to_sfe'],
        // An allowlist reads the server name after the TCP handshake, so only established flows
        // are dropped there; without one, nothing passes, not even a handshake.
        statefulDefaultActions: internet
          ? ['aws:drop_established', 'aws:alert_established']
          : ['aws:drop_strict', 'aws:alert_strict'],
        statefulEngineOptions: { ruleOrder: 'STRICT_ORDER', streamExceptionPolicy: 'DROP' },
        statefulRuleGroupReferences: references,
      },
    });

    // Without egress the firewall is a tripwire: nothing it passes has anywhere to go, so one
    // endpoint, in the first zone, serves every zone (a firewall and ~290 USD a month less per
    // extra zone). If that zone fails, the other zones' packets to the internet are lost
    // unlogged instead of dropped and alerted on; they could not have left either way.
    const literalZones = props.subnets.every((s) => !Token.isUnresolved(s.availabilityZone));
    const groups = !internet
      ? [props.subnets.slice(0, 1)]
      : literalZones
        ? [props.subnets]
        : props.subnets.map((s) => [s]);
    groups.forEach((subnets, i) => {
      const firewall = new nfw.CfnFirewall(this, groups.length === 1 ? 'Firewall' : `Firewall${i + 1}`, {
        firewallName: groups.length === 1 ? name : `${name}-${i + 1}`,
        description: `Network Firewall of segment ${props.segmentName}`,
        firewallPolicyArn: this.policy.attrFirewallPolicyArn,
        vpcId: props.vpc.vpcId,
        subnetMappings: subnets.map((s) => ({ subnetId: s.subnetId })),
        deleteProtection: props.protect ?? true,
        subnetChangeProtection: props.protect ?? true,
        firewallPolicyChangeProtection: props.protect ?? true,
      });
      this.firewalls.push(firewall);
      this.logTo(firewall, props);
      for (const subnet of subnets) {
        this.endpoints.set(subnet.subnetId, endpointIdIn(firewall, subnet, subnets.length));
      }
      if (subnets.length === 1) {
        acknowledge(firewall, {
          pack: 'cdk-validator-cfnguard',
          rule: 'netfw_multi_az_enabled_check',
          reason:
            props.subnets.length === 1
              ? 'The segment was configured with one availability zone (azCount 1) to save cost; its workloads live in that zone only, so a firewall in another zone would protect nothing.'
              : !internet
                ? 'The segment has no internet path: its firewall is a tripwire that drops and alerts, and one endpoint serves every zone. An outage of that zone loses alerts, never opens a path.'
                : 'One firewall per zone, sharing one policy, because the zones resolve at deploy time and each route must name its own zone endpoint; together the firewalls span every zone of the segment.',
        });
      }
    });
    // Every zone of a tripwire segment routes to the one endpoint.
    const single = groups.length === 1 && groups[0].length === 1 ? groups[0][0] : undefined;
    if (single) {
      for (const subnet of props.subnets)
        this.endpoints.set(subnet.subnetId, this.endpoints.get(single.subnetId)!);
    }
  }

  /** The id of the firewall endpoint in a firewall subnet's zone, for use as a route target. */
  endpointId(firewallSubnet: ec2.ISubnet): string {
    const id = this.endpoints.get(firewallSubnet.subnetId);
    if (!id) throw new Error(`no firewall endpoint in subnet ${firewallSubnet.node.path}`);
    return id;
  }

  private logTo(firewall: nfw.CfnFirewall, props: SegmentFirewallProps): void {
    new nfw.CfnLoggingConfiguration(this, `${firewall.node.id}Logging`, {
      firewallArn: firewall.attrFirewallArn,
      loggingConfiguration: {
        logDestinationConfigs: [
          {
            logType: 'ALERT',
            logDestinationType: 'CloudWatchLogs',
            logDestination: { logGroup: props.alertLogGroup.logGroupName },
          },
          {
            logType: 'FLOW',
            logDestinationType: 'S3',
            logDestination: { bucketName: props.flowLogBucket.bucketName, prefix: props.flowLogPrefix },
          },
        ],
      },
    });
  }
}

/**
 * `attrEndpointIds` holds `zone:vpce-id` strings in no fixed order. A firewall with one subnet has
 * one entry; otherwise the entry is found by splitting on the literal `zone:` prefix.
 */
function endpointIdIn(firewall: nfw.CfnFirewall, subnet: ec2.ISubnet, subnetCount: number): string {
  if (subnetCount === 1) return Fn.select(1, Fn.split(':', Fn.select(0, firewall.attrEndpointIds)));
  const after = Fn.select(1, Fn.split(`${subnet.availabilityZone}:`, Fn.join(',', firewall.attrEndpointIds)));
  return Fn.select(0, Fn.split(',', after));
}
