import * as ipaddr from 'ipaddr.js';
import type { Assembly, StackTemplate } from './assembly';
import type { SegmentationMetadata } from '../../contract/metadata';
import {
  INTERNET_EGRESS,
  INTERNET_EGRESS_TAG,
  SEGMENT_KIND_TAG,
  SEGMENT_TAG,
  SUBNET_TIER_TAG,
} from '../../contract/tags';
import { firewallViolations } from './firewall';
import type { ReportContext } from './summary';
import type { Evidence, Violation } from './invariants';
import { allResources, ofType, tagsOf, type LocatedResource, type Resolver } from './resolve';

type Target =
  | { kind: 'igw' | 'nat' | 'pcx' | 'tgw' | 'vgw' | 'eigw' | 'vpce' | 'other'; id: string }
  | { kind: 'fwe'; id: string; firewall: string; zone: string };

interface Route {
  readonly key: string;
  readonly destination: string;
  readonly target: Target;
}

interface Subnet {
  readonly key: string;
  readonly stack: string;
  readonly id: string;
  readonly vpc: string;
  readonly zone: string;
  readonly cidr: string;
  readonly tier?: string;
  readonly mapPublicIp: boolean;
  routes: Route[];
}

interface Vpc {
  readonly key: string;
  readonly stack: string;
  readonly id: string;
  readonly cidr: string;
  /** The segment's name; a VPC without the tag is a segment of its own. */
  readonly segment: string;
  readonly kind?: string;
  readonly egress?: string;
  readonly tagged: boolean;
}

export type PathState = 'none' | 'via-firewall' | 'direct' | 'unresolved';

export interface Reachability {
  readonly segments: string[];
  /** matrix[from][to]: segment names, plus `internet` (outbound), `corporate`. */
  readonly matrix: Record<string, Record<string, PathState>>;
  /** Segments an inbound path from the internet reaches. */
  readonly inbound: Record<string, PathState>;
  /**
   * For each path that exists: the ports it may carry, as the VPC's security groups allow them
   * outbound towards the destination (an upper bound over all of them), e.g. `tcp/443`, or `all`.
   */
  readonly ports: Record<string, Record<string, string>>;
}

export interface NetworkModel {
  readonly vpcs: Vpc[];
  readonly subnets: Subnet[];
  readonly firewalls: { key: string; stack: string; id: string; vpc: string; subnets: string[] }[];
  readonly endpoints: { key: string; vpc: string; service: string; type: string }[];
}

export interface NetworkResult {
  readonly model: NetworkModel;
  readonly reachability: Reachability;
  readonly violations: Violation[];
  readonly evidence: Evidence[];
}

const keyOf = (stack: StackTemplate, id: string) => `${stack.id}/${id}`;
const refKey = (value: unknown) =>
  typeof value === 'string' ? value.replace(/^(?:ref|att)\|/, '').split('|')[0] : '';

function parseCidr(cidr: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    return ipaddr.parseCIDR(cidr);
  } catch {
    return undefined;
  }
}

function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y || x[0].kind() !== y[0].kind()) return false;
  return x[0].match(y) || y[0].match(x);
}

/** Whether `inner` lies inside `outer`. */
function within(inner: string, outer: string): boolean {
  const x = parseCidr(inner);
  const y = parseCidr(outer);
  return !!x && !!y && x[0].kind() === y[0].kind() && x[1] >= y[1] && x[0].match(y);
}

type Resources = readonly LocatedResource[];

/** Subnet -> the route table or network ACL an association resource gives it. */
function subnetAssociations(
  resources: Resources,
  r: Resolver,
  type: string,
  property: string,
): Map<string, string> {
  return new Map(
    ofType(resources, type).map(({ stack, resource }) => [
      refKey(r.resolve(resource.Properties?.SubnetId, stack)),
      refKey(r.resolve(resource.Properties?.[property], stack)),
    ]),
  );
}

