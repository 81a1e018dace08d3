import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEGMENT_KIND_PROFILES } from '../../../lib/segment-kinds';
import { DEFAULT_SEGMENTS } from '../../../lib/config/schema';
import {
  assemblyResources,
  costTable,
  fixedMonthlyCost,
  HOURS_PER_MONTH,
  PRICES,
  usageTable,
} from '../../../lib/tools/cost/fixed-cost';
import { defaultAppDir } from '../../support/default-app';
import { synthBlueprint } from '../../support/synth';

/** Table rows as trimmed cells, so that Prettier's column padding does not matter. */
const cells = (table: string) =>
  table
    .trim()
    .split('\n')
    .map((row) =>
      row
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim().replace(/^(-+)(:?)$/, '-$2')),
    );

const count = (lines: ReturnType<typeof fixedMonthlyCost>, item: string) =>
  lines.find((l) => l.item.startsWith(item))?.count;

describe('fixed monthly cost of the default blueprint', () => {
  const lines = fixedMonthlyCost(assemblyResources(defaultAppDir()));

  test('counts one tripwire firewall endpoint per segment and no NAT: no segment has egress by default', () => {
    expect(count(lines, 'Network Firewall endpoints')).toBe(1 + 1 + 1 + 1);
    expect(count(lines, 'NAT gateways')).toBe(0);
    expect(count(lines, 'Public IPv4')).toBe(0);
    expect(count(lines, 'Interface endpoint zones')).toBe(
      DEFAULT_SEGMENTS.reduce(
        (n, s) => n + SEGMENT_KIND_PROFILES[s.kind].defaultInterfaceEndpoints.length * 2,
        0,
      ),
    );
    expect(lines[0].unitMonthly).toBeCloseTo(PRICES.firewallEndpointHour * HOURS_PER_MONTH, 2);
  });

  test("counts the inference API's web ACL and each of its rules", () => {
    expect(count(lines, 'AWS WAF web ACLs')).toBe(1);
    expect(count(lines, 'AWS WAF rules')).toBe(4);
  });

  test('docs/cost.md states the cost the templates give', () => {
    const page = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'cost.md'), 'utf8');
    const section = /<!-- fixed-cost:start -->([\s\S]*?)<!-- fixed-cost:end -->/.exec(page)?.[1] ?? '';
    expect(cells(section)).toEqual(cells(costTable(lines)));
    const usage = /<!-- usage-cost:start -->([\s\S]*?)<!-- usage-cost:end -->/.exec(page)?.[1] ?? '';
    expect(cells(usage)).toEqual(cells(usageTable(assemblyResources(defaultAppDir()))));
    expect(usage).toContain('CodeArtifact');
    // The one copy of the table: the README links to docs/cost.md instead of repeating it.
    expect(readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8')).not.toContain(
      'fixed-cost:start',
    );
  });
});

test('a segment with egress runs a firewall endpoint and a NAT gateway per zone', () => {
  const { outdir } = synthBlueprint({
    config: {
      segments: [
        { name: 'web', kind: 'inference', vpcCidr: '10.1.0.0/16', egressAllowlist: ['.example.org'] },
      ],
    },
  });
  const lines = fixedMonthlyCost(assemblyResources(outdir));
  expect(count(lines, 'Network Firewall endpoints')).toBe(2);
  expect(count(lines, 'NAT gateways')).toBe(2);
  expect(count(lines, 'Public IPv4')).toBe(2);
});
