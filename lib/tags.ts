/**
 * Tags the blueprint writes so that the verifier (and any other reader of the templates) can
 * recognise segments and subnet tiers without knowing our constructs.
 */
export const SEGMENT_TAG = 'ai-segmentation:segment';
export const SEGMENT_KIND_TAG = 'ai-segmentation:segment-kind';
export const SUBNET_TIER_TAG = 'ai-segmentation:subnet-tier';
export const BLUEPRINT_TAG = 'ai-segmentation:blueprint';
/** On a VPC: `allowlist` when the segment may reach allowlisted internet domains through its firewall, else `none`. */
export const INTERNET_EGRESS_TAG = 'ai-segmentation:internet-egress';
/** On a data zone's bucket: the zone (`raw`, `curated`, `models`, `quarantine`). */
export const DATA_ZONE_TAG = 'ai-segmentation:data-zone';
/** On a role: what it is for (`pseudonymization`, `break-glass`, `sagemaker`, ...). */
export const ROLE_TAG = 'ai-segmentation:role';
/** On a role: `human` (assumed by people, with MFA) or `service`. */
export const ROLE_TYPE_TAG = 'ai-segmentation:role-type';
/**
 * Template metadata key of a network stack: `{ corporateCidrs: string[], declaredFlows: { from, to, ports? }[] }`,
 * the ranges no segment may reach and the flows the config declares (the only allowed exceptions).
 */
export const SEGMENTATION_METADATA_KEY = 'ai-segmentation';
