import { Annotations, CfnResource, TagManager, type IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { DATA_CLASSIFICATIONS, DATA_CLASSIFICATION_TAG } from '../contract/classification';
import { STATEFUL_RESOURCE_TYPES } from '../contract/stateful-types';

/**
 * Fails synth when a data-bearing resource has no DataClassification tag, or one outside the
 * classification model. Runs after the tag aspects (read-only priority).
 */
export class ClassificationCheck implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || !STATEFUL_RESOURCE_TYPES.has(node.cfnResourceType)) return;
    const value = TagManager.isTaggable(node) ? node.tags.tagValues()[DATA_CLASSIFICATION_TAG] : undefined;
    if (!(DATA_CLASSIFICATIONS as readonly string[]).includes(value ?? '')) {
      Annotations.of(node).addError(
        `${node.cfnResourceType} holds data but its ${DATA_CLASSIFICATION_TAG} tag is ${value === undefined ? 'missing' : `"${value}"`}; expected one of ${DATA_CLASSIFICATIONS.join(', ')} (classify() in lib/classification.ts)`,
      );
    }
  }
}
