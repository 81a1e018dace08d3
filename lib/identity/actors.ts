import type { ZoneActor } from '../classification';
import type { BlueprintConfig } from '../config/schema';
import { roleName } from '../names';
import { SEGMENT_KIND_PROFILES, SEGMENT_KINDS, type SegmentKind } from '../segment-kinds';

function isSegmentKind(actor: ZoneActor): actor is SegmentKind {
  return (SEGMENT_KINDS as readonly string[]).includes(actor);
}

/** Role names of the blueprint (`${prefix}-${role}`, per segment `${prefix}-${segment}-${role}`). */
export const SAGEMAKER_ROLE = 'sagemaker';
export const INFERENCE_API_ROLE = 'inference-api';
export const PLATFORM_ADMIN_ROLE = 'platform-admin';
export const DATA_SCIENTIST_ROLE = 'data-scientist';
export const ML_ENGINEER_ROLE = 'ml-engineer';
export const AUDITOR_ROLE = 'auditor';
export const BREAK_GLASS_ROLE = 'break-glass';
export const LEGAL_HOLD_ROLE = 'legal-hold';
export const INGESTION_ROLE = 'ingestion';
export const PSEUDONYMIZATION_ROLE = 'pseudonymization';
/** The stage's range workflow (Step Functions): invokes the stage's function for each step of a run. */
export const PSEUDONYMIZATION_WORKFLOW_ROLE = 'pseudonymization-workflow';
/** Reads the stage's dead letters and re-sends their events; sees raw object keys, so a raw-zone actor. */
export const PIPELINE_OPERATOR_ROLE = 'pipeline-operator';
/** The airlock's roles: the people who import and review, its functions, its workflow, its scanner. */
export const AIRLOCK_IMPORTER_ROLE = 'airlock-importer';
export const AIRLOCK_REVIEWER_ROLE = 'airlock-reviewer';
export const AIRLOCK_DESK_ROLE = 'airlock-desk';
export const AIRLOCK_WORKER_ROLE = 'airlock-worker';
export const AIRLOCK_EXPORTER_ROLE = 'airlock-exporter';
export const AIRLOCK_WORKFLOW_ROLE = 'airlock-workflow';
export const AIRLOCK_SCANNER_ROLE = 'airlock-scanner';
export const AIRLOCK_EVENTS_ROLE = 'airlock-events';
/**
 * Who may ask the airlock for an export, and out of which zones: data scientists out of curated,
 * where their work is, ML engineers out of models; each only where the config lets exports come from.
 */
export function exportRequesters(
  config: Pick<BlueprintConfig, 'namePrefix' | 'airlock'>,
): Record<string, string[]> {
  const sources: readonly string[] = config.airlock?.export?.sources ?? [];
  const by: [string, string[]][] = [
    [DATA_SCIENTIST_ROLE, ['curated']],
    [ML_ENGINEER_ROLE, ['models']],
  ];
  return Object.fromEntries(
    by
      .map(([role, zones]): [string, string[]] => [
        roleName(config.namePrefix, role),
        zones.filter((z) => sources.includes(z)),
      ])
      .filter(([, zones]) => zones.length > 0),
  );
}

/** Assumed by ECR to create the image caches' repositories with the mirrors' key and tags. */
export const IMAGE_CACHE_ROLE = 'image-cache';

/**
 * The names of the roles that act as a zone actor (on `zone`, when given): a named role of the
 * blueprint, or the SageMaker execution role of every segment of a kind. Break-glass exists only
 * when enabled; the airlock's worker with an airlock, its exporter on the zones its export names.
 */
export function actorRoleNames(config: BlueprintConfig, actor: ZoneActor, zone?: string): string[] {
  const prefix = config.namePrefix;
  if (isSegmentKind(actor)) {
    return config.segments
      .filter((s) => s.kind === actor && SEGMENT_KIND_PROFILES[s.kind].sagemaker)
      .map((s) => roleName(prefix, SAGEMAKER_ROLE, s.name));
  }
  if (actor === 'break-glass') return config.identities.breakGlass.enabled ? [roleName(prefix, actor)] : [];
  if (actor === 'legal-hold') return [roleName(prefix, LEGAL_HOLD_ROLE)];
  if (actor === 'airlock') return config.airlock ? [roleName(prefix, AIRLOCK_WORKER_ROLE)] : [];
  if (actor === 'airlock-export') {
    const sources: readonly string[] = config.airlock?.export?.sources ?? [];
    return (zone === undefined ? sources.length > 0 : sources.includes(zone))
      ? [roleName(prefix, AIRLOCK_EXPORTER_ROLE)]
      : [];
  }
  return [roleName(prefix, actor)];
}
