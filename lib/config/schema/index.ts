/**
 * The blueprint's configuration schema, composed from one module per domain. Each domain module
 * holds its fields (with their descriptions and defaults), its cross-field rules and how its
 * section is resolved after validation; this module puts them together.
 */
import { z } from 'zod';
import { airlockFields, airlockSeparation } from './airlock';
import { alertEmailsOnce, auditFields } from './audit';
import { dataFields, resolveDataRetention } from './data';
import { detectiveFields } from './detective';
import {
  environmentFields,
  knownRegion,
  regionWithAccount,
  zoneNames,
  zonesWithAccount,
} from './environment';
import { codeSigningFields } from './code-signing';
import { identitiesFields, identityModel } from './identities';
import {
  apiSegment,
  apiSegmentHasExecuteApi,
  burstAtLeastRate,
  callerNamesOnce,
  inferenceApiFields,
  resolveInferenceApi,
} from './inference-api';
import { managedDomainListsWithAccount, networkFields, resolveDnsFirewall } from './network';
import {
  datasetNamesOnce,
  datasetsNeedPipeline,
  eachDataset,
  linkageGroups,
  pseudonymizationFields,
  resolvePseudonymization,
  stageSegment,
  stageSegmentHasItsEndpoints,
} from './pseudonymization';
import { acceptedRiskIdsOnce, reviewFields } from './review';
import type { CrossFieldRule } from './rules';
import {
  disjointRanges,
  eachSegment,
  isolationAclCapacity,
  segmentNamesOnce,
  segmentsFields,
  withKindDefaults,
} from './segments';

export { RETENTION_YEARS } from './audit';
export { DEFAULT_SEGMENTS, MAX_AZ_COUNT, MAX_ISOLATED_RANGES } from './segments';

/** What a config file may hold besides the configuration itself. */
const fileFields = {
  $schema: z
    .string()
    .optional()
    .describe(
      'The JSON Schema of the file, for editors (`./schema.json` from a file in `config/`): completion, descriptions and checks as you type. The blueprint ignores it.',
    ),
};

// The order of the keys is the order the file's problems are reported in, and that of the
// validated config's keys.
const baseSchema = z.strictObject({
  $schema: fileFields.$schema,
  namePrefix: environmentFields.namePrefix,
  environment: environmentFields.environment,
  organizationId: environmentFields.organizationId,
  networkProtection: networkFields.networkProtection,
  corporateCidrs: networkFields.corporateCidrs,
  audit: auditFields.audit,
  detectiveServices: detectiveFields.detectiveServices,
  dnsFirewall: networkFields.dnsFirewall,
  identities: identitiesFields.identities,
  codeSigning: codeSigningFields.codeSigning,
  airlock: airlockFields.airlock,
  dataRetention: dataFields.dataRetention,
  pseudonymization: pseudonymizationFields.pseudonymization,
  inferenceApi: inferenceApiFields.inferenceApi,
  segments: segmentsFields.segments,
  acceptedRisks: reviewFields.acceptedRisks,
});

type BaseConfig = z.output<typeof baseSchema>;

/** Every cross-field rule, in the order their problems are reported. */
export const CROSS_FIELD_RULES: readonly CrossFieldRule<BaseConfig>[] = [
  knownRegion,
  alertEmailsOnce,
  regionWithAccount,
  zonesWithAccount,
  managedDomainListsWithAccount,
  zoneNames,
  segmentNamesOnce,
  eachSegment,
  isolationAclCapacity,
  disjointRanges,
  stageSegment,
  stageSegmentHasItsEndpoints,
  datasetsNeedPipeline,
  datasetNamesOnce,
  eachDataset,
  linkageGroups,
  apiSegment,
  apiSegmentHasExecuteApi,
  burstAtLeastRate,
  callerNamesOnce,
  identityModel,
  airlockSeparation,
  acceptedRiskIdsOnce,
];

/** A domain of the configuration, as the configuration reference presents it. */
export interface ConfigDomain {
  readonly title: string;
  /** The top-level keys of the domain, in the order the reference lists them. */
  readonly keys: readonly (keyof BaseConfig)[];
  readonly rules: readonly CrossFieldRule<BaseConfig>[];
}

const keysOf = (fields: object) => Object.keys(fields) as (keyof BaseConfig)[];

export const CONFIG_DOMAINS: readonly ConfigDomain[] = [
  { title: 'The file', keys: keysOf(fileFields), rules: [] },
  {
    title: 'Environment',
    keys: keysOf(environmentFields),
    rules: [knownRegion, regionWithAccount, zonesWithAccount, zoneNames],
  },
  { title: 'Audit', keys: keysOf(auditFields), rules: [alertEmailsOnce] },
  { title: 'Detective services', keys: keysOf(detectiveFields), rules: [] },
  { title: 'Network', keys: keysOf(networkFields), rules: [managedDomainListsWithAccount] },
  {
    title: 'Segments',
    keys: keysOf(segmentsFields),
    rules: [segmentNamesOnce, eachSegment, isolationAclCapacity, disjointRanges],
  },
  { title: 'Identities', keys: keysOf(identitiesFields), rules: [identityModel] },
  { title: 'Code integrity', keys: keysOf(codeSigningFields), rules: [] },
  { title: 'Airlock', keys: keysOf(airlockFields), rules: [airlockSeparation] },
  { title: 'Data retention', keys: keysOf(dataFields), rules: [] },
  {
    title: 'Pseudonymization',
    keys: keysOf(pseudonymizationFields),
    rules: [
      stageSegment,
      stageSegmentHasItsEndpoints,
      datasetsNeedPipeline,
      datasetNamesOnce,
      eachDataset,
      linkageGroups,
    ],
  },
  {
    title: 'Inference API',
    keys: keysOf(inferenceApiFields),
    rules: [apiSegment, apiSegmentHasExecuteApi, burstAtLeastRate, callerNamesOnce],
  },
  { title: 'Review', keys: keysOf(reviewFields), rules: [acceptedRiskIdsOnce] },
];

/** The blueprint's configuration schema: every field has a default, so `{}` is the default blueprint. */
export const configSchema = baseSchema
  .superRefine((config, ctx) => {
    for (const rule of CROSS_FIELD_RULES) {
      for (const { path, message, value } of rule.check(config)) {
        ctx.addIssue({ code: 'custom', path, message, params: { value } });
      }
    }
  })
  .transform(({ $schema: _editorSchema, ...config }) => ({
    ...config,
    dnsFirewall: resolveDnsFirewall(config.dnsFirewall),
    dataRetention: resolveDataRetention(config.dataRetention),
    pseudonymization: resolvePseudonymization(config),
    inferenceApi: resolveInferenceApi(config),
    segments: config.segments.map(withKindDefaults),
  }));

export type BlueprintConfig = Readonly<z.output<typeof configSchema>>;
export type SegmentConfig = BlueprintConfig['segments'][number];
export type EnvironmentConfig = BlueprintConfig['environment'];
export type AuditConfig = BlueprintConfig['audit'];
export type DetectiveServicesConfig = BlueprintConfig['detectiveServices'];
export type PseudonymizationConfig = BlueprintConfig['pseudonymization'];
export type InferenceApiConfig = BlueprintConfig['inferenceApi'];
export type AirlockConfig = NonNullable<BlueprintConfig['airlock']>;
export type AcceptedRisk = BlueprintConfig['acceptedRisks'][number];
