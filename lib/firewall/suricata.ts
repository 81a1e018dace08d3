/**
 * A strict reader for the Suricata rules the blueprint maintains under rules/suricata/: enough of
 * the grammar to refuse a malformed or unsafe rule at synth, before AWS Network Firewall would
 * refuse it at deploy time.
 */

export const RULE_ACTIONS = ['drop', 'alert', 'pass', 'reject'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

/** Protocols Network Firewall's Suricata engine accepts in a rule header. */
const PROTOCOLS = new Set([
  'ip',
  'tcp',
  'udp',
  'icmp',
  'http',
  'http2',
  'tls',
  'dns',
  'ftp',
  'ssh',
  'smb',
  'smtp',
  'dcerpc',
  'krb5',
  'ikev2',
  'nfs',
  'ntp',
  'tftp',
  'dhcp',
  'quic',
]);

export interface RuleOption {
  readonly keyword: string;
  /** The value, unquoted; undefined for a bare keyword. */
  readonly value?: string;
}

export interface SuricataRule {
  readonly action: RuleAction;
  readonly protocol: string;
  readonly source: string;
  readonly sourcePort: string;
  readonly direction: '->' | '<>';
  readonly destination: string;
  readonly destinationPort: string;
  readonly options: readonly RuleOption[];
  readonly msg: string;
  readonly sid: number;
  readonly rev: number;
  /** Where the rule came from, as `file:line`. */
  readonly origin: string;
}

export class RuleParseError extends Error {
  constructor(origin: string, problem: string) {
    super(`${origin}: ${problem}`);
    this.name = 'RuleParseError';
  }
}

const HEADER = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(->|<>)\s+(\S+)\s+(\S+)\s+\((.*)\)\s*$/;
const VARIABLE = /\$([A-Z_][A-Z0-9_]*)/g;
const PORT = /^(any|!?\$[A-Z_][A-Z0-9_]*|!?\[?[0-9:,!\s]+\]?)$/;

/**
 * Parses a rules file: one rule per line, `#` comments and blank lines ignored. Every rule needs a
 * quoted msg, a numeric sid and rev, and may use only the variables in `variables`.
 */
export function parseRules(text: string, file: string, variables: ReadonlySet<string>): SuricataRule[] {
  const rules: SuricataRule[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    rules.push(parseRule(line, `${file}:${i + 1}`, variables));
  });
  return rules;
}

export function parseRule(line: string, origin: string, variables: ReadonlySet<string>): SuricataRule {
  const header = HEADER.exec(line);
  if (!header) {
    throw new RuleParseError(
      origin,
      'expected `action protocol source port -> destination port (options;)` on one line',
    );
  }
  const [, action, protocol, source, sourcePort, direction, destination, destinationPort, body] = header;
  if (!(RULE_ACTIONS as readonly string[]).includes(action)) {
    throw new RuleParseError(
      origin,
      `unknown action "${action}"; expected one of ${RULE_ACTIONS.join(', ')}`,
    );
  }
  if (!PROTOCOLS.has(protocol)) throw new RuleParseError(origin, `unknown protocol "${protocol}"`);
  for (const port of [sourcePort, destinationPort]) {
    if (!PORT.test(port)) throw new RuleParseError(origin, `malformed port "${port}"`);
  }
  for (const [, name] of `${source} ${sourcePort} ${destination} ${destinationPort}`.matchAll(VARIABLE)) {
    if (!variables.has(name)) {
      throw new RuleParseError(
        origin,
        `undeclared variable $${name}; expected one of ${[...variables].map((v) => `$${v}`).join(', ')}`,
      );
    }
  }
  const options = parseOptions(body, origin);
  const value = (keyword: string) => options.find((o) => o.keyword === keyword)?.value;
  const msg = value('msg');
  if (!msg) throw new RuleParseError(origin, 'missing msg: every rule must say what it caught');
  const sid = Number(value('sid'));
  if (!Number.isInteger(sid) || sid <= 0) throw new RuleParseError(origin, 'missing or non-numeric sid');
  const rev = Number(value('rev'));
  if (!Number.isInteger(rev) || rev <= 0) throw new RuleParseError(origin, 'missing or non-numeric rev');
  return {
    action: action as RuleAction,
    protocol,
    source,
    sourcePort,
    direction: direction as '->' | '<>',
    destination,
    destinationPort,
    options,
    msg,
    sid,
    rev,
    origin,
  };
}

/** Splits `keyword:value; keyword;` honouring quotes and backslash escapes. */
function parseOptions(body: string, origin: string): RuleOption[] {
  const options: RuleOption[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\' && i + 1 < body.length) {
      current += c + body[++i];
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === ';' && !quoted) {
      options.push(option(current.trim(), origin));
      current = '';
    } else {
      current += c;
    }
  }
  if (quoted) throw new RuleParseError(origin, 'unterminated quoted option value');
  if (current.trim() !== '')
    throw new RuleParseError(origin, `option "${current.trim()}" is not closed by ;`);
  return options;
}

function option(text: string, origin: string): RuleOption {
  const colon = text.indexOf(':');
  if (colon < 0) {
    if (!/^[a-z_.0-9-]+$/.test(text)) throw new RuleParseError(origin, `malformed option "${text}"`);
    return { keyword: text };
  }
  const keyword = text.slice(0, colon).trim();
  let value = text.slice(colon + 1).trim();
  if (!/^[a-z_.0-9-]+$/.test(keyword))
    throw new RuleParseError(origin, `malformed option keyword "${keyword}"`);
  if (value.startsWith('"')) {
    if (!value.endsWith('"') || value.length < 2)
      throw new RuleParseError(origin, `malformed quoted value in ${keyword}`);
    value = value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return { keyword, value };
}

/** The rule as one line of Suricata, with its action replaced. */
export function formatRule(rule: SuricataRule, action: RuleAction = rule.action): string {
  const options = rule.options
    .map(({ keyword, value }) =>
      value === undefined
        ? `${keyword};`
        : keyword === 'msg'
          ? `${keyword}:"${value.replace(/(["\\;])/g, '\\$1')}";`
          : `${keyword}:${value};`,
    )
    .join(' ');
  return `${action} ${rule.protocol} ${rule.source} ${rule.sourcePort} ${rule.direction} ${rule.destination} ${rule.destinationPort} (${options})`;
}
