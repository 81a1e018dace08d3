import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A CloudFormation resource as a template holds it. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface Template {
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  readonly Metadata?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

export interface StackTemplate {
  /** The artifact id (construct id of the stack). */
  readonly id: string;
  /** The CloudFormation stack name. */
  readonly stackName: string;
  readonly template: Template;
  /** The account and region the stack is bound to, when the app sets them. */
  readonly account?: string;
  readonly region?: string;
}

/** What the verifier reads: every stack template, and the rule packs' report when there is one. */
export interface Assembly {
  readonly stacks: readonly StackTemplate[];
  readonly validationReport?: unknown;
  /** The cloud assembly schema version of its manifest, when read from a directory. */
  readonly schemaVersion?: string;
  /** SHA-256 over the manifest and every stack template as read, when read from a directory. */
  readonly hash?: string;
}

/** The input cannot be read: the verifier exits 2. */
export class AssemblyError extends Error {
  override name = 'AssemblyError';
}

/** Reads a cloud assembly directory (`cdk.out`): its manifest, every stack template, the validation report. */
export function readAssembly(dir: string): Assembly {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new AssemblyError(
      `${dir}: no cloud assembly here (manifest.json is missing); run npx cdk synth first`,
    );
  }
  let manifest: {
    artifacts?: Record<
      string,
      { type: string; environment?: string; properties?: { templateFile?: string; stackName?: string } }
    >;
  };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
  } catch (err) {
    throw new AssemblyError(`${manifestPath}: not valid JSON (${(err as Error).message})`);
  }
  const stacks = Object.entries(manifest.artifacts ?? {})
    .filter(([, a]) => a.type === 'aws:cloudformation:stack')
    .map(([id, a]) => {
      const file = join(dir, a.properties?.templateFile ?? `${id}.template.json`);
      let template: Template;
      try {
        template = JSON.parse(readFileSync(file, 'utf8')) as Template;
      } catch (err) {
        throw new AssemblyError(
          `${file}: cannot read the template of stack ${id} (${(err as Error).message})`,
        );
      }
      // aws://<account>/<region>, with unknown-account / unknown-region when not bound.
      const [, account, region] = /^aws:\/\/([^/]+)\/(.+)$/.exec(a.environment ?? '') ?? [];
      return {
        id,
        stackName: a.properties?.stackName ?? id,
        template,
        ...(account && account !== 'unknown-account' ? { account } : {}),
        ...(region && region !== 'unknown-region' ? { region } : {}),
      };
    });
  if (stacks.length === 0) throw new AssemblyError(`${dir}: the cloud assembly holds no stack`);
  const reportPath = join(dir, 'validation-report.json');
  const validationReport = existsSync(reportPath)
    ? (JSON.parse(readFileSync(reportPath, 'utf8')) as unknown)
    : undefined;
  const digest = createHash('sha256').update(readFileSync(manifestPath));
  for (const stack of stacks) digest.update(stack.id).update(JSON.stringify(stack.template));
  return {
    stacks,
    validationReport,
    schemaVersion: (manifest as { version?: string }).version,
    hash: digest.digest('hex'),
  };
}
