import { evaluate, type Decision, type EngineRequest, type PolicyDocument } from './engine';
import { actionMatches, matches, strings, type Statement } from './policy';

/**
 * The access matrix: who can read and write each data zone, from where. Every cell is the policy
 * engine's decision on the requests a read (s3:GetObject, then kms:Decrypt by S3 on the caller's
 * behalf) and a write (s3:PutObject with the zone's key, then kms:GenerateDataKey) make, with the
 * request context the origin implies.
 */

/** Who asks: a role of the assembly, or one of the two principals every review asks about. */
export interface AccessPrincipal {
  readonly name: string;
  readonly kind: 'role' | 'another-admin' | 'another-account';
  readonly arn: string;
  readonly account: string;
  /** The role's `ai-segmentation:role` tag. */
  readonly role?: string;
  readonly human: boolean;
  readonly stack?: string;
  readonly logicalId?: string;
  readonly identity: readonly PolicyDocument[];
  readonly boundary?: readonly PolicyDocument[];
}

/** From where: a segment (through its S3 endpoint, or without one) or off every network of the blueprint. */
export interface Origin {
  readonly name: string;
  readonly segment?: string;
  /** The segment's S3 endpoint: its id for `aws:SourceVpce`, its VPC, its policy. */
  readonly endpoint?: { readonly id: string; readonly vpc: string; readonly policy?: PolicyDocument };
  /** False for a segment with neither an S3 endpoint nor a path to the internet: it cannot reach S3. */
  readonly reachesS3: boolean;
}

export interface Zone {
  readonly name: string;
  readonly classification: string;
  readonly stack: string;
  readonly logicalId: string;
  readonly bucketArn: string;
  readonly account: string;
  readonly region: string;
  readonly keyArn: string;
  readonly bucketPolicy?: PolicyDocument;
  readonly keyPolicy?: PolicyDocument;
}

/** Object keys an action is allowed on: every key (less exceptions), or only keys under some prefixes. */
export interface Grant {
  readonly all: boolean;
  /** With `all`, the prefixes refused; without, the prefixes allowed (none: no access). */
  readonly prefixes: string[];
}

export interface Cell {
  readonly read: Grant;
  readonly write: Grant;
}

export const OFF_NETWORK = 'off-network';
/** The address an off-network request comes from (TEST-NET-2, RFC 5737). */
const OFF_NETWORK_IP = '198.51.100.7';
/** The organisation of the account when neither the config nor the templates name one. */
export const SOME_ORGANISATION = 'o-blueprint000';
const NONE: Grant = { all: false, prefixes: [] };
const PROBE = 'verifier-probe';

export interface MatrixResult {
  /** cells[principal][zone][origin] */
  readonly cells: Record<string, Record<string, Record<string, Cell>>>;
  /** Requests the engine could not evaluate: the matrix is incomplete where they are. */
  readonly errors: { principal: string; zone: string; request: string; error: string }[];
}

