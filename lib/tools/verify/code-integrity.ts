import type { Assembly } from './assembly';
import type { Evidence, Violation } from './invariants';
import { allResources, ofType, type Resolver } from './resolve';

/**
 * Code integrity (invariant 14): every Lambda function of the assembly, aws-cdk-lib's own
 * handlers included, names a code-signing configuration of the assembly, which admits only
 * signing profiles of the assembly. What Lambda does with unsigned code (`Warn` or `Enforce`) is
 * reported in the reviewer's summary, not judged: an offline synth cannot sign, so `Warn` is where
 * a deployment starts.
 */
export interface CodeIntegrity {
  readonly violations: Violation[];
  readonly evidence: Evidence[];
}

export function analyzeCodeIntegrity(assembly: Assembly, r: Resolver): CodeIntegrity {
  const resources = allResources(assembly);
  const violations: Violation[] = [];
  const evidence: Evidence[] = [];
  const profiles = new Set(
    ofType(resources, 'AWS::Signer::SigningProfile').map(({ stack, id }) => `${stack.id}/${id}`),
  );
  const configs = new Map<string, { stack: string; logicalId: string; foreign: string[] }>(
    ofType(resources, 'AWS::Lambda::CodeSigningConfig').map(({ stack, id, resource }) => {
      const publishers = (
        r.resolve(resource.Properties?.AllowedPublishers, stack) as { SigningProfileVersionArns?: unknown }
      )?.SigningProfileVersionArns;
      const named = (Array.isArray(publishers) ? publishers : [publishers]).map(String);
      const foreign = named.filter((arn) => {
        const at = /^att\|([^|]+)\|ProfileVersionArn$/.exec(arn)?.[1];
        return !at || !profiles.has(at);
      });
      return [`${stack.id}/${id}`, { stack: stack.id, logicalId: id, foreign }];
    }),
  );
  for (const c of configs.values()) {
    if (c.foreign.length > 0) {
      violations.push({
        invariant: 14,
        stack: c.stack,
        logicalId: c.logicalId,
        detail: `code-signing configuration admits publishers that are no signing profile of the assembly: ${c.foreign.join(', ')}`,
      });
    } else {
      evidence.push({
        invariant: 14,
        stack: c.stack,
        logicalId: c.logicalId,
        type: 'AWS::Lambda::CodeSigningConfig',
      });
    }
  }
  for (const { stack, id, resource } of ofType(resources, 'AWS::Lambda::Function')) {
    const where = { stack: stack.id, logicalId: id };
    const named = resource.Properties?.CodeSigningConfigArn;
    if (named === undefined) {
      violations.push({
        invariant: 14,
        ...where,
        detail:
          'function has no code-signing configuration: it runs whatever code anyone allowed to update it uploads',
      });
      continue;
    }
    const at = /^att\|([^|]+)\|CodeSigningConfigArn$/.exec(String(r.resolve(named, stack)))?.[1];
    if (!at || !configs.has(at)) {
      violations.push({
        invariant: 14,
        ...where,
        detail: `function names a code-signing configuration outside the assembly (${JSON.stringify(named)}), whose publishers cannot be read`,
      });
      continue;
    }
    evidence.push({ invariant: 14, ...where, type: 'AWS::Lambda::Function' });
  }
  return { violations, evidence };
}
