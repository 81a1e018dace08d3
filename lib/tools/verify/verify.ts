import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeAccess, type AccessMatrix } from './access';
import { analyzeCodeIntegrity } from './code-integrity';
import { analyzeDelivery, type DeliveryPath } from './delivery';
import type { Assembly } from './assembly';
import { analyzeExfiltration, describe, type ExfiltrationRow } from './exfiltration';
import { originsOfCell } from './matrix';
import { INVARIANTS, type Evidence, type Violation } from './invariants';
import {
  ACCEPTED_RISKS_METADATA_KEY,
  SEGMENTATION_METADATA_KEY,
  type AcceptedRiskRecord,
  type SegmentationMetadata,
} from '../../contract/metadata';
import { analyzeNetwork, type NetworkModel, type Reachability } from './network';
import { describeOversized, oversizedPolicies } from './policy-size';
import { renderHtml } from './html';
import { qualifierOf } from '../../contract/bootstrap';
import { AGNOSTIC } from './engine';
import { administrativeReach, bootstrapRoles, type AdministrativeReach } from './reach';
import { Resolver } from './resolve';
import {
  provenance,
  reviewerSummary,
  type Provenance,
  type ReportContext,
  type ReviewerSummary,
} from './summary';

export interface RuleFinding {
  readonly pack: string;
  readonly rule: string;
  readonly resources: string[];
  /** Present for acknowledged findings. */
  readonly reason?: string;
}

export interface VerificationReport {
  readonly provenance: Provenance;
  readonly passed: boolean;
  /** What a reviewer asks first: domains, corporate ranges, retention, Object Lock, detectors, subscribers. */
  readonly summary: ReviewerSummary;
  readonly invariants: { id: number; title: string; passed: boolean; violations: Violation[] }[];
  readonly reachability: Reachability;
  readonly access: AccessMatrix;
  /**
   * What the verifier took as declared: from the config given with --config, or from the templates
   * (the flows in their metadata, the domains in their firewall allowlists).
   */
  readonly declarations: {
    source: string;
    flows: { from: string; to: string; ports?: string }[];
    egressAllowlists: Record<string, readonly string[]>;
    /** Openings reviewers accepted, until their expiry. */
    acceptedRisks: readonly AcceptedRiskRecord[];
  };
  /** For each data class: who reads it from where, and the ways it could then leave (declared or not). */
  readonly exfiltration: ExfiltrationRow[];
  readonly network: Pick<NetworkModel, 'firewalls' | 'endpoints'> & {
    vpcs: { key: string; segment: string; kind?: string; cidr: string }[];
    subnets: { segment: string; tier?: string; zone: string; cidr: string }[];
  };
  readonly ruleFindings: { open: RuleFinding[]; acknowledged: RuleFinding[] };
  readonly controlMap: {
    id: number;
    hipaa: readonly string[];
    nist: readonly string[];
    resources: string[];
  }[];
  readonly unresolved: { stack: string; reason: string }[];
  /** Every signal path and whether its destination admits it (invariant 11). */
  readonly delivery: DeliveryPath[];
  /** Topics that carry alerts but have no subscriber: a warning, since subscribers are per account. */
  readonly silentTopics: string[];
  /** With a bootstrap template: who can change the blueprint's own policies, and how. */
  readonly administrativeReach?: AdministrativeReach & { readonly source: string };
}

