import { matches } from '../../contract/pattern';

/** A statement of an IAM, bucket, topic, queue, key or log-group policy, resolved. */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

export { matches };

export const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
export const strings = (v: unknown) => list(v).map(String);

/** Action names compare without case. */
export const actionMatches = (granted: string, wanted: string) =>
  matches(granted.toLowerCase(), wanted.toLowerCase());

/** Whether a statement is about an action: its Action names it, or its NotAction does not. */
export const appliesTo = (s: Statement, action: string) =>
  s.NotAction !== undefined
    ? !strings(s.NotAction).some((a) => actionMatches(a, action))
    : strings(s.Action).some((a) => actionMatches(a, action));

/**
 * Whether some Allow statement of the documents could allow the action on the resource, conditions
 * aside (a pattern with a policy variable, or a NotResource, may cover it): when none can, the
 * answer is a deny without asking the engine.
 */
export const mayAllowIn = (
  docs: readonly { readonly Statement: readonly Statement[] }[],
  action: string,
  resource: string,
) =>
  docs.some((d) =>
    d.Statement.some(
      (s) =>
        s.Effect === 'Allow' &&
        appliesTo(s, action) &&
        (s.NotResource !== undefined ||
          strings(s.Resource).some((res) => res.includes('${') || matches(res, resource))),
    ),
  );
