import type { Assembly } from './assembly';
import type { RuleGroup } from './firewall';
import {
  CONFIG_SOURCE_METADATA_KEY,
  type AcceptedRiskRecord,
  type SegmentationMetadata,
} from '../../contract/metadata';
import { BLUEPRINT_TAG, SEGMENT_TAG } from '../../contract/tags';
import { allResources, ofType, subscriptionCounts, tagsOf, type Resolver } from './resolve';

/** Where a report comes from: what a reviewer reads first, to know what was verified. */
export interface Provenance {
  /** The `ai-segmentation:blueprint` tag: the blueprint's name prefix. */
  readonly namePrefix: string;
  /** `account/region` of the stacks, or `environment-agnostic`. */
  readonly environment: string;
  /** The config the assembly was built from: as given with --config, and as the build recorded it. */
  readonly configSource: string;
  readonly commit: string;
  readonly generatedAt: string;
  readonly assemblyHash: string;
  readonly cloudAssemblySchema: string;
  readonly tools: Record<string, string>;
}

/** What the caller of `verify` knows and the templates do not. */
export interface ReportContext {
  readonly configSource?: string;
  /**
   * The corporate ranges and declared flows from the config the user names; without them the
   * verifier trusts what the builder wrote into the templates' metadata.
   */
  readonly declared?: SegmentationMetadata;
  /**
   * Each segment's egress allowlist from the config the user names: with it, internet egress
   * counts as a declared way out of a segment only for the domains the config lists.
   */
  readonly egressAllowlists?: Readonly<Record<string, readonly string[]>>;
  /** The config's accepted risks; without them, those the build recorded in the audit stack. */
  readonly acceptedRisks?: readonly AcceptedRiskRecord[];
  /** Whether the config enables the break-glass role (`identities.breakGlass.enabled`). */
  readonly breakGlassEnabled?: boolean;
  /** The account's organisation, from the config (`environment.organizationId`). */
  readonly organizationId?: string;
  /**
   * From the config: what each segment's IDS/IPS does with each rule category (`drop`, `alert`,
   * `off`), and the category of each rule, by sid (from the rule files). With them, the firewall
   * check also proves each loaded rule acts as its category's mode says.
   */
  readonly ips?: {
    readonly modes: Readonly<Record<string, Readonly<Record<string, string>>>>;
    readonly categoryOfSid: ReadonlyMap<number, string>;
  };
  /**
   * A CDK bootstrap template (parsed), with the file it came from: with it, the report adds the
   * administrative reach (who can change the blueprint's own policies, directly or through
   * CloudFormation).
   */
  readonly bootstrap?: { readonly template: unknown; readonly source: string };
  readonly commit?: string;
  readonly generatedAt?: string;
  readonly tools?: Record<string, string>;
}

/** The answers a reviewer asks for before any matrix. */
export interface ReviewerSummary {
  /** The internet domains each segment may reach (empty: no internet path). */
  readonly allowedDomains: Record<string, string[]>;
  /** What "corporate" means: the ranges no segment may reach. */
  readonly corporateRanges: string[];
  /** The retention of every log group, in days, with how many groups keep it. */
  readonly logRetentionDays: Record<string, number>;
  /** Each bucket with Object Lock: its default retention (mode and period), or none. */
  readonly objectLock: { bucket: string; defaultRetention: string }[];
  /** Which detective services the assembly turns on. */
  readonly detectiveServices: Record<
    'GuardDuty' | 'Security Hub' | 'AWS Config' | 'IAM Access Analyzer',
    boolean
  >;
  /** Each topic and its number of subscriptions. */
  readonly topicSubscriptions: Record<string, number>;
  /** Each code-signing configuration (`stack/id`) and what Lambda does with unsigned code (`Warn`, `Enforce`). */
  readonly codeSigning: Record<string, string>;
}

export function provenance(assembly: Assembly, context: ReportContext): Provenance {
  const prefixes = new Set(
    allResources(assembly).flatMap(({ resource }) => tagsOf(resource)[BLUEPRINT_TAG] ?? []),
  );
  const environments = new Set(
    assembly.stacks.map((s) =>
      !s.account || !s.region || s.account.startsWith('unknown-') || s.region.startsWith('unknown-')
        ? 'environment-agnostic'
        : `${s.account}/${s.region}`,
    ),
  );
  return {
    namePrefix: [...prefixes].sort().join(', ') || 'not tagged',
    environment: [...environments].sort().join(', '),
    configSource: configSource(assembly, context.configSource),
    commit: context.commit ?? 'unknown',
    generatedAt: context.generatedAt ?? new Date().toISOString(),
    assemblyHash: assembly.hash ?? 'not read from a directory',
    cloudAssemblySchema: assembly.schemaVersion ?? 'unknown',
    tools: { node: process.version, ...context.tools },
  };
}

