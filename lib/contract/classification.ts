/**
 * The classification vocabulary the blueprint writes into templates and the verifier reads back:
 * the data classes, the data zones and the kinds of role. How each is controlled (`classify()`,
 * the zone controls) stays with the builder, in lib/classification.ts.
 */

/** The tag every data store carries; its value decides the store's controls. */
export const DATA_CLASSIFICATION_TAG = 'DataClassification';

export const DATA_CLASSIFICATIONS = ['phi', 'pii', 'proprietary', 'public'] as const;
export type DataClassification = (typeof DATA_CLASSIFICATIONS)[number];

/** The data zones of the AI lifecycle, by the short name that is part of their bucket names. */
export const DATA_ZONES = ['raw', 'curated', 'models', 'quarantine'] as const;
export type DataZone = (typeof DATA_ZONES)[number];

/**
 * The airlock's zone, present when the config has an airlock: uploads from outside wait there
 * for their scan and review. Only importers write it; nothing in it was held inside.
 */
export const AIRLOCK_IMPORT_ZONE = 'airlock-import';
/**
 * The airlock's export zone, present when the config has an airlock export: the workflow stages
 * there what a requester asked to send out, for review; only the workflow's exporter writes it.
 */
export const AIRLOCK_EXPORT_ZONE = 'airlock-export';
export type AirlockZone = typeof AIRLOCK_IMPORT_ZONE | typeof AIRLOCK_EXPORT_ZONE;

/** The values of the role-type tag: roles people assume (with MFA), and roles services assume. */
export const ROLE_TYPES = { human: 'human', service: 'service' } as const;
export type RoleType = (typeof ROLE_TYPES)[keyof typeof ROLE_TYPES];
