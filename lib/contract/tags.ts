/**
 * Tags the blueprint writes so that the verifier (and any other reader of the templates) can
 * recognise segments and subnet tiers without knowing our constructs. Part of the contract between
 * the builder and the verifier: nothing here imports aws-cdk-lib.
 */
export const SEGMENT_TAG = 'ai-segmentation:segment';
export const SEGMENT_KIND_TAG = 'ai-segmentation:segment-kind';
export const SUBNET_TIER_TAG = 'ai-segmentation:subnet-tier';
export const BLUEPRINT_TAG = 'ai-segmentation:blueprint';
/** On a VPC: `allowlist` when the segment may reach allowlisted internet domains through its firewall, else `none`. */
export const INTERNET_EGRESS_TAG = 'ai-segmentation:internet-egress';
/** The values of INTERNET_EGRESS_TAG. */
export const INTERNET_EGRESS = { allowlist: 'allowlist', none: 'none' } as const;
/** On a data zone's bucket: the zone (`raw`, `curated`, `models`, `quarantine`). */
export const DATA_ZONE_TAG = 'ai-segmentation:data-zone';
/** On a role: what it is for (`pseudonymization`, `break-glass`, `sagemaker`, ...). */
export const ROLE_TAG = 'ai-segmentation:role';
/** ROLE_TAG of the inference API's caller roles, one per consuming application. */
export const INFERENCE_CALLER_ROLE = 'inference-caller';
/** On a role: one of ROLE_TYPES (./classification), `human` (assumed by people, with MFA) or `service`. */
export const ROLE_TYPE_TAG = 'ai-segmentation:role-type';
/**
 * On a human role: who enforces the MFA of the people it trusts, `iam` (its trust requires
 * `aws:MultiFactorAuthPresent`) or `identity-provider` (their identity provider does; its trust
 * names them by `aws:PrincipalArn`).
 */
export const MFA_TAG = 'ai-segmentation:mfa';
