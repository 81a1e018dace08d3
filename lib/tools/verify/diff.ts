import type { Assembly, CfnResource } from './assembly';
import { describe } from './exfiltration';
import { gains, originsOfCell, type Cell } from './matrix';
import { matches } from './policy';
import { acknowledgementGroups, type VerificationReport } from './verify';

/**
 * Resource types whose changes a security reviewer reads: identities and policies, network paths
 * and filters, endpoints, encryption, logging and detection, retention, public access.
 */
const SECURITY_RELEVANT =
  /^AWS::(IAM|KMS|NetworkFirewall|Route53Resolver|CloudTrail|GuardDuty|SecurityHub|Config|AccessAnalyzer|WAFv2)::|^AWS::EC2::(VPC|Subnet|Route|RouteTable|SubnetRouteTableAssociation|SecurityGroup|SecurityGroupIngress|SecurityGroupEgress|NetworkAcl|NetworkAclEntry|SubnetNetworkAclAssociation|VPCEndpoint|FlowLog|InternetGateway|NatGateway|VPCPeeringConnection|TransitGatewayAttachment|VPNGateway)$|^AWS::S3::(Bucket|BucketPolicy)$|^AWS::(SNS::TopicPolicy|SQS::QueuePolicy|Lambda::Permission|Logs::LogGroup|Logs::ResourcePolicy|ApiGateway::RestApi|ApiGateway::Method|SageMaker::Domain|SageMaker::EndpointConfig)$/;

/** What changed between two assemblies, as a compliance reviewer reads a pull request. */
export interface PostureDiff {
  readonly baseline: string;
  readonly current: string;
  /** Invariants whose result changed. */
  readonly invariants: { id: number; title: string; before: boolean; after: boolean }[];
  /** Reachability cells that changed (`to` is a segment, `internet`, `corporate` or `inbound`). */
  readonly paths: { from: string; to: string; before: string; after: string; opened: boolean }[];
  /** Access cells that changed, per principal and zone (over every origin). */
  readonly access: { role: string; zone: string; before: string; after: string; gained: boolean }[];
  /** Exfiltration cells (a class read by a principal from an origin, and a way out) gained or lost. */
  readonly exfiltration: { added: string[]; removed: string[] };
  /** Open rule-pack findings, as `pack rule at resource`. */
  readonly findings: { added: string[]; removed: string[] };
  /** Acknowledgements, as `pack rule: reason`. */
  readonly acknowledgements: { added: string[]; removed: string[] };
  /** Security-relevant resources added, removed, or with changed properties. */
  readonly resources: {
    resource: string;
    type: string;
    change: 'added' | 'removed' | 'changed';
    properties: string[];
  }[];
  /** What opened that no declaration of the new config covers, one line each: the diff fails on these. */
  readonly opened: string[];
  /** What opened that a declaration covers (a declared flow, an egress allowlist, an accepted risk), and which. */
  readonly covered: { opening: string; declaration: string }[];
  /** Openings an accepted risk would cover but for its expiry. */
  readonly expired: { opening: string; acceptance: string; expired: string }[];
}

const NONE = new Set(['none', '-', undefined]);

/**
 * The acceptances that name an opening: by pattern (`*` any run of characters), but a segment's
 * path to the internet only by name, as config validation requires: a pattern would accept every
 * segment's, those to come included.
 */
export function acceptancesOf<R extends { readonly opening: string }>(
  risks: readonly R[],
  opening: string,
): R[] {
  const byName = /^path \S+ -> internet: /.test(opening);
  return risks.filter((r) => (byName ? r.opening === opening : matches(r.opening, opening)));
}

