import type { Assembly, CfnResource, StackTemplate } from '../../lib/tools/verify/assembly';
import { readAssembly } from '../../lib/tools/verify/assembly';
import { verify } from '../../lib/tools/verify/verify';
import { defaultAppDir, exampleAppDir } from './default-app';

/** The default app's assembly, deep-copied so a test can change it. */
export function defaultAssembly(): Assembly {
  return JSON.parse(JSON.stringify(readAssembly(defaultAppDir()))) as Assembly;
}

/**
 * The example configuration's assembly, deep-copied: its development segment has an allowlist
 * under an accepted risk (config/example.json), the only internet path of either app.
 */
export function exampleAssembly(): Assembly {
  return JSON.parse(JSON.stringify(readAssembly(exampleAppDir()))) as Assembly;
}

/**
 * A day the example's accepted risk covers, for reports on the example assembly: the verifier
 * judges an acceptance's expiry against the report's date, and tests must not depend on today.
 */
export const WHILE_EXAMPLE_RISK_LIVES = '2027-01-15T09:00:00.000Z';

export function stack(assembly: Assembly, id: string): StackTemplate {
  const found = assembly.stacks.find((s) => s.id === id);
  if (!found) throw new Error(`no stack ${id}`);
  return found;
}

export type Resources = Record<
  string,
  CfnResource & { Properties: Record<string, unknown>; DeletionPolicy?: string }
>;
export const resources = (s: StackTemplate) => s.template.Resources as Resources;

/** The logical id of the single resource of a type whose id starts with a prefix. */
export function idOf(s: StackTemplate, type: string, prefix = ''): string {
  const ids = Object.entries(resources(s))
    .filter(([id, r]) => r.Type === type && id.startsWith(prefix))
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}* in ${s.id}, found ${ids.length}`);
  return ids[0];
}

/** The violations of an assembly (the default app's, or `base`) changed by `mutate`, which must break an invariant. */
export async function violationsAfter(mutate: (a: Assembly) => void, base: () => Assembly = defaultAssembly) {
  const assembly = base();
  mutate(assembly);
  const report = await verify(assembly, { generatedAt: WHILE_EXAMPLE_RISK_LIVES });
  expect(report.passed).toBe(false);
  return report.invariants.flatMap((i) => i.violations);
}

/** Whether an assembly (the default app's, or `base`) changed by `mutate` passes every invariant. */
export async function passesAfter(mutate: (a: Assembly) => void, base: () => Assembly = defaultAssembly) {
  const assembly = base();
  mutate(assembly);
  return (await verify(assembly, { generatedAt: WHILE_EXAMPLE_RISK_LIVES })).passed;
}

/** Adds an internet gateway (`Igw`) and a route to it (`IgwRoute`) to a workload route table of a network stack. */
export function addIgwRoute(assembly: Assembly, stackId: string, destination: string): void {
  const t = stack(assembly, stackId);
  const table = Object.values(resources(t)).find(
    (r) => r.Type === 'AWS::EC2::Route' && JSON.stringify(r.Properties).includes('workloadSubnet1'),
  )!.Properties.RouteTableId;
  resources(t).Igw = { Type: 'AWS::EC2::InternetGateway', Properties: {} };
  resources(t).IgwRoute = {
    Type: 'AWS::EC2::Route',
    Properties: { RouteTableId: table, DestinationCidrBlock: destination, GatewayId: { Ref: 'Igw' } },
  };
}
