import { Annotations, CfnDeletionPolicy, CfnResource, type IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { STATEFUL_RESOURCE_TYPES } from '../contract/stateful-types';

/**
 * Fails synth when a stateful resource would be deleted with its stack or on replacement:
 * every one must carry UpdateReplacePolicy Retain and DeletionPolicy Retain, or
 * RetainExceptOnCreate (deleted only when the create that made it rolls back, empty).
 */
export class StatefulRetentionCheck implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || !STATEFUL_RESOURCE_TYPES.has(node.cfnResourceType)) return;
    const { deletionPolicy, updateReplacePolicy } = node.cfnOptions;
    const retainedOnDelete =
      deletionPolicy === CfnDeletionPolicy.RETAIN ||
      deletionPolicy === CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE;
    if (!retainedOnDelete || updateReplacePolicy !== CfnDeletionPolicy.RETAIN) {
      Annotations.of(node).addError(
        `${node.cfnResourceType} must be retained: DeletionPolicy is ${deletionPolicy ?? 'Delete'} and ` +
          `UpdateReplacePolicy is ${updateReplacePolicy ?? 'Delete'}; expected Retain (or RetainExceptOnCreate) and Retain (set removalPolicy: RemovalPolicy.RETAIN)`,
      );
    }
  }
}