/** Proves the invariants over the templates of an assembly, or names what breaks them. */
export async function verify(assembly: Assembly, context: ReportContext = {}): Promise<VerificationReport> {
  const resolver = new Resolver(assembly);
  const metadata = context.declared ?? mergedMetadata(assembly);
  const network = analyzeNetwork(assembly, resolver, metadata, context.ips);
  const access = await analyzeAccess(assembly, resolver, network, context.organizationId);
  const delivery = analyzeDelivery(assembly, resolver);
  const code = analyzeCodeIntegrity(assembly, resolver);
  const summary = reviewerSummary(assembly, resolver, metadata);
  const made = provenance(assembly, context);
  const acceptedRisks =
    context.acceptedRisks ??
    assembly.stacks.flatMap(
      (s) => (s.template.Metadata?.[ACCEPTED_RISKS_METADATA_KEY] ?? []) as AcceptedRiskRecord[],
    );
  const exfiltration = analyzeExfiltration({
    principals: access.principals,
    zones: access.zones,
    cells: access.access.cells,
    origins: access.origins,
    endpointWays: access.endpointWays,
    reachability: network.reachability,
    allowedDomains: summary.allowedDomains,
    declared: metadata,
    acceptedRisks,
    today: made.generatedAt.slice(0, 10),
    ...(context.egressAllowlists ? { egressAllowlists: context.egressAllowlists } : {}),
    ...(context.breakGlassEnabled !== undefined ? { breakGlassEnabled: context.breakGlassEnabled } : {}),
  });
  const violations = [
    ...network.violations,
    ...access.violations,
    ...exfiltration.violations,
    ...delivery.violations,
    ...code.violations,
    ...oversizedPolicies(assembly, resolver).map((p) => ({
      invariant: 7 as const,
      stack: p.stack,
      logicalId: p.logicalId,
      detail: describeOversized(p),
    })),
  ];
  const evidence: Evidence[] = [
    ...network.evidence,
    ...access.evidence,
    ...exfiltration.evidence,
    ...delivery.evidence,
    ...code.evidence,
  ];
  const vpcSegment = new Map(network.model.vpcs.map((v) => [v.key, v.segment]));
  let reach: VerificationReport['administrativeReach'];
  if (context.bootstrap) {
    const zone = access.zones[0];
    const places = zone
      ? { account: zone.account, region: zone.region, partition: zone.bucketArn.split(':')[1] }
      : AGNOSTIC;
    const roles = bootstrapRoles(
      context.bootstrap.template as Parameters<typeof bootstrapRoles>[0],
      places,
      qualifierOf(assembly.stacks.map((s) => s.template)),
    );
    reach = {
      source: context.bootstrap.source,
      ...(await administrativeReach(
        access.principals,
        access.zones,
        roles,
        context.organizationId ?? 'o-none',
        new Map(assembly.stacks.map((s) => [s.id, s.stackName])),
      )),
    };
  }
  return {
    provenance: made,
    summary,
    // Fails closed: a value the verifier could not resolve may hide a path or a grant.
    passed: violations.length === 0 && resolver.unresolved.length === 0,
    invariants: INVARIANTS.map((inv) => {
      const own = violations.filter((v) => v.invariant === inv.id);
      return { id: inv.id, title: inv.title, passed: own.length === 0, violations: own };
    }),
    reachability: network.reachability,
    access: access.access,
    declarations: {
      source: context.declared ? `config ${context.configSource ?? ''}`.trim() : 'templates',
      flows: [...(metadata.declaredFlows ?? [])],
      egressAllowlists: { ...(context.egressAllowlists ?? summary.allowedDomains) },
      acceptedRisks,
    },
    exfiltration: exfiltration.rows,
    network: {
      vpcs: network.model.vpcs.map((v) => ({ key: v.key, segment: v.segment, kind: v.kind, cidr: v.cidr })),
      subnets: network.model.subnets.map((s) => ({
        segment: vpcSegment.get(s.vpc) ?? '?',
        tier: s.tier,
        zone: s.zone,
        cidr: s.cidr,
      })),
      firewalls: network.model.firewalls,
      endpoints: network.model.endpoints,
    },
    ruleFindings: ruleFindings(assembly.validationReport),
    controlMap: INVARIANTS.map((inv) => ({
      id: inv.id,
      hipaa: inv.hipaa,
      nist: inv.nist,
      resources: [
        ...new Set(
          evidence.filter((e) => e.invariant === inv.id).map((e) => `${e.type} ${e.stack}/${e.logicalId}`),
        ),
      ],
    })),
    unresolved: resolver.unresolved,
    delivery: delivery.paths,
    silentTopics: delivery.silentTopics,
    ...(reach ? { administrativeReach: reach } : {}),
  };
}

function mergedMetadata(assembly: Assembly): SegmentationMetadata {
  const all = assembly.stacks.map(
    (s) => (s.template.Metadata?.[SEGMENTATION_METADATA_KEY] ?? {}) as SegmentationMetadata,
  );
  return {
    corporateCidrs: [...new Set(all.flatMap((m) => m.corporateCidrs ?? []))],
    declaredFlows: all.flatMap((m) => m.declaredFlows ?? []),
  };
}