export function buildModel(resources: Resources, r: Resolver): NetworkModel & { violations: Violation[] } {
  const violations: Violation[] = [];
  const vpcs: Vpc[] = ofType(resources, 'AWS::EC2::VPC').map(({ stack, id, resource }) => {
    const tags = tagsOf(resource);
    const segment = tags[SEGMENT_TAG];
    return {
      key: keyOf(stack, id),
      stack: stack.id,
      id,
      cidr: String(r.resolve(resource.Properties?.CidrBlock, stack)),
      segment: segment ?? `vpc:${stack.id}/${id}`,
      kind: tags[SEGMENT_KIND_TAG],
      egress: tags[INTERNET_EGRESS_TAG],
      tagged: segment !== undefined,
    };
  });

  const subnets: Subnet[] = ofType(resources, 'AWS::EC2::Subnet').map(({ stack, id, resource }) => ({
    key: keyOf(stack, id),
    stack: stack.id,
    id,
    vpc: refKey(r.resolve(resource.Properties?.VpcId, stack)),
    zone: String(r.resolve(resource.Properties?.AvailabilityZone, stack)),
    cidr: String(r.resolve(resource.Properties?.CidrBlock, stack)),
    tier: tagsOf(resource)[SUBNET_TIER_TAG],
    mapPublicIp: r.resolve(resource.Properties?.MapPublicIpOnLaunch, stack) === true,
    routes: [],
  }));

  const tableOf = subnetAssociations(resources, r, 'AWS::EC2::SubnetRouteTableAssociation', 'RouteTableId');
  const routesOf = new Map<string, Route[]>();
  for (const { stack, id, resource } of ofType(resources, 'AWS::EC2::Route')) {
    const p = resource.Properties ?? {};
    const table = refKey(r.resolve(p.RouteTableId, stack));
    const destination = String(
      r.resolve(p.DestinationCidrBlock ?? p.DestinationIpv6CidrBlock ?? p.DestinationPrefixListId, stack),
    );
    const target = routeTarget(p, stack, r);
    if (target.kind === 'other' && target.id.startsWith('unresolved|')) {
      violations.push({
        invariant: 3,
        stack: stack.id,
        logicalId: id,
        detail: `route target cannot be resolved: ${target.id}`,
      });
    }
    routesOf.set(table, [...(routesOf.get(table) ?? []), { key: keyOf(stack, id), destination, target }]);
  }
  for (const subnet of subnets) subnet.routes = routesOf.get(tableOf.get(subnet.key) ?? '') ?? [];

  const firewalls = ofType(resources, 'AWS::NetworkFirewall::Firewall').map(({ stack, id, resource }) => ({
    key: keyOf(stack, id),
    stack: stack.id,
    id,
    vpc: refKey(r.resolve(resource.Properties?.VpcId, stack)),
    subnets: ((resource.Properties?.SubnetMappings ?? []) as { SubnetId: unknown }[]).map((m) =>
      refKey(r.resolve(m.SubnetId, stack)),
    ),
  }));
  const endpoints = ofType(resources, 'AWS::EC2::VPCEndpoint').map(({ stack, id, resource }) => ({
    key: keyOf(stack, id),
    vpc: refKey(r.resolve(resource.Properties?.VpcId, stack)),
    // com.amazonaws.<region>.s3 → s3, the region symbolic or known.
    service: String(r.resolve(resource.Properties?.ServiceName, stack)).replace(
      /^.*amazonaws\.(\$\{AWS::Region\}|[a-z]{2}(-[a-z]+)+-\d+)\./,
      '',
    ),
    type: JSON.stringify(resource.Properties?.VpcEndpointType ?? 'Gateway').replace(/"/g, ''),
  }));
  return { vpcs, subnets, firewalls, endpoints, violations };
}

function routeTarget(p: Record<string, unknown>, stack: StackTemplate, r: Resolver): Target {
  const resolved = (v: unknown) => String(r.resolve(v, stack));
  const unresolved = [
    'NatGatewayId',
    'VpcPeeringConnectionId',
    'TransitGatewayId',
    'EgressOnlyInternetGatewayId',
    'GatewayId',
    'VpcEndpointId',
  ]
    .filter((k) => p[k] !== undefined)
    .map((k) => resolved(p[k]))
    .find((v) => v.startsWith('unresolved|'));
  if (unresolved) return { kind: 'other', id: unresolved };
  if (p.NatGatewayId) return { kind: 'nat', id: refKey(resolved(p.NatGatewayId)) };
  if (p.VpcPeeringConnectionId) return { kind: 'pcx', id: refKey(resolved(p.VpcPeeringConnectionId)) };
  if (p.TransitGatewayId) return { kind: 'tgw', id: refKey(resolved(p.TransitGatewayId)) };
  if (p.EgressOnlyInternetGatewayId)
    return { kind: 'eigw', id: refKey(resolved(p.EgressOnlyInternetGatewayId)) };
  if (p.GatewayId) {
    const gateway = r.target(r.resolve(p.GatewayId, stack));
    if (gateway?.resource.Type === 'AWS::EC2::InternetGateway')
      return { kind: 'igw', id: keyOf(gateway.stack, gateway.id) };
    if (gateway?.resource.Type === 'AWS::EC2::VPNGateway')
      return { kind: 'vgw', id: keyOf(gateway.stack, gateway.id) };
    return { kind: 'other', id: resolved(p.GatewayId) };
  }
  if (p.VpcEndpointId) {
    const id = resolved(p.VpcEndpointId);
    const fwe = /^fwe\|([^|]+)\|(.+)$/.exec(id);
    if (fwe) return { kind: 'fwe', id, firewall: fwe[1], zone: fwe[2] };
    return { kind: 'vpce', id: refKey(id) };
  }
  return { kind: 'other', id: JSON.stringify(r.resolve(p, stack)) };
}

/** Longest-prefix match of a destination among a subnet's routes (the local route is implicit). */
function routeFor(subnet: Subnet, destination: string): Route | undefined {
  return subnet.routes
    .filter((route) => within(destination, route.destination))
    .sort((a, b) => (parseCidr(b.destination)?.[1] ?? 0) - (parseCidr(a.destination)?.[1] ?? 0))[0];
}

/**
 * Follows the routes from a subnet towards a destination outside its VPC, through firewall
 * endpoints and NAT gateways, and says where it ends: the internet (directly or having passed a
 * firewall), a peering, transit or VPN gateway, or nowhere.
 */
function follow(
  model: NetworkModel,
  natSubnet: Map<string, string>,
  start: Subnet,
  destination: string,
): { end: Target['kind'] | 'none'; viaFirewall: boolean; hops: string[] } {
  let subnet: Subnet | undefined = start;
  let viaFirewall = false;
  const hops: string[] = [];
  for (let step = 0; subnet && step < 8; step++) {
    const route = routeFor(subnet, destination);
    if (!route) return { end: 'none', viaFirewall, hops };
    hops.push(route.key);
    const { target } = route;
    if (target.kind === 'fwe') {
      viaFirewall = true;
      const firewall = model.firewalls.find((f) => f.key === target.firewall);
      const zone: string = target.zone;
      subnet = model.subnets.find((s) => firewall?.subnets.includes(s.key) && s.zone === zone);
      continue;
    }
    if (target.kind === 'nat') {
      subnet = model.subnets.find((s) => s.key === natSubnet.get(target.id));
      continue;
    }
    return { end: target.kind, viaFirewall, hops };
  }
  return { end: 'none', viaFirewall, hops };
}

export function analyzeNetwork(
  assembly: Assembly,
  r: Resolver,
  metadata: SegmentationMetadata,
  ips?: ReportContext['ips'],
): NetworkResult {
  const resources = allResources(assembly);
  const { violations, ...model } = buildModel(resources, r);
  const evidence: Evidence[] = [];
  const vpcOf = (key: string) => model.vpcs.find((v) => v.key === key);
  const natSubnet = new Map(
    ofType(resources, 'AWS::EC2::NatGateway').map(({ stack, id, resource }) => [
      keyOf(stack, id),
      refKey(r.resolve(resource.Properties?.SubnetId, stack)),
    ]),
  );
  const segments = [...new Set(model.vpcs.map((v) => v.segment))].sort();
  const matrix: Record<string, Record<string, PathState>> = Object.fromEntries(
    segments.map((s) => [
      s,
      Object.fromEntries([...segments, 'internet', 'corporate'].map((t) => [t, 'none'])),
    ]),
  );
  const inbound: Record<string, PathState> = Object.fromEntries(segments.map((s) => [s, 'none']));
  const declared = (from: string, to: string) =>
    (metadata.declaredFlows ?? []).some((f) => f.from === from && f.to === to);
  const corporate = metadata.corporateCidrs ?? [];
  const mark = (from: string, to: string, state: PathState) => {
    const current = matrix[from]?.[to];
    if (!current || current === 'direct') return;
    if (state === 'direct' || current === 'none' || state === 'unresolved') matrix[from][to] = state;
  };

  // Invariant 3 and the internet column: every subnet that is not the firewall or NAT tier.
  for (const subnet of model.subnets) {
    const vpc = vpcOf(subnet.vpc);
    if (!vpc) continue;
    if (subnet.tier === 'firewall' || subnet.tier === 'public') continue;
    const out = follow(model, natSubnet, subnet, '0.0.0.0/0');
    if (out.end === 'igw' || out.end === 'eigw') {
      const state: PathState = out.viaFirewall ? 'via-firewall' : 'direct';
      mark(vpc.segment, 'internet', state);
      const [first] = out.hops;
      const [stack, logicalId] = splitKey(first ?? subnet.key);
      if (!out.viaFirewall) {
        violations.push({
          invariant: 3,
          stack,
          logicalId,
          detail: `${subnet.tier ?? 'untagged'} subnet ${subnet.key} reaches the internet without passing a firewall endpoint (${out.hops.join(' -> ')})`,
        });
      } else if (vpc.egress !== INTERNET_EGRESS.allowlist) {
        violations.push({
          invariant: 3,
          stack,
          logicalId,
          detail: `segment ${vpc.segment} (${vpc.kind ?? 'no kind'}) has an internet path, through its firewall, but declares no egress allowlist`,
        });
      }
    }
    // Invariant 1: other VPCs and the corporate network through peering, transit or VPN gateways.
    for (const route of subnet.routes) {
      const kind = route.target.kind;
      if (kind !== 'pcx' && kind !== 'tgw' && kind !== 'vgw') continue;
      const other = model.vpcs.find((v) => v !== vpc && overlaps(v.cidr, route.destination));
      const to = other ? other.segment : 'corporate';
      if (other && declared(vpc.segment, other.segment)) continue;
      mark(vpc.segment, to, 'direct');
      const [stack, logicalId] = splitKey(route.key);
      violations.push({
        invariant: 1,
        stack,
        logicalId,
        detail: `subnet ${subnet.key} of segment ${vpc.segment} routes ${route.destination} through a ${kind} to ${to}`,
      });
    }
  }

  // Connections that open a path between VPCs whether or not a route uses them yet.
  for (const { stack, id, resource } of resources) {
    const p = resource.Properties ?? {};
    if (resource.Type === 'AWS::EC2::VPCPeeringConnection') {
      const a = vpcOf(refKey(r.resolve(p.VpcId, stack)));
      const b = vpcOf(refKey(r.resolve(p.PeerVpcId, stack)));
      if (a && b && a.segment !== b.segment && !declared(a.segment, b.segment)) {
        mark(a.segment, b.segment, 'direct');
        mark(b.segment, a.segment, 'direct');
        violations.push({
          invariant: 1,
          stack: stack.id,
          logicalId: id,
          detail: `peering connects segments ${a.segment} and ${b.segment}`,
        });
      } else if (!a || !b) {
        violations.push({
          invariant: 1,
          stack: stack.id,
          logicalId: id,
          detail: 'peering connects a segment to a VPC outside the assembly',
        });
      }
    }
    if (
      resource.Type === 'AWS::EC2::TransitGatewayAttachment' ||
      resource.Type === 'AWS::EC2::TransitGatewayVpcAttachment'
    ) {
      const vpc = vpcOf(refKey(r.resolve(p.VpcId, stack)));
      if (vpc) mark(vpc.segment, 'corporate', 'direct');
      violations.push({
        invariant: 1,
        stack: stack.id,
        logicalId: id,
        detail: `transit gateway attachment of ${vpc?.segment ?? 'a VPC'}: a path to every network the gateway joins`,
      });
    }
    if (resource.Type === 'AWS::EC2::VPCGatewayAttachment' && p.VpnGatewayId) {
      const vpc = vpcOf(refKey(r.resolve(p.VpcId, stack)));
      if (vpc) mark(vpc.segment, 'corporate', 'direct');
      violations.push({
        invariant: 1,
        stack: stack.id,
        logicalId: id,
        detail: `VPN gateway attached to ${vpc?.segment ?? 'a VPC'}: a path to the corporate network`,
      });
    }
    if (resource.Type === 'AWS::EC2::EIP' && (p.InstanceId || p.NetworkInterfaceId)) {
      violations.push({
        invariant: 2,
        stack: stack.id,
        logicalId: id,
        detail: 'an Elastic IP on an instance or interface makes it reachable from the internet',
      });
    }
    if (resource.Type === 'AWS::EC2::SecurityGroup' || resource.Type === 'AWS::EC2::SecurityGroupIngress') {
      const rules =
        resource.Type === 'AWS::EC2::SecurityGroup'
          ? ((p.SecurityGroupIngress ?? []) as Record<string, unknown>[])
          : [p];
      for (const rule of rules) {
        const cidr = r.resolve(rule.CidrIp ?? rule.CidrIpv6, stack);
        if (cidr === '0.0.0.0/0' || cidr === '::/0') {
          violations.push({
            invariant: 2,
            stack: stack.id,
            logicalId: id,
            detail: `security group admits ${String(cidr)} on ${String(rule.IpProtocol)} ${JSON.stringify(rule.FromPort ?? '')}-${JSON.stringify(rule.ToPort ?? '')}`,
          });
        }
      }
    }
  }

  // Invariant 2: subnets with a route to an internet gateway that put public addresses on launch.
  for (const subnet of model.subnets) {
    const vpc = vpcOf(subnet.vpc);
    const toIgw = subnet.routes.some((route) => route.target.kind === 'igw');
    // Public IPs are a violation with or without a gateway today: one route makes them reachable.
    if (vpc && subnet.mapPublicIp) {
      if (toIgw) inbound[vpc.segment] = 'direct';
      violations.push({
        invariant: 2,
        stack: subnet.stack,
        logicalId: subnet.id,
        detail: toIgw
          ? `subnet routes to an internet gateway and assigns public IPs on launch`
          : `subnet assigns public IPs on launch (reachable as soon as a route to an internet gateway is added)`,
      });
    }
    if (vpc && toIgw && subnet.tier !== 'public') {
      const route = subnet.routes.find((x) => x.target.kind === 'igw')!;
      const [stack, logicalId] = splitKey(route.key);
      inbound[vpc.segment] = 'direct';
      violations.push({
        invariant: 2,
        stack,
        logicalId,
        detail: `${subnet.tier ?? 'untagged'} subnet ${subnet.key} routes to an internet gateway: it is a public subnet`,
      });
    }
  }

  // Invariant 1, second wall: the network ACL of every workload subnet denies the other segments and the corporate ranges.
  violations.push(...aclViolations(resources, r, model, corporate));

  // Invariant 4: flow logs on every VPC, alert and flow logs on every firewall, DNS query logs.
  violations.push(...loggingViolations(resources, r, model, evidence));

  // Invariant 3: the firewalls drop what no rule allows, and no rule of the segment's own passes.
  violations.push(...firewallViolations(r, model, evidence, ips));

  for (const v of model.vpcs)
    evidence.push({ invariant: 1, stack: v.stack, logicalId: v.id, type: 'AWS::EC2::VPC' });
  for (const f of model.firewalls)
    evidence.push({ invariant: 3, stack: f.stack, logicalId: f.id, type: 'AWS::NetworkFirewall::Firewall' });
  // Network ACLs are the second wall against other segments (1) and hold inbound to return traffic (2).
  for (const { stack, id, resource } of ofType(resources, 'AWS::EC2::NetworkAcl')) {
    evidence.push({ invariant: 1, stack: stack.id, logicalId: id, type: resource.Type });
    evidence.push({ invariant: 2, stack: stack.id, logicalId: id, type: resource.Type });
  }
  const ports: Record<string, Record<string, string>> = {};
  for (const vpc of model.vpcs) {
    for (const [to, state] of Object.entries(matrix[vpc.segment] ?? {})) {
      if (state === 'none') continue;
      const destinations =
        to === 'internet'
          ? ['0.0.0.0/0']
          : to === 'corporate'
            ? corporate
            : model.vpcs.filter((v) => v.segment === to).map((v) => v.cidr);
      (ports[vpc.segment] ??= {})[to] = egressPorts(resources, r, vpc.key, destinations);
    }
  }
  return { model, reachability: { segments, matrix, inbound, ports }, violations, evidence };
}

/** The ports a VPC's security groups allow outbound to any of the destinations. */
function egressPorts(
  resources: Resources,
  r: Resolver,
  vpcKey: string,
  destinations: readonly string[],
): string {
  const groups = ofType(resources, 'AWS::EC2::SecurityGroup').filter(
    (x) => refKey(r.resolve(x.resource.Properties?.VpcId, x.stack)) === vpcKey,
  );
  const keys = new Set(groups.map((g) => keyOf(g.stack, g.id)));
  const rules = groups.flatMap((g) => {
    const egress = g.resource.Properties?.SecurityGroupEgress;
    // CloudFormation's default for a group without egress rules: everything out.
    return egress === undefined
      ? [{ IpProtocol: '-1', CidrIp: '0.0.0.0/0' }]
      : (r.resolve(egress, g.stack) as Record<string, unknown>[]);
  });
  for (const x of resources.filter((y) => y.resource.Type === 'AWS::EC2::SecurityGroupEgress')) {
    const group = refKey(r.resolve(x.resource.Properties?.GroupId, x.stack));
    if (keys.has(group)) rules.push(r.resolve(x.resource.Properties, x.stack) as Record<string, unknown>);
  }
  const allowed = new Set<string>();
  for (const rule of rules) {
    const cidr = typeof rule.CidrIp === 'string' ? rule.CidrIp : undefined;
    // The limited broadcast address is never routed (aws-cdk-lib writes it as a no-egress placeholder).
    if (!cidr || cidr === '255.255.255.255/32' || !destinations.some((d) => overlaps(cidr, d))) continue;
    const protocol = String(rule.IpProtocol);
    if (protocol === '-1') return 'all';
    const from = Number(rule.FromPort);
    const to = Number(rule.ToPort);
    allowed.add(`${protocol}/${from === to ? from : `${from}-${to}`}`);
  }
  return allowed.size > 0 ? [...allowed].sort().join(', ') : 'none allowed by security groups';
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

function aclViolations(
  resources: Resources,
  r: Resolver,
  model: NetworkModel,
  corporate: string[],
): Violation[] {
  const violations: Violation[] = [];
  const aclOf = subnetAssociations(resources, r, 'AWS::EC2::SubnetNetworkAclAssociation', 'NetworkAclId');
  const entries = ofType(resources, 'AWS::EC2::NetworkAclEntry').map(({ stack, id, resource }) => {
    const p = resource.Properties ?? {};
    return {
      stack: stack.id,
      id,
      acl: refKey(r.resolve(p.NetworkAclId, stack)),
      egress: r.resolve(p.Egress, stack) === true,
      allow: String(r.resolve(p.RuleAction, stack)) === 'allow',
      number: Number(r.resolve(p.RuleNumber, stack)),
      cidr: String(r.resolve(p.CidrBlock ?? p.Ipv6CidrBlock, stack)),
      protocol: Number(r.resolve(p.Protocol, stack)),
      from: Number((r.resolve(p.PortRange, stack) as { From?: number } | undefined)?.From ?? 0),
      to: Number((r.resolve(p.PortRange, stack) as { To?: number } | undefined)?.To ?? 65535),
    };
  });
  for (const subnet of model.subnets.filter((s) => s.tier === 'workload')) {
    const vpc = model.vpcs.find((v) => v.key === subnet.vpc);
    if (!vpc) continue;
    const acl = aclOf.get(subnet.key);
    if (!acl) {
      violations.push({
        invariant: 1,
        stack: subnet.stack,
        logicalId: subnet.id,
        detail: 'workload subnet has no network ACL of its own: the default ACL admits everything',
      });
      continue;
    }
    const mine = entries.filter((e) => e.acl === acl).sort((a, b) => a.number - b.number);
    const isolated = [
      ...model.vpcs.filter((v) => v.segment !== vpc.segment).map((v) => v.cidr),
      ...corporate,
    ];
    for (const egress of [false, true]) {
      const direction = mine.filter((e) => e.egress === egress);
      for (const range of isolated) {
        // The first entry that covers the range decides; it must deny.
        const first = direction.find(
          (e) => overlaps(e.cidr, range) && (within(range, e.cidr) || e.cidr === range),
        );
        if (!first || first.allow) {
          violations.push({
            invariant: 1,
            stack: first?.stack ?? subnet.stack,
            logicalId: first?.id ?? subnet.id,
            detail: `network ACL of ${subnet.key} ${first ? 'allows' : 'does not deny'} ${range} ${egress ? 'outbound' : 'inbound'}`,
          });
        }
      }
      if (!egress) {
        for (const e of direction.filter((x) => x.allow && x.cidr === '0.0.0.0/0')) {
          const all = e.protocol === -1;
          const lowPorts = (e.protocol === 6 || e.protocol === 17) && e.from < 1024;
          if (all || lowPorts) {
            violations.push({
              invariant: 2,
              stack: e.stack,
              logicalId: e.id,
              detail: `network ACL of ${subnet.key} admits ${all ? 'all traffic' : `ports ${e.from}-${e.to}`} from 0.0.0.0/0`,
            });
          }
        }
      }
    }
  }
  return violations;
}

function loggingViolations(
  resources: Resources,
  r: Resolver,
  model: NetworkModel,
  evidence: Evidence[],
): Violation[] {
  const violations: Violation[] = [];
  const flowLogged = new Set<string>();
  /** VPCs whose flow logs (all traffic) reach an S3 bucket with Object Lock: the design's archive. */
  const archived = new Set<string>();
  const lockedBuckets = ofType(resources, 'AWS::S3::Bucket')
    .filter(({ stack, resource }) => r.resolve(resource.Properties?.ObjectLockEnabled, stack) === true)
    .map(({ stack, id }) => String(r.resolve({ 'Fn::GetAtt': [id, 'Arn'] }, stack)));
  const dnsLogged = new Set<string>();
  const firewallLogs = new Map<string, Set<string>>();
  for (const { stack, id, resource } of resources) {
    const p = resource.Properties ?? {};
    if (resource.Type === 'AWS::EC2::FlowLog' && r.resolve(p.TrafficType, stack) === 'ALL') {
      flowLogged.add(refKey(r.resolve(p.ResourceId, stack)));
      const destination = String(r.resolve(p.LogDestination, stack));
      if (
        r.resolve(p.LogDestinationType, stack) === 's3' &&
        lockedBuckets.some((arn) => destination === arn || destination.startsWith(`${arn}/`))
      ) {
        archived.add(refKey(r.resolve(p.ResourceId, stack)));
      }
      evidence.push({ invariant: 4, stack: stack.id, logicalId: id, type: resource.Type });
    }
    if (resource.Type === 'AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation') {
      dnsLogged.add(refKey(r.resolve(p.ResourceId, stack)));
      evidence.push({ invariant: 4, stack: stack.id, logicalId: id, type: resource.Type });
    }
    if (resource.Type === 'AWS::NetworkFirewall::LoggingConfiguration') {
      const firewall = String(r.resolve(p.FirewallArn, stack))
        .replace(/^att\|/, '')
        .split('|')[0];
      const types = (
        (p.LoggingConfiguration as { LogDestinationConfigs?: { LogType: string }[] } | undefined)
          ?.LogDestinationConfigs ?? []
      ).map((c) => c.LogType);
      firewallLogs.set(firewall, new Set(types));
      evidence.push({ invariant: 4, stack: stack.id, logicalId: id, type: resource.Type });
    }
  }
  for (const vpc of model.vpcs) {
    if (!flowLogged.has(vpc.key)) {
      violations.push({
        invariant: 4,
        stack: vpc.stack,
        logicalId: vpc.id,
        detail: 'VPC has no flow log of all traffic',
      });
    }
    if (flowLogged.has(vpc.key) && !archived.has(vpc.key)) {
      violations.push({
        invariant: 4,
        stack: vpc.stack,
        logicalId: vpc.id,
        detail: 'VPC flow logs do not reach the Object-Lock archive (an S3 bucket with Object Lock)',
      });
    }
    if (!dnsLogged.has(vpc.key)) {
      violations.push({
        invariant: 4,
        stack: vpc.stack,
        logicalId: vpc.id,
        detail: 'VPC has no DNS query logging',
      });
    }
  }
  for (const firewall of model.firewalls) {
    const types = firewallLogs.get(firewall.key) ?? new Set();
    for (const type of ['ALERT', 'FLOW'].filter((t) => !types.has(t))) {
      violations.push({
        invariant: 4,
        stack: firewall.stack,
        logicalId: firewall.id,
        detail: `firewall has no ${type} log`,
      });
    }
  }
  return violations;
}
