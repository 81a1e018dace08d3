import { MALWARE_SCAN_VALIDATION_KEY } from '../../airlock';
import { AIRLOCK_EXPORT_ZONE, AIRLOCK_IMPORT_ZONE } from '../../contract/classification';
import { internetOpening, type AcceptedRiskRecord, type SegmentationMetadata } from '../../contract/metadata';
import type { Evidence, Violation } from './invariants';
import { granted, type AccessPrincipal, type Cell, type Origin, type Zone } from './matrix';
import type { Reachability } from './network';

/**
 * The exfiltration matrix: for each data class, who can read it from where, and the ways the data
 * could then leave. A way is declared when the config names it (a segment's egress allowlist, a
 * declared flow); reading from off-network or from another account is a way no config declares.
 * Personal data is held to more: phi may leave by no internet path at all, and pii only where a
 * live accepted risk names the segment's internet path as well as the allowlist admitting it.
 */

/** One way out, and the declaration that covers it (none: undeclared). */
export interface Way {
  readonly kind:
    'internet' | 'corporate' | 'segment' | 'off-network' | 'another-account' | 'endpoint' | 'replication';
  readonly to: string;
  /** For internet egress checked against the config: the domains the config's allowlist lacks. */
  readonly outside?: string[];
  readonly declaredBy?: string;
  /** For personal data: why an allowlisted internet path is still not a declared way. */
  readonly unaccepted?: string;
}

export interface ExfiltrationRow {
  readonly classification: string;
  readonly zone: string;
  readonly principal: string;
  readonly origin: string;
  readonly ways: Way[];
}

export interface ExfiltrationInput {
  readonly principals: readonly AccessPrincipal[];
  readonly zones: readonly Zone[];
  readonly cells: Record<string, Record<string, Record<string, Cell>>>;
  /** The origins of the matrix: segments, and places off every network of the blueprint. */
  readonly origins: readonly Origin[];
  /** Per segment: its S3 endpoints that let data into another account's bucket. */
  readonly endpointWays: Readonly<Record<string, string[]>>;
  readonly reachability: Reachability;
  /** The domains each segment's firewall allowlist admits (from the templates). */
  readonly allowedDomains: Readonly<Record<string, string[]>>;
  readonly declared: SegmentationMetadata;
  /** Openings reviewers accepted (the config's `acceptedRisks`), each until its expiry. */
  readonly acceptedRisks: readonly AcceptedRiskRecord[];
  /** The day of the report (YYYY-MM-DD): an acceptance that expired before it covers nothing. */
  readonly today: string;
  /** Each segment's egress allowlist as the config the user named gives it (with --config). */
  readonly egressAllowlists?: Readonly<Record<string, readonly string[]>>;
  /**
   * Whether the config enables the break-glass role (with --config): an emergency role is declared
   * to read from wherever its holder is. Without --config, a break-glass role in the templates is.
   */
  readonly breakGlassEnabled?: boolean;
}

/** Data about people: it may leave only by a declared way. */
const PERSONAL = new Set(['phi', 'pii']);

export function analyzeExfiltration(input: ExfiltrationInput): {
  rows: ExfiltrationRow[];
  violations: Violation[];
  evidence: Evidence[];
} {
  const rows: ExfiltrationRow[] = [];
  const violations: Violation[] = [];
  const evidence: Evidence[] = [];
  const flag = (z: Zone, principal: string, origin: string, way: Way) =>
    violations.push({
      invariant: 12,
      stack: z.stack,
      logicalId: z.logicalId,
      detail: `${z.classification} zone ${z.name} can leave by an undeclared way: ${principal} reads it from ${origin}, then ${describe(way)}`,
    });
  const zoneArns = new Set(input.zones.map((z) => z.bucketArn));
  for (const z of input.zones) {
    // Replication copies every object out, whoever reads: a way out unless it lands in a zone of the blueprint.
    const replicated = z.replication
      .filter((d) => !zoneArns.has(d.bucket) || (d.account !== undefined && d.account !== z.account))
      .map((d): Way => ({
        kind: 'replication',
        to: d.account ? `${d.bucket} (account ${d.account})` : d.bucket,
      }));
    if (replicated.length > 0) {
      rows.push({
        classification: z.classification,
        zone: z.name,
        principal: 'S3 replication',
        origin: '-',
        ways: replicated,
      });
      if (PERSONAL.has(z.classification))
        for (const way of replicated) flag(z, 'S3 replication', 'the bucket', way);
    }
    const inbound = inboundDeclaration(z, input);
    for (const p of input.principals) {
      const outbound = exportDeclaration(z, p, input);
      for (const [origin, cell] of Object.entries(input.cells[p.name]?.[z.name] ?? {})) {
        if (!granted(cell.read)) continue;
        const ways = waysOut(p, origin, input)
          .map((w) => heldToClass(w, z.classification, p, origin, input))
          .map((w): Way => {
            const by = inbound ?? (w.kind === 'off-network' ? outbound : undefined);
            if (!by || w.declaredBy !== undefined) return w;
            return {
              kind: w.kind,
              to: w.to,
              ...(w.outside ? { outside: w.outside } : {}),
              declaredBy: by,
            };
          });
        rows.push({ classification: z.classification, zone: z.name, principal: p.name, origin, ways });
        if (!PERSONAL.has(z.classification)) continue;
        for (const way of ways.filter((w) => w.declaredBy === undefined)) flag(z, p.name, origin, way);
      }
    }
    evidence.push({ invariant: 12, stack: z.stack, logicalId: z.logicalId, type: 'AWS::S3::Bucket' });
  }
  return { rows, violations, evidence };
}

