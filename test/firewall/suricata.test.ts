import { readdirSync } from 'node:fs';
import { IPS_CATEGORIES } from '../../lib/config/network-defaults';
import {
  IPS_RULE_FILES,
  RULES_DIR,
  RULE_VARIABLES,
  categoryRules,
  segmentRules,
} from '../../lib/firewall/ips-rules';
import {
  formatRule,
  parseRule,
  parseRules,
  RuleParseError,
  type SuricataRule,
} from '../../lib/firewall/suricata';

const VARIABLES = new Set<string>(RULE_VARIABLES);
const all = IPS_CATEGORIES.flatMap((category) => categoryRules(category).map((rule) => ({ category, rule })));
const option = (rule: SuricataRule, keyword: string) => rule.options.find((o) => o.keyword === keyword);
const header = (r: SuricataRule) =>
  `${r.protocol} ${r.source} ${r.sourcePort} ${r.direction} ${r.destination} ${r.destinationPort}`;

describe('the rule files', () => {
  test('each category has its file, and every file belongs to a category', () => {
    const files = readdirSync(RULES_DIR).filter((f) => f.endsWith('.rules'));
    expect(files.sort()).toEqual(
      Object.values(IPS_RULE_FILES)
        .map((f) => f.file)
        .sort(),
    );
  });

  test.each(IPS_CATEGORIES)(
    '%s parses, and every rule drops (the IPS form), says why, and is numbered',
    (category) => {
      const rules = categoryRules(category);
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) {
        expect(rule.action).toBe('drop');
        expect(rule.msg.length).toBeGreaterThan(10);
        expect(rule.rev).toBeGreaterThanOrEqual(1);
      }
    },
  );

  test('sids are unique across all files', () => {
    const sids = all.map(({ rule }) => rule.sid);
    expect(new Set(sids).size).toBe(sids.length);
  });

  test('every rule watches this segment: $HOME_NET is its source or destination', () => {
    for (const { rule } of all) expect([rule.source, rule.destination]).toContain('$HOME_NET');
  });

  test('crossSegment and corporate rules cover both directions, every protocol', () => {
    for (const [category, variable] of [
      ['crossSegment', '$OTHER_SEGMENTS'],
      ['corporate', '$CORPORATE_NET'],
    ] as const) {
      expect(categoryRules(category).map(header).sort()).toEqual(
        [`ip $HOME_NET any -> ${variable} any`, `ip ${variable} any -> $HOME_NET any`].sort(),
      );
    }
  });

  test('plaintextProtocols drops FTP, telnet and HTTP leaving the segment, by protocol and by port', () => {
    const headers = categoryRules('plaintextProtocols').map(header);
    for (const expected of [
      'ftp $HOME_NET any -> !$HOME_NET any',
      'tcp $HOME_NET any -> !$HOME_NET 21',
      'tcp $HOME_NET any -> !$HOME_NET 23',
      'http $HOME_NET any -> !$HOME_NET any',
      'tcp $HOME_NET any -> !$HOME_NET 80',
    ]) {
      expect(headers).toContain(expected);
    }
  });

  test('externalDns drops DNS by protocol, UDP and TCP 53, and DNS over TLS', () => {
    expect(categoryRules('externalDns').map(header).sort()).toEqual(
      [
        'dns $HOME_NET any -> !$HOME_NET any',
        'udp $HOME_NET any -> !$HOME_NET 53',
        'tcp $HOME_NET any -> !$HOME_NET 53',
        'tcp $HOME_NET any -> !$HOME_NET 853',
      ].sort(),
    );
  });

  test('nonTlsOn443 drops established TCP on 443 that is not TLS, and QUIC', () => {
    const [tcp, udp] = categoryRules('nonTlsOn443');
    expect(header(tcp)).toBe('tcp $HOME_NET any -> !$HOME_NET 443');
    expect(option(tcp, 'app-layer-protocol')?.value).toBe('!tls');
    expect(option(tcp, 'flow')?.value).toBe('to_server,established');
    expect(header(udp)).toBe('udp $HOME_NET any -> !$HOME_NET 443');
  });
});

