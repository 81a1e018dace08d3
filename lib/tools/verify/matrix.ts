import { CODEARTIFACT_ASSET_BUCKETS } from '../../mirrors';
import { evaluate, type Decision, type EngineRequest, type PolicyDocument } from './engine';
import { appliesTo, mayAllowIn, strings } from './policy';

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
  /** A segment of the assembly, or somewhere outside every segment (off-network, a named range or endpoint). */
  readonly kind: 'segment' | 'off-network';
  readonly segment?: string;
  /** For an off-network origin: the address requests come from. */
  readonly sourceIp?: string;
  /** The segment's S3 endpoint: its id for `aws:SourceVpce`, its VPC, its policy. */
  readonly endpoint?: { readonly id: string; readonly vpc: string; readonly policy?: PolicyDocument };
  /** False for a segment with neither an S3 endpoint nor a path to the internet: it cannot reach S3. */
  readonly reachesS3: boolean;
}

export interface Zone {
  /** Unique among the zones: the zone tag, or with the bucket when two buckets carry one tag. */
  readonly name: string;
  /** The `ai-segmentation:data-zone` tag. */
  readonly zone: string;
  readonly classification: string;
  readonly stack: string;
  readonly logicalId: string;
  readonly bucketArn: string;
  readonly account: string;
  readonly region: string;
  readonly keyArn: string;
  /** Block Public Access restricts public bucket policies (RestrictPublicBuckets). */
  readonly blockPublicAccess: boolean;
  /** S3 Bucket Keys on: S3 gives KMS the bucket's ARN as encryption context, else the object's. */
  readonly bucketKeys: boolean;
  readonly bucketPolicy?: PolicyDocument;
  readonly keyPolicy?: PolicyDocument;
  /** Replication rules' destinations. */
  readonly replication: { bucket: string; account?: string }[];
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
/** The `aws:userid` of the verifier's sessions: a role id and a session name. */
const PROBE_USER_ID = 'AROAVERIFIERPROBE0000:verifier-probe';
/** The policy variables a key prefix may hold, as the verifier's sessions resolve them. */
const KEY_VARIABLES: Readonly<Record<string, string>> = { '${aws:userid}': PROBE_USER_ID };

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
  const known = new Set(principals.filter((p) => p.kind === 'role').map((p) => p.arn));
  for (const principal of principals) {
    cells[principal.name] = {};
    for (const z of zones) {
      const probes = probesOf.get(z) ?? [];
      // The two principals no template names are asked as every principal the zone's policies name
      // that is not a role of the assembly (anyone allowed to create it could), and as one no
      // policy names; each also without MFA, as an IAM user, with the tags the policies test.
      const asked =
        principal.kind === 'role'
          ? [principal]
          : namedPrincipals(principal, [z.bucketPolicy, z.keyPolicy], known, z.account);
      const rows: Record<string, Cell>[] = [];
      for (const p of asked) {
        for (const variant of variantsOf(p, z, origins)) rows.push(await zoneCells(p, z, probes, variant));
      }
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
    variant: Variant,
  ): Promise<Record<string, Cell>> {
    const row: Record<string, Cell> = {};
    const base = (origin: Origin | undefined) => ({
      principal: p.arn,
      resourceAccount: z.account,
      identityPolicies: p.identity,
      ...(p.boundary ? { boundary: p.boundary } : {}),
      context: { ...context(p, z, origin, organisation), ...variant },
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
          'kms:EncryptionContext:aws:s3:arn': z.bucketKeys
            ? z.bucketArn
            : `${z.bucketArn}/${probes[0].probe}`,
          // What the caller chose holds for the whole chain (a request through Athena is still one).
          ...variant,
        },
      });
    const distinct = new Map<string, string[]>();
    let decrypt: Promise<boolean> | undefined;
    let generate: Promise<boolean> | undefined;
    for (const origin of origins) {
      if (!origin.reachesS3) {
        row[origin.name] = { read: NONE, write: NONE };
        continue;
      }
      /** Per probe, whether any of the actions is allowed on it (asked in turn until one is). */
      const s3 = async (asked: string[], extra: Record<string, string> = {}) => {
        const key = `${asked.join()}\u0000${origins.indexOf(origin)}`;
        let actions = distinct.get(key);
        if (!actions) {
          actions = distinctActions(asked, [
            ...p.identity,
            ...(p.boundary ?? []),
            z.bucketPolicy,
            origin.endpoint?.policy,
          ]);
          distinct.set(key, actions);
        }
        const results: [string, boolean][] = [];
        let anywhere = false;
        for (const key of probes) {
          // One unlisted key allowed is access outside every named prefix: the other shapes add nothing.
          if (key.prefix === '' && anywhere) continue;
          const resource = `${z.bucketArn}/${key.probe}`;
          let ok = false;
          for (const action of actions) {
            if (ok || !mayAllow(p, z, action, resource)) continue;
            ok = await allowed(p, z, {
              ...base(origin),
              action,
              resource,
              ...(z.bucketPolicy ? { resourcePolicy: z.bucketPolicy } : {}),
              ...(origin.endpoint?.policy ? { endpointPolicy: origin.endpoint.policy } : {}),
              blockPublicAccess: z.blockPublicAccess,
              context: { ...base(origin).context, ...extra },
            });
          }
          if (key.prefix === '' && ok) anywhere = true;
          results.push([key.prefix, ok]);
        }
        return grantOf(results);
      };
      // A version of an object is read by its version id: either read counts.
      let read = await s3(['s3:GetObject', 's3:GetObjectVersion']);
      let write = await s3(['s3:PutObject'], {
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
    // A session's aws:PrincipalArn is its role's.
    'aws:PrincipalArn': p.arn.replace(
      /^arn:([^:]+):sts::([^:]+):assumed-role\/([^/]+)\/.*$/,
      'arn:$1:iam::$2:role/$3',
    ),
    'aws:PrincipalAccount': p.account,
    'aws:PrincipalOrgID': organisation,
    'aws:PrincipalType': 'AssumedRole',
    // The session's id, which a policy may name as a variable (an importer writes under its own).
    'aws:userid': PROBE_USER_ID,
    'aws:PrincipalIsAWSService': 'false',
    'aws:ResourceAccount': z.account,
    'aws:ResourceOrgID': organisation,
    'aws:SecureTransport': 'true',
    's3:TlsVersion': '1.3',
    'aws:ViaAWSService': 'false',
    ...(p.human ? { 'aws:MultiFactorAuthPresent': 'true', 'aws:MultiFactorAuthAge': '60' } : {}),
    ...(origin?.endpoint
      ? { 'aws:SourceVpce': origin.endpoint.id, 'aws:SourceVpc': origin.endpoint.vpc }
      : origin
        ? { 'aws:SourceIp': origin.sourceIp ?? OFF_NETWORK_IP }
        : {}),
  };
}

/** Values of context keys the verifier does not fix: the caller, or the path the request takes, chooses them. */
type Variant = Record<string, string | string[]>;
/**
 * Keys whose value follows from who asks, from where, and what the request is: the verifier sets
 * them. Every other key a condition tests (MFA, the kind of principal, its tags, the TLS version,
 * the user agent, the session name, the services a request came through...) is one a caller
 * chooses, and is asked both ways.
 */
const FIXED_KEYS = new Set([
  'aws:principalarn',
  'aws:principalaccount',
  'aws:principalorgid',
  'aws:principalisawsservice',
  'aws:resourceaccount',
  'aws:resourceorgid',
  'aws:securetransport',
  'aws:sourcevpce',
  'aws:sourcevpc',
  'aws:sourceip',
  's3:x-amz-server-side-encryption',
  's3:x-amz-server-side-encryption-aws-kms-key-id',
  'kms:viaservice',
  'kms:calleraccount',
  'kms:encryptioncontext:aws:s3:arn',
]);

/** The actions the matrix asks about. */
const ASKED = ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 'kms:Decrypt', 'kms:GenerateDataKey'];

/**
 * The requests as asked (MFA if people assume the role, an assumed role, TLS 1.3, not through
 * another service) and, when the policies test a key the caller chooses, twice more: with each
 * such key set to the first value a policy names (a pattern standing for a value it matches), and
 * with each set otherwise (true and false swapped, an IAM user, a value no policy names).
 */
function variantsOf(p: AccessPrincipal, z: Zone, origins: readonly Origin[]): Variant[] {
  const named = new Map<string, { key: string; value: string }>();
  for (const doc of [
    ...p.identity,
    ...(p.boundary ?? []),
    z.bucketPolicy,
    z.keyPolicy,
    ...origins.map((o) => o.endpoint?.policy),
  ]) {
    if (!doc) continue;
    for (const [lower, first] of chosenIn(doc)) if (!named.has(lower)) named.set(lower, first);
  }
  if (named.size === 0) return [{}];
  const asNamed: Variant = {};
  const otherwise: Variant = {};
  for (const [lower, { key, value }] of named) {
    asNamed[key] =
      lower.startsWith('aws:calledvia') && !lower.endsWith('first') && !lower.endsWith('last')
        ? [value]
        : value;
    otherwise[key] =
      value === 'true'
        ? 'false'
        : value === 'false'
          ? 'true'
          : lower === 'aws:principaltype'
            ? value === 'User'
              ? 'AssumedRole'
              : 'User'
            : /^\d+(\.\d+)?$/.test(value)
              ? String(Number(value) - 1)
              : `${value}-otherwise`;
  }
  return [{}, asNamed, otherwise];
}

/** The keys a document's conditions test that the verifier does not fix, each with the first value named (read once). */
const chosen = new WeakMap<PolicyDocument, Map<string, { key: string; value: string }>>();
function chosenIn(doc: PolicyDocument): Map<string, { key: string; value: string }> {
  let known = chosen.get(doc);
  if (!known) {
    known = new Map();
    for (const s of doc.Statement) {
      // Only statements about the requests the matrix makes; the TLS version only where it allows.
      if (!ASKED.some((action) => appliesTo(s, action))) continue;
      for (const pairs of Object.values(s.Condition ?? {})) {
        for (const [key, value] of Object.entries(pairs)) {
          const lower = key.toLowerCase();
          if (FIXED_KEYS.has(lower) || known.has(lower)) continue;
          if (lower === 's3:tlsversion' && s.Effect !== 'Allow') continue;
          known.set(lower, { key, value: (strings(value)[0] ?? 'x').replace(/[*?]/g, 'x') });
        }
      }
    }
    chosen.set(doc, known);
  }
  return known;
}

/**
 * The principals "another admin" or "another account" stands for in a zone: itself, and each
 * principal the zone's policies name (in Principal, or in an `aws:PrincipalArn` or
 * `aws:PrincipalAccount` condition) that is not a role of the assembly: of this account for the
 * admin, of another for the other account. A pattern stands for a name it matches.
 */
export function namedPrincipals(
  principal: AccessPrincipal,
  docs: readonly (PolicyDocument | undefined)[],
  known: ReadonlySet<string>,
  /** The account of the resource the policies guard: "another admin" is of it, "another account" not. */
  home: string,
): AccessPrincipal[] {
  const names = new Set<string>();
  const add = (value: unknown) => {
    for (const v of strings(value)) if (v !== '*') names.add(v);
  };
  for (const doc of docs) {
    for (const s of doc?.Statement ?? []) {
      for (const who of [s.Principal, (s as { NotPrincipal?: unknown }).NotPrincipal]) {
        if (typeof who === 'object' && who !== null) add((who as { AWS?: unknown }).AWS);
      }
      for (const pairs of Object.values(s.Condition ?? {})) {
        for (const [key, value] of Object.entries(pairs)) {
          if (/^aws:principal(arn|account)$/i.test(key)) add(value);
        }
      }
    }
  }
  const partition = /^arn:([^:]+):/.exec(principal.arn)?.[1] ?? 'aws';
  const sample = principal.arn.replace(/^arn:[^:]+:iam::[^:]+:/, '');
  const out = new Map<string, AccessPrincipal>([[principal.arn, principal]]);
  for (const name of names) {
    const account = /^\d{12}$/.test(name) ? name : /^arn:[^:]+:(?:iam|sts)::(\d{12}|[^:]+):/.exec(name)?.[1];
    if (!account) continue;
    const arn =
      /:root$/.test(name) || /^\d{12}$/.test(name)
        ? `arn:${partition}:iam::${account}:${sample}`
        : name.replace(/[*?]/g, 'x');
    const ours = account === home;
    if (known.has(arn) || (principal.kind === 'another-admin') !== ours) continue;
    out.set(arn, { ...principal, arn, account });
  }
  return [...out.values()];
}

/**
 * The actions that need asking: one that every statement of the policies names exactly when it
 * names another (as `s3:GetObject*` or two listed alike) would get the same answer.
 */
function distinctActions(actions: string[], docs: readonly (PolicyDocument | undefined)[]): string[] {
  const present = docs.filter((d): d is PolicyDocument => d !== undefined);
  return actions.filter(
    (action, i) =>
      i === 0 || !actions.slice(0, i).some((earlier) => present.every((d) => alike(d, earlier, action))),
  );
}

/** Per document and pair of actions: whether every statement names both or neither (read once). */
const alikeIn = new WeakMap<PolicyDocument, Map<string, boolean>>();
function alike(doc: PolicyDocument, a: string, b: string): boolean {
  let pairs = alikeIn.get(doc);
  if (!pairs) alikeIn.set(doc, (pairs = new Map<string, boolean>()));
  const key = `${a}\u0000${b}`;
  let known = pairs.get(key);
  if (known === undefined) {
    // A condition on the version id tells a read of a version from a read of the object.
    known =
      !/s3:versionid/i.test(JSON.stringify(doc.Statement.map((s) => s.Condition ?? {}))) &&
      doc.Statement.every((s) => appliesTo(s, a) === appliesTo(s, b));
    pairs.set(key, known);
  }
  return known;
}

/**
 * Whether any policy could allow the action at all (ignoring conditions): an identity statement
 * (same account) or a bucket-policy statement. When none can, the engine's answer is a deny and
 * the request is not made.
 */
function mayAllow(p: AccessPrincipal, z: Zone, action: string, resource: string): boolean {
  const identity = p.account === z.account && mayAllowIn(p.identity, action, resource);
  return (
    identity || (z.bucketPolicy?.Statement.some((s) => s.Effect === 'Allow' && appliesTo(s, action)) ?? false)
  );
}

/**
 * The object keys to ask about: one under each prefix a policy names in the zone (a grant or a
 * deny on `bucket/data-capture/*` makes `data-capture/` one), and one under none of them.
 */
function probeKeys(z: Zone, principals: readonly AccessPrincipal[]): { prefix: string; probe: string }[] {
  const docs = [...principals.flatMap((p) => [...p.identity, ...(p.boundary ?? [])]), z.bucketPolicy];
  const prefixes = new Set<string>();
  /** A prefix with a known policy variable, as named, to the key the verifier's sessions write. */
  const resolvedPrefix = new Map<string, string>();
  for (const doc of docs) {
    for (const s of doc?.Statement ?? []) {
      for (const res of [...strings(s.Resource), ...strings(s.NotResource)]) {
        if (!res.startsWith(`${z.bucketArn}/`)) continue;
        const key = res.slice(z.bucketArn.length + 1);
        const known = Object.keys(KEY_VARIABLES).find((v) => key.includes(v));
        const prefix = known
          ? key.slice(0, key.indexOf(known) + known.length) +
            key.slice(key.indexOf(known) + known.length).split(/[*?]|\$\{/)[0]
          : key.split(/[*?]|\$\{/)[0];
        if (!prefix) continue;
        prefixes.add(prefix);
        if (known) resolvedPrefix.set(prefix, prefix.replaceAll(known, KEY_VARIABLES[known]));
      }
    }
  }
  // Keys of several shapes under no named prefix (nested with a hyphen and a dot, top-level, bare),
  // when a pattern could tell them apart: a wildcard or `?` anywhere but at the end.
  const patterns = docs.flatMap((doc) =>
    (doc?.Statement ?? []).flatMap((s) =>
      [...strings(s.Resource), ...strings(s.NotResource)].filter(
        (res) => res.startsWith(`${z.bucketArn}/`) || /^arn:[^:]*:s3:::\*/.test(res) || res === '*',
      ),
    ),
  );
  const shapesDiffer = patterns.some((res) => /[*?]/.test(res.replace(/\*$/, '')));
  // With such patterns, also a key each of them matches (`*.parquet` gives `x.parquet`).
  const instances = patterns
    .filter((res) => res.startsWith(`${z.bucketArn}/`))
    .map((res) => res.slice(z.bucketArn.length + 1).replace(/[*?]/g, 'x'));
  const shapes = shapesDiffer
    ? [...new Set([`${PROBE}/object-1.csv`, 'o', 'a/b/c', ...instances])]
    : [`${PROBE}/object-1.csv`];
  const unlisted = shapes.flatMap((key) => {
    if (instances.includes(key) && [...prefixes].some((x) => key.startsWith(x))) return [];
    let probe = key;
    while ([...prefixes].some((x) => probe.startsWith(x))) probe = `_${probe}`;
    return [{ prefix: '', probe }];
  });
  return [
    ...unlisted,
    ...[...prefixes]
      .sort()
      .map((prefix) => ({ prefix, probe: `${resolvedPrefix.get(prefix) ?? prefix}${PROBE}` })),
  ];
}

/** results: [prefix, allowed], the unlisted probes (prefix '') first: any of them allowed is access outside every named prefix. */
function grantOf(results: [string, boolean][]): Grant {
  const anywhere = results.some(([prefix, ok]) => prefix === '' && ok);
  const named = results.filter(([prefix]) => prefix !== '');
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

/** What the synthetic principals are allowed everything by (their own account's policies). */
export const ADMIN_POLICY: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

/**
 * Whether a principal may assume a role: the engine decides sts:AssumeRole against the role's
 * trust policy, with MFA (the more permissive case).
 */
export async function mayAssume(
  p: AccessPrincipal,
  role: { arn: string; account: string; trust: PolicyDocument },
  organisation: string,
): Promise<Decision> {
  return evaluate({
    principal: p.arn,
    action: 'sts:AssumeRole',
    resource: role.arn,
    resourceAccount: role.account,
    identityPolicies: p.identity,
    ...(p.boundary ? { boundary: p.boundary } : {}),
    resourcePolicy: role.trust,
    context: {
      'aws:PrincipalArn': p.arn,
      'aws:PrincipalAccount': p.account,
      'aws:PrincipalOrgID': organisation,
      'aws:PrincipalType': 'AssumedRole',
      'aws:MultiFactorAuthPresent': 'true',
      'aws:MultiFactorAuthAge': '60',
      'aws:SecureTransport': 'true',
    },
  });
}

/**
 * Whether code in a segment can carry data to another account through one of the segment's S3
 * endpoints (a way out that passes no firewall): writing with this account's credentials into a
 * bucket that admits them, or with the other account's credentials into its own; or reading with
 * an outsider's credentials from any bucket the policy names (AWS's own included), the data in the
 * object key it asks for, which the outsider's trail records.
 */
export async function endpointLetsOut(
  endpoint: { id: string; vpc: string; policy?: PolicyDocument },
  account: string,
  otherAccount: string,
  organisation: string,
  partition: string,
  /** Buckets of the assembly: writing there stays in the account. */
  ownBuckets: ReadonlySet<string>,
): Promise<boolean> {
  // A bucket no policy names, and each bucket the endpoint policy names that is not the assembly's
  // (a pattern standing for a name it matches), but the one AWS keeps ECR's image layers in.
  const named = (endpoint.policy?.Statement ?? []).flatMap((s) =>
    [...strings(s.Resource), ...strings(s.NotResource)].flatMap((res) => {
      const m = /^arn:[^:]+:s3:::([^/]+)/.exec(res);
      return m ? [m[1].replace(/[*?]/g, 'x')] : [];
    }),
  );
  const buckets = [
    'bucket-of-another-account',
    ...new Set(named.filter((b) => !ownBuckets.has(b) && !/^prod-.+-starport-layer-bucket$/.test(b))),
  ];
  const variants: Variant[] = [{}];
  if (endpoint.policy) {
    const chosenHere = [...chosenIn(endpoint.policy).values()];
    if (chosenHere.length > 0)
      variants.push(Object.fromEntries(chosenHere.map(({ key, value }) => [key, value])));
  }
  /** One request through the endpoint, as `principalAccount` of `principalOrg`, to a bucket of `owner`. */
  const ask = (
    bucket: string,
    variant: Variant,
    request: {
      principalAccount: string;
      role: string;
      /** The bucket's policy admits the request (else only the caller's own rights count). */
      admitted: boolean;
      action?: string;
      owner?: string;
      principalOrg?: string;
    },
  ) => {
    const { principalAccount, role, admitted } = request;
    const { action = 's3:PutObject', owner = otherAccount, principalOrg = organisation } = request;
    const arn = `arn:${partition}:s3:::${bucket}`;
    return evaluate({
      principal: `arn:${partition}:iam::${principalAccount}:role/${role}`,
      action,
      resource: `${arn}/object`,
      resourceAccount: owner,
      identityPolicies: [ADMIN_POLICY],
      ...(admitted
        ? {
            resourcePolicy: {
              Statement: [{ Effect: 'Allow', Principal: '*', Action: action, Resource: `${arn}/*` }],
            },
          }
        : {}),
      ...(endpoint.policy ? { endpointPolicy: endpoint.policy } : {}),
      context: {
        'aws:PrincipalArn': `arn:${partition}:iam::${principalAccount}:role/${role}`,
        'aws:PrincipalAccount': principalAccount,
        'aws:PrincipalOrgID': principalOrg,
        'aws:ResourceAccount': owner,
        'aws:SourceVpce': endpoint.id,
        'aws:SourceVpc': endpoint.vpc,
        'aws:SecureTransport': 'true',
        ...variant,
      },
    });
  };
  for (const bucket of buckets) {
    for (const variant of variants) {
      // With this account's credentials into a bucket that admits them, or with the other account's into its own.
      // A request the engine cannot decide is no proof the way is closed.
      for (const [who, role, admitted] of [
        [account, 'another-admin', true],
        [otherAccount, 'another-account-admin', false],
      ] as const) {
        const decision = await ask(bucket, variant, { principalAccount: who, role, admitted });
        if (decision === 'Allowed' || decision.startsWith('error:')) return true;
      }
    }
  }
  // Reading, as an outsider, from every bucket the policy names: one it does not own, and, unless
  // AWS owns the name (ECR's layers, CodeArtifact's package files), one it owns.
  for (const bucket of new Set(['bucket-of-another-account', ...named.filter((b) => !ownBuckets.has(b))])) {
    const owners = awsOwnedBucket(bucket) ? [otherAccount] : [otherAccount, OUTSIDER_ACCOUNT];
    for (const owner of owners) {
      for (const variant of variants) {
        const decision = await ask(bucket, variant, {
          principalAccount: OUTSIDER_ACCOUNT,
          role: 'outsider',
          admitted: true,
          action: 's3:GetObject',
          owner,
          principalOrg: OUTSIDER_ORGANISATION,
        });
        if (decision === 'Allowed' || decision.startsWith('error:')) return true;
      }
    }
  }
  return false;
}

/** A bucket name only AWS can hold: ECR's image layers, CodeArtifact's package files (listed or mapped). */
function awsOwnedBucket(name: string): boolean {
  return (
    /^prod-.+-starport-layer-bucket$/.test(name) ||
    Object.values(CODEARTIFACT_ASSET_BUCKETS).includes(name) ||
    /^\{map:[^}]+\}$/.test(name)
  );
}

/** An account that is neither this one, the other one, nor any bucket's owner, in no organisation of ours. */
const OUTSIDER_ACCOUNT = '444455556666';
const OUTSIDER_ORGANISATION = 'o-outsider0000';