/** The roles the airlock's import zone may be written by: its importers, and GuardDuty's validation object. */
const IMPORTER = 'airlock-importer';
const SCANNER = 'airlock-scanner';

/**
 * The airlock's import zone holds what importers bring in from outside: reading it back out tells
 * no one what was held inside. That holds while only importers write it (and GuardDuty its
 * validation object); a zone of that name with any other writer gets no such declaration.
 */
function inboundDeclaration(z: Zone, input: ExfiltrationInput): string | undefined {
  if (z.zone !== AIRLOCK_IMPORT_ZONE) return undefined;
  const writes = (p: AccessPrincipal) =>
    Object.values(input.cells[p.name]?.[z.name] ?? {})
      .map((c) => c.write)
      .filter(granted);
  const writers = input.principals.filter((p) => writes(p).length > 0);
  const others = writers.filter((p) => {
    if (p.role === IMPORTER) return false;
    if (p.role === SCANNER)
      return !writes(p).every((g) => !g.all && g.prefixes.every((x) => x === MALWARE_SCAN_VALIDATION_KEY));
    return true;
  });
  if (!writers.some((p) => p.role === IMPORTER) || others.length > 0) return undefined;
  return `the airlock: zone ${z.name} holds only uploads from outside (written by ${writers
    .filter((p) => p.role === IMPORTER)
    .map((p) => p.name)
    .join(', ')} alone)`;
}

/** The airlock's export roles: the function that stages and sends, and the people who review. */
const EXPORTER = 'airlock-exporter';
const REVIEWER = 'airlock-reviewer';

/**
 * The airlock's export is a declared way out for data that is not phi: its exporter reads a source
 * zone from off-network to stage what a requester asked for, and sends it on only when a reviewer
 * approves; its reviewers read the export zone to decide. The export zone's reading is declared
 * only while the exporter alone writes it (so that it holds only what was asked for), and never
 * for phi: phi leaves by no way at all, the airlock's included.
 */
function exportDeclaration(z: Zone, p: AccessPrincipal, input: ExfiltrationInput): string | undefined {
  if (z.classification === 'phi') return undefined;
  if (p.role === EXPORTER)
    return `the airlock export: ${p.name} stages what a requester asks for, and sends it out only on a reviewer's approval`;
  if (p.role !== REVIEWER || z.zone !== AIRLOCK_EXPORT_ZONE) return undefined;
  const writers = input.principals.filter((w) =>
    Object.values(input.cells[w.name]?.[z.name] ?? {}).some((c) => granted(c.write)),
  );
  if (writers.length === 0 || writers.some((w) => w.role !== EXPORTER)) return undefined;
  return `the airlock export's review: ${p.name} reads what waits in zone ${z.name}, written by ${writers
    .map((w) => w.name)
    .join(', ')} alone`;
}

