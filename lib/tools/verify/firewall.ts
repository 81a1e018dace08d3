import { INTERNET_EGRESS } from '../../contract/tags';
import type { Evidence, Violation } from './invariants';
import type { NetworkModel } from './network';
import type { ReportContext } from './summary';
import type { LocatedResource, Resolver } from './resolve';

/**
 * What a segment's Network Firewall does with traffic, read from its policy and rule groups
 * (invariant 3: a firewall on the path is a control only if it drops what no rule allows):
 * - the stateless engine hands every packet, fragments too, to the stateful engine;
 * - stateful rules are evaluated in strict order, and the default actions drop and alert on what
 *   no rule matches: `aws:drop_strict` in a segment without internet, `aws:drop_strict` or
 *   `aws:drop_established` in a segment with an egress allowlist;
 * - nothing passes by a rule of the segment's own: no `pass` rule in a rule string, no PASS
 *   stateful rule, no stateless rule that passes; the only passes are the domain allowlist's, and
 *   an allowlist is found only in a segment that declares one;
 * - every rule group the policy names can be read (in the assembly, or AWS managed).
 */
export function firewallViolations(
  r: Resolver,
  model: NetworkModel,
  evidence: Evidence[],
  ips?: ReportContext['ips'],
): Violation[] {
  const violations: Violation[] = [];
  // The resolver's target of a `ref|`/`att|` value is the resource it names, with its stack.
  const readTarget = (value: unknown, stack: LocatedResource['stack']) => {
    const resolved = r.resolve(value, stack);
    return { resolved, located: r.target(resolved) };
  };
  const checked = new Set<string>();
  for (const firewall of model.firewalls) {
    const vpc = model.vpcs.find((v) => v.key === firewall.vpc);
    const allowlist = vpc?.egress === INTERNET_EGRESS.allowlist;
    const segment = vpc?.segment ?? firewall.vpc;
    const fw = r.target(`ref|${firewall.key}`);
    if (!fw) continue;
    const { located: policy } = readTarget(fw.resource.Properties?.FirewallPolicyArn, fw.stack);
    const where = (x: LocatedResource) => ({ stack: x.stack.id, logicalId: x.id });
    if (!policy || policy.resource.Type !== 'AWS::NetworkFirewall::FirewallPolicy') {
      violations.push({
        invariant: 3,
        ...where(fw),
        detail: 'the firewall policy cannot be read from the assembly',
      });
      continue;
    }
    const key = `${policy.stack.id}/${policy.id}|${allowlist}`;
    if (checked.has(key)) continue;
    checked.add(key);
    evidence.push({ invariant: 3, ...where(policy), type: policy.resource.Type });
    const doc = (r.resolve(policy.resource.Properties?.FirewallPolicy, policy.stack) ?? {}) as PolicyDocument;
    const fault = (detail: string, at: LocatedResource = policy) =>
      violations.push({ invariant: 3, ...where(at), detail: `segment ${segment}: ${detail}` });

    for (const [name, actions] of [
      ['StatelessDefaultActions', doc.StatelessDefaultActions],
      ['StatelessFragmentDefaultActions', doc.StatelessFragmentDefaultActions],
    ] as const) {
      if (!actions?.includes('aws:forward_to_sfe') || actions.includes('aws:pass')) {
        fault(
          `${name} is ${JSON.stringify(actions ?? [])}: packets skip the stateful engine (expected aws:forward_to_sfe)`,
        );
      }
    }
    if (doc.StatefulEngineOptions?.RuleOrder !== 'STRICT_ORDER') {
      fault('stateful rules are not in strict order: no default action applies to unmatched traffic');
    }
    const defaults = doc.StatefulDefaultActions ?? [];
    const drops = allowlist ? ['aws:drop_strict', 'aws:drop_established'] : ['aws:drop_strict'];
    const alerts = allowlist ? ['aws:alert_strict', 'aws:alert_established'] : ['aws:alert_strict'];
    if (!defaults.some((a) => drops.includes(a))) {
      fault(
        `stateful default actions ${JSON.stringify(defaults)} let unmatched traffic pass (expected ${drops.join(' or ')})`,
      );
    }
    if (!defaults.some((a) => alerts.includes(a))) {
      fault(
        `stateful default actions ${JSON.stringify(defaults)} drop unmatched traffic without an alert log`,
      );
    }

    for (const ref of doc.StatelessRuleGroupReferences ?? []) {
      const { resolved, located } = readTarget(ref.ResourceArn, policy.stack);
      if (!located) {
        fault(`stateless rule group ${String(resolved)} cannot be read`);
        continue;
      }
      const group = r.resolve(located.resource.Properties?.RuleGroup, located.stack) as RuleGroup | undefined;
      const passes = (group?.RulesSource?.StatelessRulesAndCustomActions?.StatelessRules ?? []).filter(
        (rule) => rule.RuleDefinition?.Actions?.includes('aws:pass'),
      );
      if (passes.length > 0) fault(`a stateless rule passes traffic past the stateful engine`, located);
    }
    // Alert rules of the groups read so far (in priority order): an allowlist's flows must meet one first.
    const alertsBefore: string[] = [];
    const refs = [...(doc.StatefulRuleGroupReferences ?? [])].sort(
      (a, b) => (a.Priority ?? 0) - (b.Priority ?? 0),
    );
    for (const ref of refs) {
      const { resolved, located } = readTarget(ref.ResourceArn, policy.stack);
      if (!located) {
        if (!/:aws-managed:stateful-rulegroup\//.test(String(resolved))) {
          fault(`stateful rule group ${String(resolved)} is neither in the assembly nor AWS managed`);
        }
        continue;
      }
      evidence.push({ invariant: 3, ...where(located), type: located.resource.Type });
      const group = r.resolve(located.resource.Properties?.RuleGroup, located.stack) as RuleGroup | undefined;
      const source = group?.RulesSource ?? {};
      const modes = ips?.modes[segment];
      if (ips && modes) {
        for (const detail of ipsModeFaults(source.RulesString ?? '', modes, ips.categoryOfSid)) {
          fault(detail, located);
        }
      }
      const passing = (source.RulesString ?? '')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => /^pass\s/i.test(line));
      if (passing.length > 0) {
        fault(
          `rule group at priority ${ref.Priority} passes traffic by a rule of its own: ${passing[0]}`,
          located,
        );
      }
      if ((source.StatefulRules ?? []).some((rule) => rule.Action === 'PASS')) {
        fault(`rule group at priority ${ref.Priority} has a PASS stateful rule`, located);
      }
      if (source.RulesSourceList?.GeneratedRulesType === 'ALLOWLIST' && !allowlist) {
        fault('a domain allowlist in a segment that declares no internet egress', located);
      }
      if (source.RulesSourceList?.GeneratedRulesType === 'ALLOWLIST') {
        // A flow the allowlist passes raises no alert of its own (invariant 4: alert logging).
        for (const target of source.RulesSourceList.Targets ?? []) {
          const name = target.toLowerCase();
          for (const protocol of ['tls', 'http']) {
            if (
              !alertsBefore.some(
                (rule) => rule.startsWith(`alert ${protocol} `) && rule.includes(`content:"${name}"`),
              )
            ) {
              violations.push({
                invariant: 4,
                ...where(located),
                detail: `segment ${segment}: the allowlist passes ${protocol === 'tls' ? 'TLS' : 'HTTP'} flows to ${target} without an alert rule before it`,
              });
            }
          }
        }
      }
      alertsBefore.push(
        ...(source.RulesString ?? '')
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => /^alert\s/i.test(line)),
      );
    }
  }
  return violations;
}

