import * as ipaddr from 'ipaddr.js';
import type { Concretizer, PolicyDocument } from './engine';
import { endpointLetsOut, OFF_NETWORK, type Origin, type Zone } from './matrix';
import type { NetworkModel, NetworkResult } from './network';
import { strings } from './policy';
import type { Resolver } from './resolve';

/**
 * Where requests to the data zones come from: each segment, through its S3 endpoint, and places
 * off every network of the blueprint; and which segments' S3 endpoints let data out to another
 * account.
 */

/** A segment's S3 endpoint as the engine reads it: its id, its VPC, its policy. */
function s3Endpoint(
  e: NetworkModel['endpoints'][number],
  r: Resolver,
  concrete: Concretizer,
): NonNullable<Origin['endpoint']> {
  const target = r.target(`ref|${e.key}`);
  const policy = target?.resource.Properties?.PolicyDocument;
  return {
    id: concrete.value(`ref|${e.key}`),
    vpc: concrete.value(`ref|${e.vpc}`),
    ...(policy && target ? { policy: anyPrincipal(concrete.policy(policy, target.stack)) } : {}),
  };
}

/** Per segment: its S3 endpoints that let data into another account's bucket. */
export async function endpointWaysOf(
  origins: readonly Origin[],
  network: NetworkResult,
  r: Resolver,
  concrete: Concretizer,
  accounts: { account: string; otherAccount: string; organisation: string; ownBuckets: ReadonlySet<string> },
): Promise<Record<string, string[]>> {
  const ways: Record<string, string[]> = {};
  for (const origin of origins.filter((o) => o.kind === 'segment' && o.segment)) {
    const vpcs = network.model.vpcs.filter((v) => v.segment === origin.segment).map((v) => v.key);
    for (const e of network.model.endpoints.filter((x) => x.service === 's3' && vpcs.includes(x.vpc))) {
      const open = await endpointLetsOut(
        s3Endpoint(e, r, concrete),
        accounts.account,
        accounts.otherAccount,
        accounts.organisation,
        concrete.places.partition,
        accounts.ownBuckets,
      );
      if (open) (ways[origin.name] ??= []).push(e.key);
    }
  }
  return ways;
}

/** Each segment (through its S3 endpoint if it has one) and off-network. */
export function originsOf(
  network: NetworkResult,
  r: Resolver,
  concrete: Concretizer,
  zones: readonly Zone[],
): Origin[] {
  const { model, reachability } = network;
  const origins: Origin[] = reachability.segments.map((segment) => {
    const vpcs = model.vpcs.filter((v) => v.segment === segment).map((v) => v.key);
    const endpoint = model.endpoints.find((e) => e.service === 's3' && vpcs.includes(e.vpc));
    return {
      name: segment,
      kind: 'segment',
      segment,
      ...(endpoint ? { endpoint: s3Endpoint(endpoint, r, concrete) } : {}),
      reachesS3: endpoint !== undefined || (reachability.matrix[segment]?.internet ?? 'none') !== 'none',
    };
  });
  // Places the zones' policies name that are not the assembly's: an address range, an endpoint or
  // a VPC of no segment. Requests from there are asked too; they are off every network of the blueprint.
  const ours = new Set(
    origins
      .flatMap((o) => (o.endpoint ? [o.endpoint.id, o.endpoint.vpc] : []))
      .concat(
        model.endpoints.map((e) => concrete.value(`ref|${e.key}`)),
        model.vpcs.map((v) => concrete.value(`ref|${v.key}`)),
      ),
  );
  const named = { ranges: new Set<string>(), endpoints: new Set<string>(), vpcs: new Set<string>() };
  for (const z of zones) {
    for (const s of [...(z.bucketPolicy?.Statement ?? []), ...(z.keyPolicy?.Statement ?? [])]) {
      for (const [operator, pairs] of Object.entries(s.Condition ?? {})) {
        // `Null` asks whether a key is there, not which place it names.
        if (operator.startsWith('Null')) continue;
        for (const [key, value] of Object.entries(pairs)) {
          const k = key.toLowerCase();
          for (const v of strings(value)) {
            if (k === 'aws:sourceip') named.ranges.add(v);
            else if (k === 'aws:sourcevpce' && !ours.has(v)) named.endpoints.add(v);
            else if (k === 'aws:sourcevpc' && !ours.has(v)) named.vpcs.add(v);
          }
        }
      }
    }
  }
  const outside: Origin[] = [
    ...[...named.ranges].sort().map((range): Origin => ({
      name: `${OFF_NETWORK} ${range}`,
      kind: 'off-network',
      sourceIp: addressIn(range),
      reachesS3: true,
    })),
    ...[...named.endpoints].sort().map((id): Origin => ({
      name: `endpoint ${id} (no segment's)`,
      kind: 'off-network',
      endpoint: { id, vpc: 'vpc-of-no-segment' },
      reachesS3: true,
    })),
    ...[...named.vpcs].sort().map((vpc): Origin => ({
      name: `VPC ${vpc} (no segment's)`,
      kind: 'off-network',
      endpoint: { id: 'vpce-of-no-segment', vpc },
      reachesS3: true,
    })),
  ];
  return [...origins, { name: OFF_NETWORK, kind: 'off-network', reachesS3: true }, ...outside];
}

/** An address inside a range (its first), or the value itself when it is an address. */
function addressIn(range: string): string {
  try {
    const [address] = ipaddr.parseCIDR(range);
    return address.toString();
  } catch {
    return range;
  }
}

/** An endpoint policy's `{"AWS": "*"}` is `*` (AWS reads them alike; the engine takes only the latter). */
export function anyPrincipal(doc: PolicyDocument): PolicyDocument {
  const star = (principal: unknown) =>
    JSON.stringify(principal) === JSON.stringify({ AWS: '*' }) ? '*' : principal;
  return { ...doc, Statement: doc.Statement.map((s) => ({ ...s, Principal: star(s.Principal) })) };
}