function waysOut(p: AccessPrincipal, origin: string, input: ExfiltrationInput): Way[] {
  const ways: Way[] = [];
  if (p.kind === 'another-account') ways.push({ kind: 'another-account', to: 'another account' });
  if (input.origins.find((o) => o.name === origin)?.kind !== 'segment') {
    const breakGlass = breakGlassDeclaration(p, input);
    ways.push({
      kind: 'off-network',
      to: 'anywhere the credentials are used',
      ...(breakGlass ? { declaredBy: breakGlass } : {}),
    });
    return ways;
  }
  const flow = (to: string) =>
    (input.declared.declaredFlows ?? []).some((f) => f.from === origin && f.to === to)
      ? `declared flow ${origin} -> ${to}`
      : undefined;
  for (const endpoint of input.endpointWays[origin] ?? [])
    ways.push({ kind: 'endpoint', to: `another account's bucket, through S3 endpoint ${endpoint}` });
  for (const [to, state] of Object.entries(input.reachability.matrix[origin] ?? {})) {
    if (state === 'none' || to === origin) continue;
    if (to === 'internet') {
      const domains = input.allowedDomains[origin] ?? [];
      const config = input.egressAllowlists?.[origin];
      const outside = config ? domains.filter((d) => !config.includes(d)) : [];
      const covered = state === 'via-firewall' && domains.length > 0 && outside.length === 0;
      const declaredBy = !covered
        ? undefined
        : config
          ? `segments.${origin}.egressAllowlist of the config`
          : `the firewall allowlist of ${origin} (templates)`;
      ways.push({
        kind: 'internet',
        to: domains.length > 0 ? domains.join(', ') : 'any domain',
        ...(outside.length > 0 ? { outside } : {}),
        ...(declaredBy ? { declaredBy } : {}),
      });
    } else {
      const declaredBy = flow(to);
      ways.push({
        kind: to === 'corporate' ? 'corporate' : 'segment',
        to,
        ...(declaredBy ? { declaredBy } : {}),
      });
    }
  }
  return ways;
}

/** The declaration of an emergency role that reads from wherever its holder is, if `p` is one. */
function breakGlassDeclaration(p: AccessPrincipal, input: ExfiltrationInput): string | undefined {
  if (p.role !== 'break-glass' || input.breakGlassEnabled === false) return undefined;
  return input.breakGlassEnabled
    ? 'identities.breakGlass.enabled of the config'
    : 'the break-glass role (templates)';
}

/**
 * A way out as the class of the data allows it: an internet path out of a segment, even through
 * an allowlist, carries phi never and pii only under a live accepted risk that names the path.
 * The break-glass role is the exception its declaration makes: it reads from anywhere already.
 */
function heldToClass(
  way: Way,
  classification: string,
  p: AccessPrincipal,
  origin: string,
  input: ExfiltrationInput,
): Way {
  if (way.kind !== 'internet' || !PERSONAL.has(classification) || way.declaredBy === undefined) return way;
  const breakGlass = breakGlassDeclaration(p, input);
  if (breakGlass) return { ...way, declaredBy: `${breakGlass}: it reads from anywhere` };
  const opening = internetOpening(origin);
  const risks =
    // Named exactly, as config validation requires: a pattern would declare every segment's path.
    classification === 'pii' ? input.acceptedRisks.filter((r) => r.opening === opening) : [];
  const live = risks.find((r) => r.expires >= input.today);
  const { declaredBy: allowlist, ...undeclared } = way;
  if (live)
    return {
      ...way,
      declaredBy: `${allowlist}, under acceptedRisks ${live.id} (approved by ${live.approvedBy}, until ${live.expires})`,
    };
  const why =
    classification === 'phi'
      ? 'phi may not leave by the internet at all'
      : risks.length > 0
        ? `acceptedRisks ${risks.map((r) => `${r.id} expired ${r.expires}`).join(', ')}`
        : `no accepted risk names "${opening}"`;
  return { ...undeclared, unaccepted: why };
}

export function describe(way: Way): string {
  switch (way.kind) {
    case 'internet':
      return way.outside
        ? `the internet (${way.outside.join(', ')}: not in the config's allowlist)`
        : `the internet (${way.to})${way.unaccepted ? `: allowlisted, but ${way.unaccepted}` : ''}`;
    case 'corporate':
      return 'the corporate network';
    case 'segment':
      return `segment ${way.to}`;
    case 'off-network':
      return 'off every network of the blueprint';
    case 'another-account':
      return 'another account';
    case 'endpoint':
      return way.to;
    case 'replication':
      return `replication to ${way.to}`;
  }
}
