import { Template } from 'aws-cdk-lib/assertions';
import type { Blueprint } from '../../lib/blueprint';

export type Resource = {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

/** The single resource of a type in a template; fails when there is not exactly one. */
export function only(template: Template, type: string, props?: Record<string, unknown>): [string, Resource] {
  const found = Object.entries(template.findResources(type, props ? { Properties: props } : undefined)) as [
    string,
    Resource,
  ][];
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

/** The statements of a policy document, as plain objects. */
export function statements(document: unknown): Record<string, unknown>[] {
  return (document as { Statement: Record<string, unknown>[] }).Statement;
}

/** The Resources section of a template, typed. */
export function resourcesOf(template: Template): Record<string, Resource> {
  return (template.toJSON() as { Resources: Record<string, Resource> }).Resources;
}

export function stackTemplates(blueprint: Blueprint): Record<string, Template> {
  return Object.fromEntries(
    [blueprint.audit, ...blueprint.networks.values()].map((stack) => [
      stack.node.id,
      Template.fromStack(stack),
    ]),
  );
}