interface ReportShape {
  pluginReports?: {
    pluginName: string;
    violations?: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
    suppressedViolations?: {
      ruleName: string;
      reason?: string;
      violatingConstructs: { constructPath: string }[];
    }[];
  }[];
}

function ruleFindings(report: unknown): VerificationReport['ruleFindings'] {
  const plugins = (report as ReportShape | undefined)?.pluginReports ?? [];
  const shape = (
    pack: string,
    v: { ruleName: string; reason?: string; violatingConstructs: { constructPath: string }[] },
  ) => ({
    pack,
    rule: v.ruleName,
    resources: v.violatingConstructs.map((c) => c.constructPath),
    ...(v.reason !== undefined ? { reason: v.reason } : {}),
  });
  return {
    open: plugins.flatMap((p) => (p.violations ?? []).map((v) => shape(p.pluginName, v))),
    acknowledged: plugins.flatMap((p) => (p.suppressedViolations ?? []).map((v) => shape(p.pluginName, v))),
  };
}

/** Writes report.json, report.md and report.html (self-contained: diagram rendered, tables sortable) into `dir`. */
export function writeReport(report: VerificationReport, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = renderMarkdown(report);
  writeFileSync(join(dir, 'report.md'), markdown);
  writeFileSync(join(dir, 'report.html'), renderHtml(markdown));
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function renderMarkdown(report: VerificationReport): string {
  const out: string[] = [];
  const { reachability: reach } = report;
  out.push('# Compliance evidence: AI segmentation blueprint', '');
  out.push(`**Result: ${report.passed ? 'every invariant holds' : 'invariants are broken'}.**`, '');
  const p = report.provenance;
  out.push(
    '| provenance | |',
    '| --- | --- |',
    `| config | ${cell(p.configSource)} |`,
    `| environment | ${p.environment} |`,
    `| name prefix | ${p.namePrefix} |`,
    `| commit | ${p.commit} |`,
    `| generated | ${p.generatedAt} |`,
    `| assembly SHA-256 | ${p.assemblyHash} |`,
    `| tools | ${cell(
      Object.entries({ 'cloud assembly schema': p.cloudAssemblySchema, ...p.tools })
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    )} |`,
    '',
  );
  for (const topic of report.silentTopics) {
    out.push(
      `**Warning: the alert topic ${topic} has no subscriber.** Every alarm and finding it carries reaches no one until an address is subscribed (audit.alertEmails) and confirmed.`,
      '',
    );
  }
  out.push(...reviewerSection(report.summary));
  out.push('## Invariants', '', '| # | invariant | result | violations |', '| --- | --- | --- | --- |');
  for (const inv of report.invariants) {
    out.push(
      `| ${inv.id} | ${cell(inv.title)} | ${inv.passed ? 'pass' : '**FAIL**'} | ${inv.violations.length} |`,
    );
  }
  const failing = report.invariants.flatMap((i) => i.violations);
  if (failing.length > 0) {
    out.push('', '### Violations', '', '| # | stack | resource | what |', '| --- | --- | --- | --- |');
    for (const v of failing)
      out.push(`| ${v.invariant} | ${v.stack} | ${cell(v.logicalId)} | ${cell(v.detail)} |`);
  }
  out.push(
    '',
    '## Reachability',
    '',
    "Outbound paths from each segment (rows); `via-firewall` passes a Network Firewall endpoint; in brackets, the ports the segment's security groups let out.",
    '',
  );
  const columns = [...reach.segments, 'internet', 'corporate'];
  out.push(
    `| from \\ to | ${columns.join(' | ')} | inbound from internet |`,
    `| --- | ${columns.map(() => '---').join(' | ')} | --- |`,
  );
  for (const from of reach.segments) {
    const shown = (to: string) => {
      if (to === from) return '(itself)';
      const ports = reach.ports[from]?.[to];
      return ports ? `${reach.matrix[from][to]} (${ports})` : reach.matrix[from][to];
    };
    out.push(`| ${from} | ${columns.map(shown).join(' | ')} | ${reach.inbound[from]} |`);
  }
  out.push(
    '',
    '## Data access',
    '',
    "Who can read (R: `s3:GetObject` or `s3:GetObjectVersion`, then `kms:Decrypt`) or write (W: `s3:PutObject` with the zone's key, then `kms:GenerateDataKey`) each data zone, and from where, as the policy engine (`@cloud-copilot/iam-simulate`) decides each request: identity policies, permission boundary, bucket policy, the origin's VPC endpoint policy, and the zone key's policy (S3 calls KMS on the caller's behalf). Origins are each segment (through its S3 endpoint), `off-network`, and any address range, endpoint or VPC the zones' policies name outside the segments. A letter alone means every object; `W[data-capture/]` means only under that prefix, `R[all but tmp/]` every object but under it; `R W[data-capture/]` reads every object and writes only under `data-capture/`. Every role is a row, with two principals no template names: another administrator of this account (allowed everything by its own policies, no boundary), asked also as each principal of the account the zones' policies name that is not a role of the assembly, and an administrator of another account in the organisation, asked also as each principal of another account the policies name.",
    '',
  );
  const zones = report.access.zones;
  out.push(
    `| principal | ${zones.map((z) => `${z.name} (${z.classification})`).join(' | ')} |`,
    `| --- | ${zones.map(() => '---').join(' | ')} |`,
  );
  for (const principal of Object.keys(report.access.rows)) {
    const shown = zones.map((z) => originsOfCell(report.access.cells[principal]?.[z.name] ?? {}));
    if (shown.every((x) => x === '-')) continue;
    out.push(`| ${cell(principal)} | ${shown.map(cell).join(' | ')} |`);
  }
  const silent = Object.keys(report.access.rows).filter((p) =>
    zones.every((z) => (report.access.rows[p][z.name] ?? '-') === '-'),
  );
  if (silent.length > 0)
    out.push('', `No access to any zone, from anywhere: ${silent.map(cell).join(', ')}.`);
  for (const [principal, roles] of Object.entries(report.access.assumable)) {
    if (roles.length === 0) continue;
    out.push(
      '',
      principal === 'another admin in this account'
        ? `${cell(principal)} may assume ${roles.map(cell).join(', ')} (their trust admits it); its row does not include what they reach: an administrator of the account is trusted with IAM, which no template can limit.`
        : `**${cell(principal)} may assume ${roles.map(cell).join(', ')}**: its row includes what they reach.`,
    );
  }
  if (report.administrativeReach) out.push(...reachSection(report.administrativeReach));
  out.push(
    '',
    '## Exfiltration',
    '',
    "For each data class, each principal that can read it, from where, and the ways the data could then leave: internet egress (with its domains), paths to other segments or the corporate network, an S3 endpoint that lets data into another account's bucket, reading off-network, another account, replication. phi and pii may leave only by a way the config declares (invariant 12): phi never by the internet, pii by the internet only under a live accepted risk. Declared is not safe: it means the config names the way, so a reviewer has approved it there. An allowlisted domain that accepts uploads (a code host, a model hub) is a way out for whoever reads in that segment.",
    '',
    '| class | zone | principal | from | ways out | declared by |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const row of report.exfiltration) {
    const ways = row.ways.length === 0 ? ['none'] : row.ways.map(describe);
    const declared =
      row.ways.length === 0 ? '-' : row.ways.map((w) => w.declaredBy ?? '**undeclared**').join('; ');
    out.push(
      `| ${row.classification} | ${row.zone} | ${cell(row.principal)} | ${row.origin} | ${cell(ways.join('; '))} | ${cell(declared)} |`,
    );
  }
  const today = report.provenance.generatedAt.slice(0, 10);
  const risks = report.declarations.acceptedRisks;
  out.push(
    '',
    '## Accepted risks',
    '',
    risks.length === 0
      ? 'None: the config accepts no risk.'
      : `Openings reviewers accepted (the config's \`acceptedRisks\`), as of ${today}: an expired acceptance covers nothing.`,
  );
  if (risks.length > 0) {
    out.push(
      '',
      '| id | opening | reason | approved by | until | status |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const r of risks)
      out.push(
        `| ${cell(r.id)} | ${cell(r.opening)} | ${cell(r.reason)} | ${cell(r.approvedBy)} | ${r.expires} | ${r.expires >= today ? 'live' : '**expired**'} |`,
      );
  }
  out.push(
    '',
    '## Signal delivery',
    '',
    "Each alarm action, event-rule target, dead-letter target and log delivery, and whether the destination's resource policy and key policy admit the publisher; each function's role against what its configuration needs.",
    '',
    '| kind | source | destination | result |',
    '| --- | --- | --- | --- |',
  );
  for (const path of report.delivery) {
    out.push(
      `| ${path.kind} | ${cell(path.source)} | ${cell(path.destination)} | ${path.passed ? 'admitted' : `**missing**: ${cell(path.missing.join('; '))}`} |`,
    );
  }
  out.push('', '## Network', '', '```mermaid', ...mermaid(report), '```', '');
  out.push(
    '## Rule packs',
    '',
    `Open findings: ${report.ruleFindings.open.length}. Acknowledged: ${report.ruleFindings.acknowledged.length}.`,
    '',
  );
  if (report.ruleFindings.open.length > 0) {
    out.push('| pack | rule | resources |', '| --- | --- | --- |');
    for (const f of report.ruleFindings.open)
      out.push(`| ${f.pack} | ${cell(f.rule)} | ${cell(f.resources.join(', '))} |`);
    out.push('');
  }
  const groups = acknowledgementGroups(report.ruleFindings.acknowledged);
  out.push(
    `Acknowledgements, one row per rule and reason (${groups.length}); the resources and findings of each follow the table.`,
    '',
    '| # | pack | rule | findings | reason |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const [i, g] of groups.entries()) {
    out.push(`| ${i + 1} | ${g.pack} | ${cell(g.rule)} | ${g.count} | ${cell(g.reason)} |`);
  }
  out.push('');
  for (const [i, g] of groups.entries()) {
    const details = g.details.length > 0 ? `; findings: ${g.details.map((d) => `\`${d}\``).join(', ')}` : '';
    out.push(`${i + 1}. ${g.pack} ${g.rule}: ${g.resources.join(', ')}${details}`);
  }
  out.push(
    '',
    '## Control map',
    '',
    '| # | HIPAA Security Rule | NIST 800-53 R5 | implemented by |',
    '| --- | --- | --- | --- |',
  );
  for (const c of report.controlMap) {
    const shown = c.resources.slice(0, 12);
    const more = c.resources.length > shown.length ? `, and ${c.resources.length - shown.length} more` : '';
    out.push(`| ${c.id} | ${c.hipaa.join(', ')} | ${c.nist.join(', ')} | ${cell(shown.join('; '))}${more} |`);
  }
  if (report.unresolved.length > 0) {
    out.push(
      '',
      '## Not resolved',
      '',
      'Values the verifier could not resolve; checks that needed them failed closed.',
      '',
    );
    for (const u of report.unresolved) out.push(`- ${u.stack}: ${u.reason}`);
  }
  return `${out.join('\n')}\n`;
}

function reviewerSection(summary: ReviewerSummary): string[] {
  const out = ['## What reviewers ask first', ''];
  out.push('| question | answer |', '| --- | --- |');
  for (const [segment, domains] of Object.entries(summary.allowedDomains).sort()) {
    out.push(
      `| internet domains of ${segment} | ${domains.length > 0 ? cell(domains.join(', ')) : 'none: no internet path'} |`,
    );
  }
  out.push(
    `| corporate network | ${summary.corporateRanges.join(', ') || 'no ranges declared'} |`,
    `| log retention (days: groups) | ${Object.entries(summary.logRetentionDays)
      .map(([days, n]) => `${days}: ${n}`)
      .join(', ')} |`,
    `| Object Lock | ${cell(summary.objectLock.map((b) => `${b.bucket} ${b.defaultRetention}`).join('; ') || 'no bucket')} |`,
    `| detective services | ${Object.entries(summary.detectiveServices)
      .map(([service, on]) => `${service} ${on ? 'on' : 'off'}`)
      .join(', ')} |`,
    `| code signing (unsigned code) | ${
      Object.entries(summary.codeSigning)
        .map(
          ([config, untrusted]) =>
            `${config}: ${untrusted === 'Enforce' ? 'refused (Enforce)' : 'deployed with a warning (Warn)'}`,
        )
        .join(', ') || 'no code-signing configuration'
    } |`,
    `| alert subscribers (per topic) | ${
      Object.entries(summary.topicSubscriptions)
        .map(([topic, n]) => `${topic}: ${n}`)
        .join(', ') || 'no topic'
    } |`,
    '',
  );
  return out;
}

/** A rule and reason acknowledged, with the resources and findings it covers. */
interface AcknowledgementGroup {
  readonly pack: string;
  readonly rule: string;
  readonly reason: string;
  readonly count: number;
  readonly resources: string[];
  /** The finding ids the rule reported (`[Resource::...]`), with CloudFormation references made readable. */
  readonly details: string[];
}

/** Acknowledged findings grouped by pack, rule (without its finding id) and reason. */
export function acknowledgementGroups(findings: readonly RuleFinding[]): AcknowledgementGroup[] {
  const groups = new Map<string, { pack: string; rule: string; reason: string; findings: RuleFinding[] }>();
  for (const f of findings) {
    const rule = f.rule.replace(/\[.*$/s, '');
    const reason = f.reason ?? '';
    const key = JSON.stringify([f.pack, rule, reason]);
    const group = groups.get(key) ?? { pack: f.pack, rule, reason, findings: [] };
    group.findings.push(f);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => ({
    pack: g.pack,
    rule: g.rule,
    reason: g.reason,
    count: g.findings.length,
    resources: [...new Set(g.findings.flatMap((f) => f.resources.map((r) => r.replace(/\/Resource$/, ''))))],
    details: [
      ...new Set(
        g.findings.flatMap((f) => {
          const id = /\[(.*)\]$/s.exec(f.rule)?.[1];
          return id ? [readableReferences(id)] : [];
        }),
      ),
    ],
  }));
}

/** Replaces the CloudFormation references in a finding id (JSON) with `${...}` forms a reader can follow. */
export function readableReferences(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '{') {
      const end = balancedEnd(text, i);
      if (end > i) {
        try {
          out += intrinsicText(JSON.parse(text.slice(i, end + 1)));
          i = end;
          continue;
        } catch {
          // not JSON: keep the brace as text
        }
      }
    }
    out += text[i];
  }
  return out;
}

function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let quoted = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

function intrinsicText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(intrinsicText).join(',');
  if (value === null || typeof value !== 'object') return String(value);
  const [fn, arg] = Object.entries(value as Record<string, unknown>)[0] ?? [];
  switch (fn) {
    case 'Ref':
      return `\${${String(arg)}}`;
    case 'Fn::GetAtt':
      return `\${${(arg as string[]).join('.')}}`;
    case 'Fn::GetStackOutput': {
      const { StackName, OutputName } = arg as { StackName: unknown; OutputName: unknown };
      return `\${${intrinsicText(StackName)} output ${intrinsicText(OutputName)}}`;
    }
    case 'Fn::ImportValue':
      return `\${import ${intrinsicText(arg)}}`;
    case 'Fn::Join': {
      const [delimiter, parts] = arg as [string, unknown[]];
      return parts.map(intrinsicText).join(delimiter);
    }
    default:
      return JSON.stringify(value);
  }
}

/**
 * The network as a Mermaid flowchart. Node ids are made by the verifier (`s0`, `s1`, ... per
 * segment; `net_internet`, `net_corporate`), never from names, so that a segment named `end`,
 * `default`, `internet` or `corporate` can neither break the syntax nor merge with another node;
 * names appear only in quoted labels, with the characters Mermaid reads escaped.
 */
function mermaid(report: VerificationReport): string[] {
  const label = (text: string) => text.replace(/["#<>&]/g, (c) => `#${c.charCodeAt(0)};`);
  const internet = 'net_internet';
  const corporate = 'net_corporate';
  const lines = ['flowchart LR', `  ${internet}(("internet"))`, `  ${corporate}(("corporate"))`];
  const segmentId = new Map(report.network.vpcs.map((v, i) => [v.segment, `s${i}`]));
  const tierId = (seg: string, tier: string) => `${seg}_${tier.replace(/[^A-Za-z0-9]/g, '_')}`;
  for (const [i, vpc] of report.network.vpcs.entries()) {
    const seg = `s${i}`;
    const subnets = report.network.subnets.filter((s) => s.segment === vpc.segment);
    const tiers = [...new Set(subnets.map((s) => s.tier ?? 'untagged'))];
    lines.push(`  subgraph ${seg}["${label(`${vpc.segment} (${vpc.kind ?? 'untagged'}) ${vpc.cidr}`)}"]`);
    for (const tier of tiers) {
      const count = subnets.filter((s) => (s.tier ?? 'untagged') === tier).length;
      lines.push(`    ${tierId(seg, tier)}["${label(`${tier} subnets x${count}`)}"]`);
    }
    const endpoints = report.network.endpoints.filter((e) => e.vpc === vpc.key).length;
    if (endpoints > 0) lines.push(`    ${seg}_endpoints["${endpoints} VPC endpoints"]`);
    lines.push('  end');
    const [workload, firewall, publicTier] = ['workload', 'firewall', 'public'].map((t) => tierId(seg, t));
    if (endpoints > 0 && tiers.includes('workload')) lines.push(`  ${workload} --> ${seg}_endpoints`);
    const state = report.reachability.matrix[vpc.segment]?.internet;
    if (state === 'via-firewall') {
      lines.push(`  ${workload} --> ${firewall} --> ${publicTier} --> ${internet}`);
    } else if (tiers.includes('firewall')) {
      lines.push(`  ${workload} --> ${firewall}`, `  ${firewall} -. drops .-> ${internet}`);
    }
    for (const to of report.reachability.segments) {
      const target = segmentId.get(to);
      if (target && to !== vpc.segment && report.reachability.matrix[vpc.segment][to] !== 'none')
        lines.push(`  ${seg} --> ${target}`);
    }
    if (report.reachability.matrix[vpc.segment]?.corporate !== 'none')
      lines.push(`  ${seg} --> ${corporate}`);
  }
  return lines;
}

function reachSection(reach: NonNullable<VerificationReport['administrativeReach']>): string[] {
  const shown = (c: { direct: number; throughCloudFormation: number; of: number }) => {
    if (c.direct === 0 && c.throughCloudFormation === 0) return '-';
    const parts = [
      ...(c.direct > 0 ? [`${c.direct} directly`] : []),
      ...(c.throughCloudFormation > 0 ? [`${c.throughCloudFormation} through CloudFormation`] : []),
    ];
    return `${parts.join(', ')} (of ${c.of})`;
  };
  const out = [
    '',
    '## Administrative reach',
    '',
    `With the bootstrap template ${cell(reach.source)}: which principals can change the blueprint's own policies (the zones' bucket policies, the keys' policies, the roles' policies), themselves or through CloudFormation. A principal that may assume the deploy role (${cell(reach.deployRole)}) starts CloudFormation, which acts as the execution role (${cell(reach.executionRole)}) with whatever its policies allow. Each step is the policy engine's decision on the concrete documents; \`-\` is none.`,
    '',
  ];
  if (reach.unreadable.length > 0)
    out.push(
      `Managed policies the verifier cannot read, taken to allow everything: ${reach.unreadable.map(cell).join(', ')}.`,
      '',
    );
  out.push(
    '| principal | assumes the deploy role | bucket policies | key policies | role policies |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const row of reach.rows) {
    const cells = [row.bucketPolicies, row.keyPolicies, row.rolePolicies].map(shown);
    if (!row.deploys && cells.every((c) => c === '-')) continue;
    out.push(`| ${cell(row.principal)} | ${row.deploys ? 'yes' : 'no'} | ${cells.join(' | ')} |`);
  }
  const none = reach.rows.filter(
    (r) => !r.deploys && [r.bucketPolicies, r.keyPolicies, r.rolePolicies].every((c) => shown(c) === '-'),
  );
  if (none.length > 0) out.push('', `No reach: ${none.map((r) => cell(r.principal)).join(', ')}.`);
  return out;
}
