/**
 * What the blueprint and its offline tools share about the CDK bootstrap: the roles people assume
 * to deploy, the qualifier a cloud assembly names, and the permission boundary every role carries.
 */

/**
 * The roles of the CDK bootstrap that people (and pipelines) assume to deploy: the deploy role,
 * which starts CloudFormation with its execution role, the two asset publishing roles, and the
 * look-up role (`cdk diff` reads templates with it). CloudFormation's execution role is not one of
 * them: only CloudFormation assumes it.
 */
export const BOOTSTRAP_ROLES = ['deploy', 'file-publishing', 'image-publishing', 'lookup'] as const;

/** The CDK's default bootstrap qualifier. */
export const DEFAULT_QUALIFIER = 'hnb659fds';

/** The qualifier of the CDK bootstrap a cloud assembly's stacks name (their `BootstrapVersion` parameter). */
export function qualifierOf(templates: readonly object[]): string {
  for (const template of templates) {
    const parameters = (template as { Parameters?: Record<string, { Default?: unknown } | undefined> })
      .Parameters;
    const parameter = parameters?.BootstrapVersion;
    const found =
      typeof parameter?.Default === 'string'
        ? /^\/cdk-bootstrap\/([a-z0-9]+)\/version$/.exec(parameter.Default)
        : null;
    if (found) return found[1];
  }
  return DEFAULT_QUALIFIER;
}

/** The managed policy every role of the blueprint has as its permission boundary. */
export function boundaryPolicyName(prefix: string): string {
  return `${prefix}-permission-boundary`;
}
