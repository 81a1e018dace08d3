import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_SEGMENTS } from '../../lib/config/schema';
import { defaultTemplate, readTemplateJson } from '../support/default-app';
import { subnetRouting, type SubnetRouting } from '../support/routes';
import { ACCEPTED_RISK, DEPLOYABLE } from '../support/fixtures';
import { allowlistedApp } from '../support/allowlisted-app';
import { synthBlueprint } from '../support/synth';

/**
 * Invariant 3 read off the route tables: every route leaving a workload subnet targets a
 * firewall endpoint, of the subnet's own zone where the segment reaches the internet (a segment
 * without egress has one tripwire endpoint for every zone); only firewall subnets route to NAT gateways, only
 * public subnets to the internet gateway, and a public subnet returns traffic for a workload
 * subnet through that same endpoint. Returns what breaks it.
 */
function egressProblems(routing: SubnetRouting[]): string[] {
  const problems: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const workloads = routing.filter((s) => s.tier === 'workload');
  const internet = routing.some((s) => s.tier === 'public');
  for (const subnet of routing) {
    for (const route of subnet.routes) {
      const where = `${subnet.tier} subnet ${subnet.subnetId}, route ${route.id}`;
      const { target } = route;
      if (subnet.tier === 'workload') {
        if (target.kind !== 'firewall-endpoint')
          problems.push(`${where}: bypasses the firewall (${target.kind})`);
        else if (internet && !same(target.zone, subnet.zone))
          problems.push(`${where}: uses another zone's firewall endpoint`);
      } else if (subnet.tier === 'firewall') {
        if (target.kind !== 'nat-gateway') problems.push(`${where}: firewall subnets route only to NAT`);
      } else if (subnet.tier === 'public') {
        if (target.kind === 'internet-gateway') continue;
        const workload = workloads.find((w) => same(w.cidr, route.destination));
        if (target.kind !== 'firewall-endpoint' || !workload) {
          problems.push(
            `${where}: public subnets route only to the internet gateway or back through a firewall`,
          );
        } else if (!same(target.zone, subnet.zone) || !same(workload.zone, subnet.zone)) {
          problems.push(`${where}: return path crosses zones, so the flow is asymmetric`);
        }
      } else {
        problems.push(`${where}: subnet has no tier tag`);
      }
    }
  }
  return problems;
}

const defaultRoute = (subnet: SubnetRouting) => subnet.routes.filter((r) => r.destination === '0.0.0.0/0');

describe('an allowlisted segment: workload -> firewall endpoint -> NAT -> internet gateway, per zone', () => {
  // No default segment reaches the internet; this development segment does, under an accepted risk.
  const { outdir } = allowlistedApp();
  const json = () => readTemplateJson('Network-dev', outdir);
  const routing = subnetRouting(Template.fromJSON(json()));
  const tier = (name: string) => routing.filter((s) => s.tier === name);

  test('every route table obeys the egress invariant', () => {
    expect(egressProblems(routing)).toEqual([]);
  });

  test('every workload subnet has exactly one route: its default route, to its own zone firewall endpoint', () => {
    expect(tier('workload')).toHaveLength(2);
    for (const subnet of tier('workload')) {
      expect(subnet.routes).toHaveLength(1);
      expect(defaultRoute(subnet)[0]?.target).toEqual({
        kind: 'firewall-endpoint',
        firewall: expect.any(String),
        zone: subnet.zone,
      });
    }
  });

  test("each firewall subnet's default route goes to the NAT gateway of its zone", () => {
    const resources = json().Resources as Record<
      string,
      { Properties: { SubnetId?: { Ref: string }; AvailabilityZone?: unknown } }
    >;
    for (const subnet of tier('firewall')) {
      const [route] = defaultRoute(subnet);
      expect(route?.target.kind).toBe('nat-gateway');
      const nat = resources[(route?.target as { id: string }).id];
      const natSubnet = resources[nat.Properties.SubnetId?.Ref ?? ''];
      expect(natSubnet.Properties.AvailabilityZone).toEqual(subnet.zone);
    }
  });

  test('each public subnet returns traffic for its zone workload subnet through the same endpoint', () => {
    for (const pub of tier('public')) {
      const workload = tier('workload').find((w) => JSON.stringify(w.zone) === JSON.stringify(pub.zone));
      const back = pub.routes.find((r) => r.destination === workload?.cidr);
      const out = defaultRoute(workload as SubnetRouting)[0];
      expect(back?.target).toEqual(out?.target);
      expect(defaultRoute(pub)[0]?.target.kind).toBe('internet-gateway');
    }
  });

  test('the checker finds a workload route that bypasses the firewall', () => {
    const template = json() as { Resources: Record<string, unknown> };
    const workload = tier('workload')[0];
    const natRoute = defaultRoute(tier('firewall')[0])[0];
    const tables = Object.values(template.Resources) as {
      Type: string;
      Properties: { SubnetId?: { Ref: string }; RouteTableId?: { Ref: string } };
    }[];
    const table = tables.find(
      (r) =>
        r.Type === 'AWS::EC2::SubnetRouteTableAssociation' &&
        r.Properties.SubnetId?.Ref === workload.subnetId,
    )?.Properties.RouteTableId;
    template.Resources.Bypass = {
      Type: 'AWS::EC2::Route',
      Properties: {
        RouteTableId: table,
        DestinationCidrBlock: '203.0.113.0/24',
        NatGatewayId: { Ref: (natRoute.target as { id: string }).id },
      },
    };
    expect(egressProblems(subnetRouting(Template.fromJSON(template)))).toEqual([
      expect.stringMatching(/workload subnet .* route Bypass: bypasses the firewall \(nat-gateway\)/),
    ]);
  });
});