describe('segmentRules', () => {
  const modes = Object.fromEntries(IPS_CATEGORIES.map((c) => [c, 'drop'])) as Parameters<
    typeof segmentRules
  >[0];

  test('turns drops into alerts for a category in IDS mode, and leaves out categories switched off', () => {
    const rules = segmentRules(
      { ...modes, corporate: 'alert', externalDns: 'off' },
      new Set(RULE_VARIABLES),
    ).map((line) => parseRule(line, 'generated', VARIABLES));
    const actionOf = new Map(rules.map((r) => [r.sid, r.action]));
    for (const r of categoryRules('corporate')) expect(actionOf.get(r.sid)).toBe('alert');
    for (const r of categoryRules('externalDns')) expect(actionOf.has(r.sid)).toBe(false);
    for (const r of categoryRules('nonTlsOn443')) expect(actionOf.get(r.sid)).toBe('drop');
  });

  test('leaves out a category whose ranges are not defined', () => {
    const lines = segmentRules(modes, new Set(['HOME_NET', 'CORPORATE_NET'] as const));
    expect(lines.some((l) => l.includes('$OTHER_SEGMENTS'))).toBe(false);
    expect(lines.some((l) => l.includes('$CORPORATE_NET'))).toBe(true);
  });
});

describe('the parser', () => {
  const good =
    'drop tcp $HOME_NET any -> !$HOME_NET 443 (msg:"a \\"quoted\\"; message"; flow:to_server; sid:7; rev:2;)';

  test('reads header and options, quotes and escapes included', () => {
    const rule = parseRule(good, 'x.rules:1', VARIABLES);
    expect(rule).toMatchObject({
      action: 'drop',
      protocol: 'tcp',
      destination: '!$HOME_NET',
      destinationPort: '443',
      msg: 'a "quoted"; message',
      sid: 7,
      rev: 2,
    });
  });

  test('formats a rule back to text that parses to the same rule', () => {
    const rule = parseRule(good, 'x.rules:1', VARIABLES);
    const again = parseRule(formatRule(rule), 'x.rules:1', VARIABLES);
    expect(again).toEqual(rule);
    expect(formatRule(rule, 'alert')).toMatch(/^alert tcp /);
  });

  test('skips comments and blank lines, and numbers lines from 1', () => {
    const rules = parseRules(`# comment\n\n${good}\n`, 'x.rules', VARIABLES);
    expect(rules.map((r) => r.origin)).toEqual(['x.rules:3']);
  });

  test.each([
    ['an unknown action', good.replace(/^drop/, 'block'), 'unknown action "block"'],
    ['an unknown protocol', good.replace('tcp', 'tcpx'), 'unknown protocol "tcpx"'],
    [
      'an undeclared variable',
      good.replace('!$HOME_NET', '$PARTNER_NET'),
      'undeclared variable $PARTNER_NET',
    ],
    ['a missing sid', good.replace(' sid:7;', ''), 'missing or non-numeric sid'],
    ['a missing msg', good.replace(/msg:"[^)]*message"; /, ''), 'missing msg'],
    ['a missing rev', good.replace(' rev:2;', ''), 'missing or non-numeric rev'],
    ['an unterminated quote', good.replace('message"', 'message'), 'unterminated quoted option value'],
    ['an unclosed option', good.replace('rev:2;', 'rev:2'), 'option "rev:2" is not closed by ;'],
    ['no option block', 'drop tcp any any -> any 443', 'expected `action protocol'],
    ['a malformed port', good.replace(' 443 ', ' https '), 'malformed port "https"'],
  ])('refuses %s, naming file and line', (_what, line, problem) => {
    expect(() => parseRules(`\n${line}`, 'bad.rules', VARIABLES)).toThrow(RuleParseError);
    expect(() => parseRules(`\n${line}`, 'bad.rules', VARIABLES)).toThrow(`bad.rules:2: ${problem}`);
  });
});