export function diffPosture(
  before: { report: VerificationReport; assembly: Assembly },
  after: { report: VerificationReport; assembly: Assembly },
): PostureDiff {
  const opened: string[] = [];
  const covered: PostureDiff['covered'] = [];
  const declared = after.report.declarations;
  const today = after.report.provenance.generatedAt.slice(0, 10);
  const expired: PostureDiff['expired'] = [];
  const open = (opening: string, declaration: string | undefined) => {
    const risks = declaration ? [] : acceptancesOf(declared.acceptedRisks, opening);
    const live = risks.find((r) => r.expires >= today);
    const by =
      declaration ??
      (live &&
        `acceptedRisks ${live.id}: ${live.reason} (approved by ${live.approvedBy}, until ${live.expires})`);
    if (by) covered.push({ opening, declaration: by });
    else {
      opened.push(opening);
      for (const r of risks) expired.push({ opening, acceptance: r.id, expired: r.expires });
    }
  };
  const invariants = after.report.invariants
    .map((inv) => ({
      id: inv.id,
      title: inv.title,
      before: before.report.invariants.find((b) => b.id === inv.id)?.passed ?? true,
      after: inv.passed,
    }))
    .filter((inv) => inv.before !== inv.after);
  for (const inv of invariants.filter((i) => i.before && !i.after))
    opened.push(`invariant ${inv.id} breaks: ${inv.title}`);

  const cells = (report: VerificationReport) => {
    const out = new Map<string, string>();
    for (const [from, row] of Object.entries(report.reachability.matrix)) {
      for (const [to, state] of Object.entries(row)) if (from !== to) out.set(`${from}\u0000${to}`, state);
    }
    for (const [segment, state] of Object.entries(report.reachability.inbound))
      out.set(`internet\u0000${segment}`, state);
    return out;
  };
  const [pathsBefore, pathsAfter] = [cells(before.report), cells(after.report)];
  const paths: PostureDiff['paths'] = [];
  for (const key of new Set([...pathsBefore.keys(), ...pathsAfter.keys()])) {
    const [from, to] = key.split('\u0000');
    const [b, a] = [pathsBefore.get(key) ?? 'none', pathsAfter.get(key) ?? 'none'];
    if (a === b) continue;
    const isOpened = NONE.has(b) && !NONE.has(a);
    paths.push({ from, to, before: b, after: a, opened: isOpened });
    if (!isOpened) continue;
    const flow = declared.flows.some((f) => f.from === from && f.to === to);
    const allowlist =
      to === 'internet' && a === 'via-firewall' && (declared.egressAllowlists[from] ?? []).length > 0;
    open(
      `path ${from} -> ${to}: ${a}`,
      flow
        ? `declared flow ${from} -> ${to} (${declared.source})`
        : allowlist
          ? `segments.${from}.egressAllowlist (${declared.source})`
          : undefined,
    );
  }

  const access: PostureDiff['access'] = [];
  const rolesOf = (r: VerificationReport) => Object.keys(r.access.cells);
  const NO_CELL: Cell = { read: { all: false, prefixes: [] }, write: { all: false, prefixes: [] } };
  for (const role of new Set([...rolesOf(before.report), ...rolesOf(after.report)])) {
    const [rowBefore, rowAfter] = [
      before.report.access.cells[role] ?? {},
      after.report.access.cells[role] ?? {},
    ];
    for (const zone of new Set([...Object.keys(rowBefore), ...Object.keys(rowAfter)])) {
      const [byOriginBefore, byOriginAfter] = [rowBefore[zone] ?? {}, rowAfter[zone] ?? {}];
      const [b, a] = [originsOfCell(byOriginBefore), originsOfCell(byOriginAfter)];
      if (a === b) continue;
      // Gained: from some origin, something that origin did not allow before.
      const gained = [...new Set([...Object.keys(byOriginBefore), ...Object.keys(byOriginAfter)])].some(
        (origin) => {
          const [cb, ca] = [byOriginBefore[origin] ?? NO_CELL, byOriginAfter[origin] ?? NO_CELL];
          return gains(cb.read, ca.read) || gains(cb.write, ca.write);
        },
      );
      access.push({ role, zone, before: b, after: a, gained });
      if (gained) open(`access ${role} on ${zone}: ${b} -> ${a}`, undefined);
    }
  }

  const exfiltrationCells = (r: VerificationReport) =>
    new Map<string, string | undefined>(
      r.exfiltration.flatMap((row) =>
        row.ways.map((way): [string, string | undefined] => [
          `${row.classification} ${row.zone}: ${row.principal} from ${row.origin} -> ${describe(way)}`,
          way.declaredBy,
        ]),
      ),
    );
  const [exBefore, exAfter] = [exfiltrationCells(before.report), exfiltrationCells(after.report)];
  const exfiltration = added([...exBefore.keys()], [...exAfter.keys()]);
  for (const cell of exfiltration.added) open(`exfiltration ${cell}`, exAfter.get(cell));

  const openFindings = (r: VerificationReport) =>
    r.ruleFindings.open.flatMap((f) => f.resources.map((res) => `${f.pack} ${f.rule} at ${res}`));
  const findings = added(openFindings(before.report), openFindings(after.report));
  for (const f of findings.added) open(`open finding ${f}`, undefined);
  const acks = (r: VerificationReport) =>
    acknowledgementGroups(r.ruleFindings.acknowledged).map((g) => `${g.pack} ${g.rule}: ${g.reason}`);

  return {
    baseline: before.report.provenance.assemblyHash,
    current: after.report.provenance.assemblyHash,
    invariants,
    paths,
    access,
    exfiltration,
    findings,
    acknowledgements: added(acks(before.report), acks(after.report)),
    resources: resourceChanges(before.assembly, after.assembly),
    opened,
    covered,
    expired,
  };
}

