import { evaluate, type PolicyDocument } from './engine';
import type { Evidence, Violation } from './invariants';
import { ADMIN_POLICY, granted, mayAssume, type AccessPrincipal, type Cell, type Zone } from './matrix';
import { list, mayAllowIn, strings, type Statement } from './policy';
import { principalsOverlap } from '../../contract/pattern';
import type { TrustingRole } from './trust';

/**
 * Separation of duties, as the policy engine decides it: no principal may both put data into
 * the raw zone and read the curated zone (one who writes raw and reads its tokens back links
 * them to the people), nor both request and approve an airlock item. A principal holds the duties
 * of every role it may assume, and a role those of every role it may pass to a service.
 */

/** What a role does that separation of duties is about. */
type Duty = 'writes raw' | 'reads curated' | 'requests airlock items' | 'approves airlock items';

/** Pairs of duties no one principal may hold. */
const CONFLICTS: readonly [Duty, Duty, string][] = [
  [
    'writes raw',
    'reads curated',
    'one who puts data into raw and reads its pseudonymized records could link the tokens back to the people',
  ],
  ['requests airlock items', 'approves airlock items', 'the same principal may not request and approve'],
];

/** Roles that put data into raw without writing it themselves: the importer (the worker copies), the dead-letter operator (re-sends raw objects). */
const RAW_ACTORS = new Set(['airlock-importer', 'pipeline-operator']);
const IMPORT_REQUESTERS = new Set(['airlock-importer']);
/** Who requests exports, when the assembly has an export zone. */
const EXPORT_REQUESTERS = new Set(['data-scientist', 'ml-engineer']);
const APPROVERS = new Set(['airlock-reviewer']);