/** The config named with --config, the one the build recorded, or both when they differ. */
function configSource(assembly: Assembly, given: string | undefined): string {
  const recorded = assembly.stacks
    .map((s) => s.template.Metadata?.[CONFIG_SOURCE_METADATA_KEY])
    .find((v): v is string => typeof v === 'string');
  if (given && recorded && given !== recorded) return `${given} (the build recorded ${recorded})`;
  if (given) return given;
  if (recorded) return `${recorded} (recorded by the build)`;
  return 'not recorded by the build, and not given with --config';
}

export function reviewerSummary(
  assembly: Assembly,
  r: Resolver,
  metadata: SegmentationMetadata,
): ReviewerSummary {
  const resources = allResources(assembly);
  const allowedDomains: Record<string, string[]> = {};
  for (const stack of assembly.stacks) {
    const own = resources.filter((x) => x.stack === stack);
    const segments = ofType(own, 'AWS::EC2::VPC').flatMap(
      ({ resource }) => tagsOf(resource)[SEGMENT_TAG] ?? [],
    );
    const domains = ofType(own, 'AWS::NetworkFirewall::RuleGroup').flatMap(({ resource }) => {
      const list = (r.resolve(resource.Properties?.RuleGroup, stack) as RuleGroup | undefined)?.RulesSource
        ?.RulesSourceList;
      return list?.GeneratedRulesType === 'ALLOWLIST' ? (list.Targets ?? []) : [];
    });
    for (const segment of segments)
      allowedDomains[segment] = [...(allowedDomains[segment] ?? []), ...domains];
  }
  const logRetentionDays: Record<string, number> = {};
  for (const { stack, resource } of ofType(resources, 'AWS::Logs::LogGroup')) {
    const value = r.resolve(resource.Properties?.RetentionInDays, stack);
    const days = value === undefined ? 'never expires' : JSON.stringify(value);
    logRetentionDays[days] = (logRetentionDays[days] ?? 0) + 1;
  }
  const objectLock = ofType(resources, 'AWS::S3::Bucket')
    .filter(({ stack, resource }) => r.resolve(resource.Properties?.ObjectLockEnabled, stack) === true)
    .map(({ stack, id, resource }) => {
      const rule = (
        r.resolve(resource.Properties?.ObjectLockConfiguration, stack) as
          { Rule?: { DefaultRetention?: { Mode?: string; Days?: number; Years?: number } } } | undefined
      )?.Rule?.DefaultRetention;
      const period = rule?.Years !== undefined ? `${rule.Years} years` : `${rule?.Days} days`;
      return {
        bucket: `${stack.id}/${id}`,
        defaultRetention: rule ? `${rule.Mode} ${period}` : 'none (holds only)',
      };
    });
  const has = (type: string) => ofType(resources, type).length > 0;
  const topicSubscriptions = Object.fromEntries(subscriptionCounts(resources, r));
  return {
    allowedDomains,
    corporateRanges: metadata.corporateCidrs ?? [],
    logRetentionDays,
    objectLock,
    detectiveServices: {
      GuardDuty: has('AWS::GuardDuty::Detector'),
      'Security Hub': has('AWS::SecurityHub::Hub'),
      'AWS Config': has('AWS::Config::ConfigurationRecorder'),
      'IAM Access Analyzer': has('AWS::AccessAnalyzer::Analyzer'),
    },
    topicSubscriptions,
    codeSigning: Object.fromEntries(
      ofType(resources, 'AWS::Lambda::CodeSigningConfig').map(({ stack, id, resource }) => {
        const policy = r.resolve(resource.Properties?.CodeSigningPolicies, stack) as
          { UntrustedArtifactOnDeployment?: unknown } | undefined;
        const untrusted = policy?.UntrustedArtifactOnDeployment;
        return [`${stack.id}/${id}`, typeof untrusted === 'string' ? untrusted : 'Warn'];
      }),
    ),
  };
}