function added(before: string[], after: string[]): { added: string[]; removed: string[] } {
  const [b, a] = [new Set(before), new Set(after)];
  return { added: [...a].filter((x) => !b.has(x)).sort(), removed: [...b].filter((x) => !a.has(x)).sort() };
}

function securityResources(assembly: Assembly): Map<string, CfnResource> {
  return new Map(
    assembly.stacks.flatMap((s) =>
      Object.entries(s.template.Resources ?? {})
        .filter(([, r]) => SECURITY_RELEVANT.test(r.Type))
        .map(([id, r]) => [`${s.id}/${id}`, r] as const),
    ),
  );
}

function resourceChanges(before: Assembly, after: Assembly): PostureDiff['resources'] {
  const [b, a] = [securityResources(before), securityResources(after)];
  const out: PostureDiff['resources'] = [];
  for (const key of [...new Set([...b.keys(), ...a.keys()])].sort()) {
    const [rb, ra] = [b.get(key), a.get(key)];
    if (!rb || !ra) {
      const r = (ra ?? rb)!;
      out.push({ resource: key, type: r.Type, change: ra ? 'added' : 'removed', properties: [] });
      continue;
    }
    const fields = (r: CfnResource) => ({
      ...(r.Properties ?? {}),
      DeletionPolicy: r.DeletionPolicy,
      UpdateReplacePolicy: r.UpdateReplacePolicy,
    });
    const [fb, fa] = [fields(rb), fields(ra)] as Record<string, unknown>[];
    const properties = [...new Set([...Object.keys(fb), ...Object.keys(fa)])]
      .filter((p) => JSON.stringify(fb[p]) !== JSON.stringify(fa[p]))
      .sort();
    if (rb.Type !== ra.Type || properties.length > 0) {
      out.push({ resource: key, type: ra.Type, change: 'changed', properties });
    }
  }
  return out;
}

export function renderDiffMarkdown(d: PostureDiff): string {
  const out = ['# Posture diff', '', `Baseline assembly ${d.baseline}, current ${d.current}.`, ''];
  out.push(
    d.opened.length > 0
      ? `**${d.opened.length} openings no declaration of the config covers:**`
      : d.covered.length > 0
        ? '**Nothing opened that a declaration does not cover.**'
        : '**Nothing opened.**',
    '',
    ...d.opened.map((o) => `- ${o}`),
    '',
  );
  for (const e of d.expired) {
    out.push(`Acceptance ${e.acceptance} would cover "${e.opening}" but expired on ${e.expired}.`, '');
  }
  if (d.covered.length > 0) {
    out.push(
      `${d.covered.length} openings covered by a declaration:`,
      '',
      ...d.covered.map((c) => `- ${c.opening}: covered by ${c.declaration}`),
      '',
    );
  }
  const table = (title: string, head: string[], rows: string[][]) => {
    if (rows.length === 0) return;
    out.push(`## ${title}`, '', `| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`);
    for (const row of rows) out.push(`| ${row.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
    out.push('');
  };
  table(
    'Invariants',
    ['#', 'invariant', 'before', 'after'],
    d.invariants.map((i) => [String(i.id), i.title, i.before ? 'pass' : 'FAIL', i.after ? 'pass' : 'FAIL']),
  );
  table(
    'Paths',
    ['from', 'to', 'before', 'after'],
    d.paths.map((p) => [p.from, p.to, p.before, p.after]),
  );
  table(
    'Data access',
    ['role', 'zone', 'before', 'after'],
    d.access.map((a) => [a.role, a.zone, a.before, a.after]),
  );
  const list = (title: string, change: { added: string[]; removed: string[] }) => {
    if (change.added.length + change.removed.length === 0) return;
    out.push(
      `## ${title}`,
      '',
      ...change.added.map((x) => `- added: ${x}`),
      ...change.removed.map((x) => `- removed: ${x}`),
      '',
    );
  };
  list('Exfiltration', d.exfiltration);
  list('Open findings', d.findings);
  list('Acknowledgements', d.acknowledgements);
  table(
    'Security-relevant resources',
    ['resource', 'type', 'change', 'properties'],
    d.resources.map((r) => [r.resource, r.type, r.change, r.properties.join(', ')]),
  );
  return `${out.join('\n')}\n`;
}
