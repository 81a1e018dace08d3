/**
 * The network vocabulary of the config (endpoint names, IPS rule categories, AWS managed threat
 * groups) and the defaults each segment kind starts from.
 */

/** Most domains an allowlist may hold: the allowlist rule group's capacity is fixed at creation. */
export const MAX_ALLOWLIST_DOMAINS = 200;

/** Interface endpoints the blueprint knows, by the name the config uses. */
export const INTERFACE_ENDPOINTS = [
  'sagemaker-api',
  'sagemaker-runtime',
  'sagemaker-notebook',
  'sagemaker-studio',
  'ecr-api',
  'ecr-dkr',
  'logs',
  'monitoring',
  'sts',
  'kms',
  'secretsmanager',
  'execute-api',
  'codeartifact-api',
  'codeartifact-repositories',
  'states',
] as const;
export type InterfaceEndpointName = (typeof INTERFACE_ENDPOINTS)[number];

/** The IDS/IPS rule categories, each maintained in its own Suricata file under rules/suricata/. */
export const IPS_CATEGORIES = [
  'crossSegment',
  'corporate',
  'plaintextProtocols',
  'externalDns',
  'nonTlsOn443',
] as const;
export type IpsCategory = (typeof IPS_CATEGORIES)[number];

/** drop: block and alert (IPS); alert: log only (IDS); off: rules not loaded. */
export const IPS_MODES = ['drop', 'alert', 'off'] as const;
export type IpsMode = (typeof IPS_MODES)[number];

/**
 * AWS managed stateful rule groups for strict-order policies (the config names them without the
 * `StrictOrder` suffix).
 */
export const MANAGED_THREAT_GROUPS = [
  'AttackInfrastructure',
  'ThreatSignaturesBotnet',
  'ThreatSignaturesBotnetWeb',
  'ThreatSignaturesBotnetWindows',
  'ThreatSignaturesDoS',
  'ThreatSignaturesEmergingEvents',
  'ThreatSignaturesExploits',
  'ThreatSignaturesIOC',
  'ThreatSignaturesMalware',
  'ThreatSignaturesMalwareCoinmining',
  'ThreatSignaturesMalwareWeb',
  'ThreatSignaturesPhishing',
  'ThreatSignaturesScanners',
  'ThreatSignaturesSuspect',
  'ThreatSignaturesWebAttacks',
  'AbusedLegitBotNetCommandAndControlDomains',
  'AbusedLegitMalwareDomains',
  'BotNetCommandAndControlDomains',
  'MalwareDomains',
] as const;
export type ManagedThreatGroup = (typeof MANAGED_THREAT_GROUPS)[number];

export const DEFAULT_MANAGED_THREAT_GROUPS: readonly ManagedThreatGroup[] = [
  'ThreatSignaturesBotnet',
  'ThreatSignaturesMalware',
  'ThreatSignaturesEmergingEvents',
  'BotNetCommandAndControlDomains',
  'MalwareDomains',
];

/** Prefix length of each firewall subnet and each public (NAT) subnet. */
export const FIREWALL_SUBNET_PREFIX = 28;
export const PUBLIC_SUBNET_PREFIX = 28;
