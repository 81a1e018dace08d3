import type { PolicyDocument } from './engine';
import type { Violation } from './invariants';
import { mayAssume, namedPrincipals, union, type AccessPrincipal, type Cell, type Zone } from './matrix';
import { mayAllowIn } from './policy';

/**
 * Who may assume which role, as the engine decides `sts:AssumeRole` against each role's trust
 * policy: the two principals no template names, and the assembly's roles among themselves (role
 * chaining). What a role reaches, a role that may assume it reaches too, and so does another
 * account; another admin's reach stays its own (an administrator of the account is trusted with
 * IAM), its assumable roles only listed.
 */

/** A role of the assembly, as trust is decided for it. */
export interface TrustingRole {
  readonly principal: AccessPrincipal;
  readonly trust: PolicyDocument;
}

export async function followTrust(
  principals: readonly AccessPrincipal[],
  roles: readonly TrustingRole[],
  zones: readonly Zone[],
  /** The matrix's cells, which the reach of assumed roles is added to. */
  cells: Record<string, Record<string, Record<string, Cell>>>,
  organisation: string,
): Promise<{ assumable: Record<string, string[]>; violations: Violation[] }> {
  const violations: Violation[] = [];
  const at = (p: AccessPrincipal) => ({ stack: p.stack ?? '-', logicalId: p.logicalId ?? '-' });
  const known = new Set(roles.map((role) => role.principal.arn));
  const assumable: Record<string, string[]> = {};

  // The two unnamed principals, asked also as every principal a trust policy names.
  for (const synthetic of principals.filter((p) => p.kind !== 'role')) {
    assumable[synthetic.name] = [];
    for (const { principal: target, trust } of roles) {
      for (const candidate of namedPrincipals(synthetic, [trust], known, target.account)) {
        const decision = await mayAssume(
          candidate,
          { arn: target.arn, account: target.account, trust },
          organisation,
        );
        if (decision.startsWith('error:')) {
          violations.push({
            invariant: 7,
            ...at(target),
            detail: `the policy engine could not evaluate the trust of role ${target.name}: ${decision}`,
          });
        }
        if (decision !== 'Allowed') continue;
        assumable[synthetic.name].push(target.name);
        if (synthetic.kind === 'another-admin' && candidate.arn === synthetic.arn) {
          violations.push({
            invariant: 7,
            ...at(target),
            detail: `role ${target.name} trusts the account itself: any principal of it that IAM allows may assume it, not only those the config names`,
          });
        }
        break;
      }
    }
  }

  // Role chaining: only where a policy could allow it, a's own grant of sts:AssumeRole on b or b's trust naming a.
  const chained = new Map<string, Set<string>>();
  for (const { principal: a } of roles) {
    for (const { principal: b, trust } of roles) {
      if (a === b) continue;
      const granted = mayAllowIn(a.identity, 'sts:AssumeRole', b.arn);
      if (!granted && !JSON.stringify(trust).includes(a.arn)) continue;
      if ((await mayAssume(a, { arn: b.arn, account: b.account, trust }, organisation)) === 'Allowed') {
        chained.set(a.name, (chained.get(a.name) ?? new Set<string>()).add(b.name));
      }
    }
  }
  // Chains of any length: what b may assume, a may too.
  for (let changed = true; changed;) {
    changed = false;
    for (const [a, bs] of chained) {
      for (const c of [...bs].flatMap((b) => [...(chained.get(b) ?? [])])) {
        if (c !== a && !bs.has(c)) {
          bs.add(c);
          changed = true;
        }
      }
    }
  }
  for (const [a, bs] of chained) {
    assumable[a] = [...bs];
    absorb(cells, zones, a, [...bs]);
  }

  // What a role another account may assume reaches, another account reaches; the role breaks invariant 7.
  const outsider = principals.find((p) => p.kind === 'another-account');
  if (outsider) {
    for (const name of assumable[outsider.name] ?? []) {
      const role = roles.find((x) => x.principal.name === name);
      if (role) {
        violations.push({
          invariant: 7,
          ...at(role.principal),
          detail: `role ${name} can be assumed by a principal in another account`,
        });
      }
    }
    absorb(cells, zones, outsider.name, assumable[outsider.name] ?? []);
  }
  return { assumable, violations };
}

/** Adds to a principal's cells, zone by zone and origin by origin, what the others may do. */
function absorb(
  cells: Record<string, Record<string, Record<string, Cell>>>,
  zones: readonly Zone[],
  into: string,
  from: readonly string[],
): void {
  if (from.length === 0) return;
  for (const z of zones) {
    const own = cells[into][z.name];
    for (const origin of Object.keys(own)) {
      own[origin] = {
        read: union([own[origin].read, ...from.map((b) => cells[b][z.name][origin].read)]),
        write: union([own[origin].write, ...from.map((b) => cells[b][z.name][origin].write)]),
      };
    }
  }
}