export async function accessMatrix(
  principals: readonly AccessPrincipal[],
  zones: readonly Zone[],
  origins: readonly Origin[],
  /** The account's organisation; "another account" is in it too (the more permissive case). */
  organisation: string = SOME_ORGANISATION,
): Promise<MatrixResult> {
  const cells: MatrixResult['cells'] = {};
  const errors: MatrixResult['errors'] = [];
  const allowed = async (p: AccessPrincipal, z: Zone, request: EngineRequest) => {
    const decision: Decision = await evaluate(request);
    if (decision.startsWith('error:'))
      errors.push({
        principal: p.name,
        zone: z.name,
        request: `${request.action} ${request.resource}`,
        error: decision,
      });
    return decision === 'Allowed';
  };
  const probesOf = new Map(zones.map((z) => [z, probeKeys(z, principals)]));
  for (const principal of principals) {
    cells[principal.name] = {};
    for (const z of zones) {
      const probes = probesOf.get(z) ?? [];
      // "Another account" is every account the zone's policies name besides its own (or one they do not).
      const asked =
        principal.kind === 'another-account'
          ? foreignAccounts(z, principal.account).map((account) => ({
              ...principal,
              account,
              arn: principal.arn.replace(`::${principal.account}:`, `::${account}:`),
            }))
          : [principal];
      const rows: Record<string, Cell>[] = [];
      for (const p of asked) rows.push(await zoneCells(p, z, probes));
      cells[principal.name][z.name] = Object.fromEntries(
        origins.map((o) => [
          o.name,
          { read: union(rows.map((r) => r[o.name].read)), write: union(rows.map((r) => r[o.name].write)) },
        ]),
      );
    }
  }
  async function zoneCells(
    p: AccessPrincipal,
    z: Zone,
    probes: { prefix: string; probe: string }[],
  ): Promise<Record<string, Cell>> {
    const row: Record<string, Cell> = {};
    const base = (origin: Origin | undefined) => ({
      principal: p.arn,
      resourceAccount: z.account,
      identityPolicies: p.identity,
      ...(p.boundary ? { boundary: p.boundary } : {}),
      context: context(p, z, origin, organisation),
    });
    // S3 calls KMS with the caller's credentials: the key policy decides, from no VPC endpoint.
    const kms = async (action: string) =>
      allowed(p, z, {
        ...base(undefined),
        action,
        resource: z.keyArn,
        ...(z.keyPolicy ? { resourcePolicy: z.keyPolicy } : {}),
        context: {
          ...context(p, z, undefined, organisation),
          'kms:ViaService': `s3.${z.region}.amazonaws.com`,
          'kms:CallerAccount': p.account,
          'aws:ViaAWSService': 'true',
          'aws:CalledVia': ['s3.amazonaws.com'],
          'aws:CalledViaFirst': 's3.amazonaws.com',
          'aws:CalledViaLast': 's3.amazonaws.com',
          'kms:EncryptionContext:aws:s3:arn': z.bucketArn,
        },
      });
    let decrypt: Promise<boolean> | undefined;
    let generate: Promise<boolean> | undefined;
    for (const origin of origins) {
      if (!origin.reachesS3) {
        row[origin.name] = { read: NONE, write: NONE };
        continue;
      }
      const s3 = async (action: string, extra: Record<string, string> = {}) => {
        const results: [string, boolean][] = [];
        for (const key of probes) {
          const resource = `${z.bucketArn}/${key.probe}`;
          if (!mayAllow(p, z, action, resource)) {
            results.push([key.prefix, false]);
            continue;
          }
          const request: EngineRequest = {
            ...base(origin),
            action,
            resource,
            ...(z.bucketPolicy ? { resourcePolicy: z.bucketPolicy } : {}),
            ...(origin.endpoint?.policy ? { endpointPolicy: origin.endpoint.policy } : {}),
            context: { ...base(origin).context, ...extra },
          };
          results.push([key.prefix, await allowed(p, z, request)]);
        }
        return grantOf(results);
      };
      let read = await s3('s3:GetObject');
      let write = await s3('s3:PutObject', {
        's3:x-amz-server-side-encryption': 'aws:kms',
        's3:x-amz-server-side-encryption-aws-kms-key-id': z.keyArn,
      });
      if (granted(read) && !(await (decrypt ??= kms('kms:Decrypt')))) read = NONE;
      if (granted(write) && !(await (generate ??= kms('kms:GenerateDataKey')))) write = NONE;
      row[origin.name] = { read, write };
    }
    return row;
  }
  return { cells, errors };
}

function context(
  p: AccessPrincipal,
  z: Zone,
  origin: Origin | undefined,
  organisation: string,
): Record<string, string | string[]> {
  return {
    'aws:PrincipalArn': p.arn,
    'aws:PrincipalAccount': p.account,
    'aws:PrincipalOrgID': organisation,
    'aws:PrincipalType': 'AssumedRole',
    'aws:PrincipalIsAWSService': 'false',
    'aws:ResourceAccount': z.account,
    'aws:ResourceOrgID': organisation,
    'aws:SecureTransport': 'true',
    's3:TlsVersion': '1.3',
    'aws:ViaAWSService': 'false',
    ...(p.human ? { 'aws:MultiFactorAuthPresent': 'true' } : {}),
    ...(origin?.endpoint
      ? { 'aws:SourceVpce': origin.endpoint.id, 'aws:SourceVpc': origin.endpoint.vpc }
      : origin
        ? { 'aws:SourceIp': OFF_NETWORK_IP }
        : {}),
  };
}

/** An account no policy names, and each account the zone's bucket and key policies name besides its own. */
function foreignAccounts(z: Zone, unnamed: string): string[] {
  const named = JSON.stringify([z.bucketPolicy, z.keyPolicy]).match(/(?<!\d)\d{12}(?!\d)/g) ?? [];
  return [unnamed, ...[...new Set(named)].filter((a) => a !== z.account && a !== unnamed).sort()];
}

/**
 * Whether any policy could allow the action at all (ignoring conditions): an identity statement
 * (same account) or a bucket-policy statement. When none can, the engine's answer is a deny and
 * the request is not made.
 */