describe.each(DEFAULT_SEGMENTS.map((s) => [s.name]))('%s: no internet path at all', (name) => {
  const template = defaultTemplate(`Network-${name}`);
  const routing = subnetRouting(template);

  test('no route table reaches an internet gateway or a NAT gateway', () => {
    for (const subnet of routing) {
      for (const route of subnet.routes) {
        expect(['internet-gateway', 'nat-gateway']).not.toContain(route.target.kind);
      }
    }
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  test("everything leaving a workload subnet goes to the segment's one firewall endpoint, which has no way on", () => {
    expect(egressProblems(routing)).toEqual([]);
    const workloads = routing.filter((s) => s.tier === 'workload');
    expect(workloads).toHaveLength(2);
    for (const subnet of workloads) {
      expect(subnet.routes.map((r) => [r.destination, r.target.kind])).toEqual([
        ['0.0.0.0/0', 'firewall-endpoint'],
      ]);
      // The tripwire endpoint is in the first zone, for both zones.
      expect(subnet.routes[0].target).toEqual(workloads[0].routes[0].target);
      expect((subnet.routes[0].target as { zone: unknown }).zone).toEqual(workloads[0].zone);
    }
    for (const subnet of routing.filter((s) => s.tier === 'firewall')) expect(subnet.routes).toEqual([]);
    expect(routing.filter((s) => s.tier === 'public')).toEqual([]);
  });
});

describe('with zone names from config: one firewall spans the zones', () => {
  const { blueprint } = synthBlueprint({
    config: {
      ...DEPLOYABLE,
      segments: [
        {
          name: 'dev',
          kind: 'development',
          vpcCidr: '10.100.0.0/16',
          azCount: 3,
          egressAllowlist: ['cloud.r-project.org'],
        },
        {
          name: 'serve',
          kind: 'inference',
          vpcCidr: '10.103.0.0/16',
          azCount: 2,
          egressAllowlist: ['.example.org'],
        },
      ],
      acceptedRisks: [{ ...ACCEPTED_RISK, opening: 'path dev -> internet: via-firewall' }],
    },
  });

  test.each(['dev', 'serve'])('%s routes each zone through its own endpoint of the one firewall', (name) => {
    const template = Template.fromStack(blueprint.networks.get(name)!);
    template.resourceCountIs('AWS::NetworkFirewall::Firewall', 1);
    const routing = subnetRouting(template);
    expect(egressProblems(routing)).toEqual([]);
    const zones = routing.filter((s) => s.tier === 'workload').map((s) => defaultRoute(s)[0]?.target);
    expect(zones.map((t) => (t as { zone: unknown }).zone)).toEqual(
      ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'].slice(0, zones.length),
    );
  });

  test('an inference segment that opts in to an allowlist gets the NAT path through its firewall', () => {
    const template = Template.fromStack(blueprint.networks.get('serve')!);
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    const routing = subnetRouting(template);
    expect(routing.filter((s) => s.tier === 'public')).toHaveLength(2);
  });
});