export async function separationOfDuties(
  roles: readonly TrustingRole[],
  zones: readonly Zone[],
  cells: Record<string, Record<string, Record<string, Cell>>>,
  /** What each role may assume (role chaining), by name. */
  assumable: Record<string, string[]>,
  account: string,
  organisation: string,
): Promise<{ violations: Violation[]; evidence: Evidence[] }> {
  const exports = zones.some((z) => z.zone === 'airlock-export');
  const own = new Map<string, Set<Duty>>();
  for (const { principal: p } of roles) {
    const duties = new Set<Duty>();
    const reach = (zone: string, what: 'read' | 'write') =>
      zones.some(
        (z) => z.zone === zone && Object.values(cells[p.name]?.[z.name] ?? {}).some((c) => granted(c[what])),
      );
    if (reach('raw', 'write') || RAW_ACTORS.has(p.role ?? '')) duties.add('writes raw');
    if (reach('curated', 'read')) duties.add('reads curated');
    if (IMPORT_REQUESTERS.has(p.role ?? '') || (exports && EXPORT_REQUESTERS.has(p.role ?? '')))
      duties.add('requests airlock items');
    if (APPROVERS.has(p.role ?? '')) duties.add('approves airlock items');
    own.set(p.name, duties);
  }
  // A role holds the duties of the roles it may pass to the service they trust (work it starts runs as them).
  const passes = new Map<string, string[]>();
  for (const { principal: a } of roles) {
    for (const { principal: b, trust } of roles) {
      if (a === b || !mayAllowIn(a.identity, 'iam:PassRole', b.arn)) continue;
      const service = servicesOf(trust)[0];
      if (!service) continue;
      const decision = await evaluate({
        principal: a.arn,
        action: 'iam:PassRole',
        resource: b.arn,
        resourceAccount: b.account,
        identityPolicies: a.identity,
        ...(a.boundary ? { boundary: a.boundary } : {}),
        context: {
          'aws:PrincipalArn': a.arn,
          'aws:PrincipalAccount': a.account,
          'iam:PassedToService': service,
        },
      });
      if (decision === 'Allowed') passes.set(a.name, [...(passes.get(a.name) ?? []), b.name]);
    }
  }
  const dutiesOf = (name: string): Set<Duty> => {
    const all = new Set(own.get(name));
    for (const other of [...(assumable[name] ?? []), ...(passes.get(name) ?? [])]) {
      for (const d of own.get(other) ?? []) all.add(d);
    }
    return all;
  };

  const violations: Violation[] = [];
  const byName = new Map(roles.map((r) => [r.principal.name, r]));
  const report = (who: string, duties: Map<Duty, string[]>, at: AccessPrincipal) => {
    for (const [a, b, why] of CONFLICTS) {
      const left = duties.get(a);
      const right = duties.get(b);
      if (!left || !right) continue;
      violations.push({
        invariant: 13,
        stack: at.stack ?? '-',
        logicalId: at.logicalId ?? '-',
        detail: `${who} ${a} (${left.join(', ')}) and ${b} (${right.join(', ')}): ${why}`,
      });
    }
  };
  const collect = (names: readonly string[]) => {
    const duties = new Map<Duty, string[]>();
    for (const name of names) {
      for (const d of dutiesOf(name)) duties.set(d, [...(duties.get(d) ?? []), name]);
    }
    return duties;
  };

  // A role by itself.
  for (const { principal: p } of roles) report(`role ${p.name}`, collect([p.name]), p);

  // Each principal the trust policies name, outside the assembly: the roles it may assume together.
  const known = new Set(roles.map((r) => r.principal.arn.toLowerCase()));
  const named = new Set<string>();
  for (const { trust } of roles) for (const arn of trustedArns(trust)) named.add(arn);
  const reachedBy = new Map<string, string[]>();
  for (const arn of [...named].sort()) {
    if (known.has(arn.toLowerCase()) || /:root$/.test(arn) || arn === '*') continue;
    const principalAccount = /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(arn)?.[1];
    if (!principalAccount) continue;
    const candidate: AccessPrincipal = {
      name: arn,
      kind: principalAccount === account ? 'another-admin' : 'another-account',
      arn: arn.replace(/[*?]/g, 'x'),
      account: principalAccount,
      human: true,
      identity: [ADMIN_POLICY],
    };
    const reached: string[] = [];
    for (const { principal: target, trust } of roles) {
      if (!JSON.stringify(trust).includes(arn)) continue;
      const decision = await mayAssume(
        candidate,
        { arn: target.arn, account: target.account, trust },
        organisation,
      );
      if (decision === 'Allowed') reached.push(target.name);
    }
    reachedBy.set(arn, reached);
  }
  // A principal both of two names can stand for (a name and a pattern, or two patterns that
  // intersect) may assume what each reaches.
  const names = [...reachedBy.keys()];
  for (const [i, a] of names.entries()) {
    const alone = reachedBy.get(a) ?? [];
    const together = new Set(alone);
    const partners: string[] = [];
    for (const b of names.slice(i + 1)) {
      if (!principalsOverlap(a, b)) continue;
      const theirs = reachedBy.get(b) ?? [];
      if (theirs.every((r) => together.has(r))) continue;
      partners.push(b);
      for (const r of theirs) together.add(r);
    }
    const reached = [...together];
    if (reached.length < 2) continue;
    const first = byName.get(reached[0])?.principal;
    const who =
      partners.length === 0 ? a : `${[a, ...partners].join(' and ')}, which can name one principal,`;
    if (first) report(`${who} (may assume ${reached.join(', ')})`, collect(reached), first);
  }
  // The roles that hold a duty carry the separation: each is evidence of the control.
  const evidence: Evidence[] = roles
    .filter(({ principal: p }) => (own.get(p.name)?.size ?? 0) > 0 && p.stack && p.logicalId)
    .map(({ principal: p }) => ({
      invariant: 13,
      stack: p.stack!,
      logicalId: p.logicalId!,
      type: 'AWS::IAM::Role',
    }));
  return { violations, evidence };
}

/** The service principals a trust policy allows. */
function servicesOf(trust: PolicyDocument): string[] {
  return statements(trust)
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => strings((s.Principal as { Service?: unknown } | undefined)?.Service));
}

/** The principal ARNs a trust policy names: in its principals and in its `aws:PrincipalArn` conditions. */
function trustedArns(trust: PolicyDocument): string[] {
  const out: string[] = [];
  for (const s of statements(trust).filter((x) => x.Effect === 'Allow')) {
    const principal = s.Principal as { AWS?: unknown } | string | undefined;
    if (typeof principal === 'object') out.push(...strings(principal.AWS));
    for (const pairs of Object.values(s.Condition ?? {})) {
      for (const [key, value] of Object.entries(pairs)) {
        if (key.toLowerCase() === 'aws:principalarn') out.push(...strings(value));
      }
    }
  }
  return out;
}

function statements(doc: PolicyDocument): Statement[] {
  return list(doc.Statement) as Statement[];
}
