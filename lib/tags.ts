/**
 * Tags the blueprint writes so that the verifier (and any other reader of the templates) can
 * recognise segments and subnet tiers without knowing our constructs.
 */
export const SEGMENT_TAG = 'ai-segmentation:segment';
export const SEGMENT_KIND_TAG = 'ai-segmentation:segment-kind';
export const SUBNET_TIER_TAG = 'ai-segmentation:subnet-tier';
export const BLUEPRINT_TAG = 'ai-segmentation:blueprint';
