import { RemovalPolicy } from 'aws-cdk-lib';

/**
 * How a stateful resource is kept. Always on deletion of its stack and on replacement; and a
 * resource whose name is fixed in advance is deleted when the very create that made it rolls
 * back (it can hold nothing yet), because a retained one would make the retried deploy fail with
 * "already exists". Resources with generated names are retained even then: a retry makes new ones.
 */
export function removalPolicyFor(fixedName: string | undefined): RemovalPolicy {
  return fixedName === undefined ? RemovalPolicy.RETAIN : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
}
