import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IpsCategory, IpsMode } from '../config/network-defaults';
import { formatRule, parseRules, type SuricataRule } from './suricata';

/** Where the rule files live, relative to the repository root. */
export const RULES_DIR = join(__dirname, '..', '..', 'rules', 'suricata');

/** The IP-set variables the rule files may use; the firewall construct defines each one it loads. */
export const RULE_VARIABLES = ['HOME_NET', 'OTHER_SEGMENTS', 'CORPORATE_NET'] as const;
export type RuleVariable = (typeof RULE_VARIABLES)[number];

/** Each category's file, and the variable it needs beyond HOME_NET (no ranges, no rules). */
export const IPS_RULE_FILES: Record<IpsCategory, { file: string; needs?: RuleVariable }> = {
  crossSegment: { file: 'cross-segment.rules', needs: 'OTHER_SEGMENTS' },
  corporate: { file: 'corporate.rules', needs: 'CORPORATE_NET' },
  plaintextProtocols: { file: 'plaintext-protocols.rules' },
  externalDns: { file: 'external-dns.rules' },
  nonTlsOn443: { file: 'non-tls-on-443.rules' },
};

const cache = new Map<IpsCategory, SuricataRule[]>();

/** The parsed rules of a category; throws, naming file and line, on a malformed rule. */
export function categoryRules(category: IpsCategory): SuricataRule[] {
  let rules = cache.get(category);
  if (!rules) {
    const { file } = IPS_RULE_FILES[category];
    rules = parseRules(readFileSync(join(RULES_DIR, file), 'utf8'), file, new Set(RULE_VARIABLES));
    cache.set(category, rules);
  }
  return rules;
}

/**
 * The rules a segment loads: every category not switched off whose variable has ranges, with the
 * files' `drop` turned into `alert` for categories in IDS mode.
 */
export function segmentRules(
  modes: Readonly<Record<IpsCategory, IpsMode>>,
  defined: ReadonlySet<RuleVariable>,
): string[] {
  return (Object.keys(IPS_RULE_FILES) as IpsCategory[]).flatMap((category) => {
    const mode = modes[category];
    const needs = IPS_RULE_FILES[category].needs;
    if (mode === 'off' || (needs && !defined.has(needs))) return [];
    return categoryRules(category).map((rule) =>
      formatRule(rule, mode === 'alert' && rule.action === 'drop' ? 'alert' : rule.action),
    );
  });
}