function mayAllow(p: AccessPrincipal, z: Zone, action: string, resource: string): boolean {
  const allows = (s: Statement) =>
    s.Effect === 'Allow' &&
    (s.NotAction !== undefined || strings(s.Action).some((a) => actionMatches(a, action)));
  const covers = (s: Statement) =>
    s.NotResource !== undefined ||
    strings(s.Resource).some((res) => res.includes('${') || matches(res, resource));
  const identity =
    p.account === z.account && p.identity.some((d) => d.Statement.some((s) => allows(s) && covers(s)));
  return identity || (z.bucketPolicy?.Statement.some(allows) ?? false);
}

/**
 * The object keys to ask about: one under each prefix a policy names in the zone (a grant or a
 * deny on `bucket/data-capture/*` makes `data-capture/` one), and one under none of them.
 */
function probeKeys(z: Zone, principals: readonly AccessPrincipal[]): { prefix: string; probe: string }[] {
  const docs = [...principals.flatMap((p) => [...p.identity, ...(p.boundary ?? [])]), z.bucketPolicy];
  const prefixes = new Set<string>();
  for (const doc of docs) {
    for (const s of doc?.Statement ?? []) {
      for (const res of [...strings(s.Resource), ...strings(s.NotResource)]) {
        if (!res.startsWith(`${z.bucketArn}/`)) continue;
        const prefix = res.slice(z.bucketArn.length + 1).split(/[*?]|\$\{/)[0];
        if (prefix) prefixes.add(prefix);
      }
    }
  }
  let unlisted = `${PROBE}/object`;
  while ([...prefixes].some((x) => unlisted.startsWith(x))) unlisted = `_${unlisted}`;
  return [
    { prefix: '', probe: unlisted },
    ...[...prefixes].sort().map((prefix) => ({ prefix, probe: `${prefix}${PROBE}` })),
  ];
}

/** results: [prefix, allowed], the unlisted probe first with prefix ''. */
function grantOf(results: [string, boolean][]): Grant {
  const [[, anywhere], ...named] = results;
  if (anywhere) return { all: true, prefixes: named.filter(([, ok]) => !ok).map(([x]) => x) };
  const allowedPrefixes = named.filter(([, ok]) => ok).map(([x]) => x);
  // A prefix inside another allowed one says nothing more.
  return {
    all: false,
    prefixes: allowedPrefixes.filter((x) => !allowedPrefixes.some((y) => y !== x && x.startsWith(y))),
  };
}

export const granted = (g: Grant) => g.all || g.prefixes.length > 0;

/** The union of grants (the principal's reach over several origins). */
export function union(grants: readonly Grant[]): Grant {
  if (grants.some((g) => g.all)) {
    const exceptions = grants.filter((g) => g.all).map((g) => new Set(g.prefixes));
    const [first, ...rest] = exceptions;
    const allowedElsewhere = new Set(grants.filter((g) => !g.all).flatMap((g) => g.prefixes));
    return {
      all: true,
      prefixes: [...first].filter((x) => rest.every((s) => s.has(x)) && !allowedElsewhere.has(x)),
    };
  }
  const all = [...new Set(grants.flatMap((g) => g.prefixes))].sort();
  return { all: false, prefixes: all.filter((x) => !all.some((y) => y !== x && x.startsWith(y))) };
}

/** `R`, `W`, `RW`, `-`; prefix-limited access as `W[data-capture/]`, exceptions as `R[all but tmp/]`. */
export function cellText(cell: Cell): string {
  const part = (letter: string, g: Grant) =>
    !granted(g)
      ? ''
      : g.all
        ? g.prefixes.length === 0
          ? letter
          : `${letter}[all but ${g.prefixes.join(', ')}]`
        : `${letter}[${g.prefixes.join(', ')}]`;
  const [r, w] = [part('R', cell.read), part('W', cell.write)];
  if (!r && !w) return '-';
  return r.length <= 1 && w.length <= 1 ? `${r}${w}` : [r, w].filter(Boolean).join(' ');
}

/** Whether `after` grants something `before` did not (a prefix, an exception lifted, a new letter). */
export function gains(before: Grant, after: Grant): boolean {
  if (!granted(after)) return false;
  if (!granted(before)) return true;
  if (after.all && !before.all) return true;
  if (after.all && before.all) return before.prefixes.some((x) => !after.prefixes.includes(x));
  if (before.all) return false;
  return after.prefixes.some((x) => !before.prefixes.some((y) => x.startsWith(y)));
}

/** A zone's cell for one principal: what it may do, with the origins it may do it from. */
export function originsOfCell(byOrigin: Record<string, Cell>): string {
  const groups = new Map<string, string[]>();
  for (const [origin, c] of Object.entries(byOrigin)) {
    const text = cellText(c);
    if (text !== '-') groups.set(text, [...(groups.get(text) ?? []), origin]);
  }
  return groups.size === 0
    ? '-'
    : [...groups].map(([text, origins]) => `${text} from ${origins.join(', ')}`).join('; ');
}
