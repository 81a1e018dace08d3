import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultAppDir, readTemplateJson } from './default-app';
import type { Resource } from './template';

/** Stack ids of the default app by their CloudFormation stack names. */
function stackIdByName(): Map<string, string> {
  const manifest = JSON.parse(readFileSync(join(defaultAppDir(), 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { stackName?: string } }>;
  };
  return new Map(
    Object.entries(manifest.artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id, a]) => [a.properties?.stackName ?? id, id]),
  );
}

/** What a cross-stack value of the default app points at: the producing stack and logical id. */
export function target(value: unknown): { stack: string; id: string } {
  const output = (value as { 'Fn::GetStackOutput'?: { StackName: string; OutputName: string } })[
    'Fn::GetStackOutput'
  ];
  if (!output) throw new Error(`not a cross-stack value: ${JSON.stringify(value)}`);
  const stack = stackIdByName().get(output.StackName);
  if (!stack) throw new Error(`no stack named ${output.StackName}`);
  const outputs = (readTemplateJson(stack).Outputs ?? {}) as Record<string, { Value: unknown }>;
  const found = outputs[output.OutputName]?.Value as
    { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  if (!found) throw new Error(`${stack} has no output ${output.OutputName}`);
  return { stack, id: found.Ref ?? found['Fn::GetAtt']![0] };
}

/** The resource behind a cross-stack value. */
export function resourceOf(where: { stack: string; id: string }): Resource {
  return (readTemplateJson(where.stack).Resources as Record<string, Resource>)[where.id];
}
