import type { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf, type Resource } from './template';

/** Where a route sends its traffic, as the template shows it. */
export type RouteTarget =
  | { kind: 'firewall-endpoint'; firewall: string; zone: unknown }
  | { kind: 'nat-gateway'; id: string }
  | { kind: 'internet-gateway'; id: string }
  | { kind: 'other'; properties: Record<string, unknown> };

export interface RouteEntry {
  readonly id: string;
  readonly destination: unknown;
  readonly target: RouteTarget;
}

export interface SubnetRouting {
  readonly subnetId: string;
  readonly tier: string | undefined;
  readonly zone: unknown;
  readonly cidr: unknown;
  readonly routes: RouteEntry[];
}

const tagValue = (resource: Resource, key: string) =>
  (resource.Properties?.Tags as { Key: string; Value: string }[] | undefined)?.find((t) => t.Key === key)
    ?.Value;

/**
 * Every subnet of a template with its tier tag, zone and the routes of its route table, each
 * route's target resolved: a firewall endpoint (with the firewall and the zone whose endpoint the
 * expression selects), a NAT gateway, an internet gateway, or anything else.
 */
export function subnetRouting(template: Template): SubnetRouting[] {
  const resources = resourcesOf(template);
  const tableOf = new Map<string, string>();
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::EC2::SubnetRouteTableAssociation') continue;
    const { SubnetId, RouteTableId } = r.Properties as {
      SubnetId: { Ref: string };
      RouteTableId: { Ref: string };
    };
    tableOf.set(SubnetId.Ref, RouteTableId.Ref);
  }
  const routesOf = new Map<string, RouteEntry[]>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::EC2::Route') continue;
    const props = r.Properties as Record<string, unknown> & { RouteTableId: { Ref: string } };
    const list = routesOf.get(props.RouteTableId.Ref) ?? [];
    list.push({ id, destination: props.DestinationCidrBlock, target: targetOf(props, resources) });
    routesOf.set(props.RouteTableId.Ref, list);
  }
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::EC2::Subnet')
    .map(([subnetId, subnet]) => ({
      subnetId,
      tier: tagValue(subnet, 'ai-segmentation:subnet-tier'),
      zone: subnet.Properties?.AvailabilityZone,
      cidr: subnet.Properties?.CidrBlock,
      routes: routesOf.get(tableOf.get(subnetId) ?? '') ?? [],
    }));
}

function targetOf(props: Record<string, unknown>, resources: Record<string, Resource>): RouteTarget {
  if (props.NatGatewayId) return { kind: 'nat-gateway', id: (props.NatGatewayId as { Ref: string }).Ref };
  if (props.GatewayId) {
    const id = (props.GatewayId as { Ref: string }).Ref;
    if (resources[id]?.Type === 'AWS::EC2::InternetGateway') return { kind: 'internet-gateway', id };
  }
  if (props.VpcEndpointId) {
    const endpoint = firewallEndpoint(props.VpcEndpointId, resources);
    if (endpoint) return { kind: 'firewall-endpoint', ...endpoint };
  }
  return { kind: 'other', properties: props };
}

type Intrinsic = Record<string, unknown[]>;

/**
 * Recognises the two expressions that select a zone's endpoint from a firewall's EndpointIds:
 * the only entry of a one-subnet firewall, or the entry after the literal `zone:` prefix.
 */
function firewallEndpoint(
  expression: unknown,
  resources: Record<string, Resource>,
): { firewall: string; zone: unknown } | undefined {
  const json = JSON.stringify(expression);
  const getAtt = /\{"Fn::GetAtt":\["([^"]+)","EndpointIds"\]\}/.exec(json);
  if (!getAtt) return undefined;
  const firewall = resources[getAtt[1]];
  if (firewall?.Type !== 'AWS::NetworkFirewall::Firewall') return undefined;
  const mappings = firewall.Properties?.SubnetMappings as { SubnetId: { Ref: string } }[];
  const split = /"Fn::Split":\["([^"]+):",\{"Fn::Join"/.exec(json);
  if (split) return { firewall: getAtt[1], zone: split[1] };
  const select = (expression as Intrinsic)['Fn::Select'];
  if (mappings.length === 1 && select?.[0] === 1) {
    return { firewall: getAtt[1], zone: resources[mappings[0].SubnetId.Ref]?.Properties?.AvailabilityZone };
  }
  return undefined;
}