/**
 * Each rule of a category acts as the config's mode for it says: `drop` rules drop, `alert` rules
 * only alert, and an `off` category has no rule loaded.
 */
function ipsModeFaults(
  rules: string,
  modes: Readonly<Record<string, string>>,
  categoryOfSid: ReadonlyMap<number, string>,
): string[] {
  const faults: string[] = [];
  for (const line of rules.split('\n').map((l) => l.trim())) {
    const sid = Number(/\bsid:\s*(\d+)\s*;/.exec(line)?.[1]);
    const category = categoryOfSid.get(sid);
    if (!category) continue;
    const action = line.split(/\s/)[0];
    const mode = modes[category] ?? 'drop';
    if (mode === 'off')
      faults.push(`IPS category ${category} is off in the config, but rule ${sid} is loaded (${action})`);
    else if (action !== mode) {
      faults.push(
        `IPS category ${category} is in ${mode} mode in the config, but rule ${sid} is loaded as ${action}`,
      );
    }
  }
  return faults;
}

interface PolicyDocument {
  StatelessDefaultActions?: string[];
  StatelessFragmentDefaultActions?: string[];
  StatefulDefaultActions?: string[];
  StatefulEngineOptions?: { RuleOrder?: string };
  StatelessRuleGroupReferences?: { ResourceArn: unknown; Priority: number }[];
  StatefulRuleGroupReferences?: { ResourceArn: unknown; Priority?: number }[];
}

/** What the checks read of a Network Firewall rule group's `RuleGroup` property. */
export interface RuleGroup {
  RulesSource?: {
    RulesString?: string;
    StatefulRules?: { Action?: string }[];
    RulesSourceList?: { GeneratedRulesType?: string; Targets?: string[] };
    StatelessRulesAndCustomActions?: { StatelessRules?: { RuleDefinition?: { Actions?: string[] } }[] };
  };
}
